// Character counter: under every textarea with data-max-length, "已输入 120 / 5000 字" while typing, marked
// when over the limit. The texts come translated from the page (data-counter, data-counter-over with
// {count}, {max}, {over}); characters are counted as the server counts them (code points, a line break as one).
(function () {
  "use strict";

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  }

  function setup(area) {
    var max = parseInt(area.getAttribute("data-max-length"), 10);
    if (!max) { return; }
    var counter = document.createElement("span");
    counter.className = "char-counter hint";
    counter.id = (area.id || "text") + "-counter";
    counter.setAttribute("aria-live", "polite");
    area.parentNode.insertBefore(counter, area.nextSibling);
    var described = area.getAttribute("aria-describedby");
    area.setAttribute("aria-describedby", (described ? described + " " : "") + counter.id);

    function update() {
      var count = Array.from(area.value).length;
      var over = count - max;
      var template = over > 0 ? area.getAttribute("data-counter-over") : area.getAttribute("data-counter");
      counter.textContent = fill(template || "{count} / {max}", { count: count, max: max, over: over });
      counter.classList.toggle("over", over > 0);
    }

    area.addEventListener("input", update);
    update();
  }

  Array.prototype.forEach.call(document.querySelectorAll("textarea[data-max-length]"), setup);
})();

// Region picker: cascading selects (province → prefecture → county → …) over a plain text input that
// holds the region code. Without JavaScript the text input is used directly; with it, the input is
// hidden and kept in step with the deepest chosen select. Children come from /regions/children.
(function () {
  "use strict";

  function fetchChildren(url, parent) {
    var target = url + (parent ? "?parent=" + encodeURIComponent(parent) : "");
    return fetch(target, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("regions " + response.status); }
        return response.json();
      });
  }

  function setup(picker) {
    var input = picker.querySelector("input.region-code");
    if (!input) { return; }
    var url = picker.getAttribute("data-children-url");
    var placeholder = picker.getAttribute("data-placeholder") || "—";
    var wanted = (picker.getAttribute("data-path") || "").split("/").filter(Boolean);
    var selects = [];
    var box = document.createElement("div");
    box.className = "region-selects";
    picker.insertBefore(box, input);

    function truncate(level) {
      while (selects.length > level) { box.removeChild(selects.pop()); }
    }

    function currentCode() {
      for (var i = selects.length - 1; i >= 0; i--) {
        if (selects[i].value) { return selects[i].value; }
      }
      return "";
    }

    function addLevel(level, parent) {
      return fetchChildren(url, parent).then(function (regions) {
        truncate(level);
        if (!regions.length) { return; }
        var select = document.createElement("select");
        select.setAttribute("data-level", String(level));
        select.setAttribute("aria-label", picker.getAttribute("data-label-" + Math.min(level, 3)) || placeholder);
        var empty = document.createElement("option");
        empty.value = "";
        empty.textContent = placeholder;
        select.appendChild(empty);
        regions.forEach(function (region) {
          var option = document.createElement("option");
          option.value = region.code;
          option.textContent = region.name;
          select.appendChild(option);
        });
        select.addEventListener("change", function () { choose(level, select.value); });
        box.appendChild(select);
        selects.push(select);
        var next = wanted[level];
        if (next && select.querySelector('option[value="' + next + '"]')) {
          select.value = next;
          return addLevel(level + 1, next);
        }
        wanted = [];
      });
    }

    function choose(level, code) {
      wanted = [];
      truncate(level + 1);
      input.value = currentCode();
      picker.setAttribute("data-busy", "1");
      var done = function () { picker.removeAttribute("data-busy"); };
      if (!code) { done(); return; }
      addLevel(level + 1, code).then(done, function () { done(); });
    }

    addLevel(0, null).then(function () {
      input.hidden = true;
      picker.classList.add("enhanced");
      var name = picker.parentNode.querySelector(".region-name");
      if (name) { name.hidden = true; }
    }, function () {
      truncate(0);  // keep the plain text input when the regions cannot be loaded
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll(".region-picker"), setup);
})();

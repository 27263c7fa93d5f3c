// Region picker: cascading selects (province → prefecture → county → town → village, as deep as the hub holds
// places: a county without towns ends the chain) over a plain text input that
// holds the region code. Without JavaScript the text input is used directly; with it, the input is
// hidden at once and kept in step with the deepest chosen select. Children come from /regions/children.
//
// A form sent back after a refused submit carries the chosen code's chain in data-path: the selects are
// rebuilt with that chain of names selected, and the code box never shows meanwhile (the server-rendered
// name stands in while the levels load). A code the hub does not know (no chain) is dropped from the hidden
// input, so what is sent is what the selects show. Only when the regions cannot be loaded at all does the
// plain code input come back. ``data-busy`` is set while levels load (tests wait on it).
// window.HubRegionPicker.setup(picker) sets up a picker added later (cases.js: an added party).
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
    if (!input || picker.getAttribute("data-picker-ready")) { return; }
    picker.setAttribute("data-picker-ready", "1");
    var url = picker.getAttribute("data-children-url");
    var placeholder = picker.getAttribute("data-placeholder") || "—";
    var wanted = (picker.getAttribute("data-path") || "").split("/").filter(Boolean);
    var name = picker.parentNode.querySelector(".region-name");
    var selects = [];
    var box = document.createElement("div");
    box.className = "region-selects";
    picker.insertBefore(box, input);

    // from the start: the selects (or, while they load, the name) stand for the code
    input.hidden = true;
    picker.setAttribute("data-busy", "1");
    if (!wanted.length && input.value) { input.value = ""; }  // an unknown code: nothing chosen

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
        select.setAttribute("aria-label", picker.getAttribute("data-label-" + Math.min(level, 4)) || placeholder);
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

    function done() { picker.removeAttribute("data-busy"); }

    function choose(level, code) {
      wanted = [];
      truncate(level + 1);
      input.value = currentCode();
      if (name) { name.hidden = true; }
      picker.setAttribute("data-busy", "1");
      if (!code) { done(); return; }
      addLevel(level + 1, code).then(done, done);
    }

    addLevel(0, null).then(function () {
      picker.classList.add("enhanced");
      if (name) { name.hidden = true; }
      done();
    }, function () {
      if (selects.length) {  // a deeper level failed: keep what was built, the code stays as it was
        picker.classList.add("enhanced");
      } else {  // no regions at all: back to the plain code input
        input.hidden = false;
      }
      done();
    });
  }

  window.HubRegionPicker = { setup: setup };
  Array.prototype.forEach.call(document.querySelectorAll(".region-picker"), setup);
})();

// Case pages. Conclusion form: the agreement's amount, terms and performance are shown (and sent) only when
// the outcome is an agreement. Registration: "添加当事人" adds a party fieldset (a clean copy of the last
// one, renumbered); added ones can be removed again. Runs before region-picker.js so the copy is taken before the region
// selects are built; a copy's picker is set up through window.HubRegionPicker when that script offers it,
// otherwise the copy keeps the plain region-code input (which the server accepts as well).
(function () {
  "use strict";

  var outcome = document.querySelector("select[name='conclude-outcome']");
  if (outcome) {
    var agreementOnly = ["agreement_amount_yuan", "terms", "performed", "agreement_form"].map(function (name) {
      return outcome.form.querySelector(".field[data-field='" + name + "']");
    }).filter(Boolean);
    var terms = outcome.form.querySelector(".field[data-field='terms']");
    var sync = function () {
      var agreement = outcome.value === "agreement";
      agreementOnly.forEach(function (field) {
        field.hidden = !agreement;
        Array.prototype.forEach.call(field.querySelectorAll("input, select, textarea"), function (el) {
          el.disabled = !agreement;
        });
      });
      if (terms) {  // an agreement needs its terms: marked required (the form is novalidate: the server says why)
        terms.classList.toggle("is-required", agreement);
        var box = terms.querySelector("textarea");
        if (box) { box.setAttribute("aria-required", agreement ? "true" : "false"); }
      }
    };
    outcome.addEventListener("change", sync);
    sync();
  }
})();

// The case page's actions: one form open at a time. The <details> share a name (exclusive where the browser
// knows it); for the others, opening one closes the rest here.
(function () {
  "use strict";

  var panels = document.querySelectorAll(".case-actions details.action");
  Array.prototype.forEach.call(panels, function (panel) {
    panel.addEventListener("toggle", function () {
      if (!panel.open) { return; }
      Array.prototype.forEach.call(panels, function (other) {
        if (other !== panel && other.open) { other.open = false; }
      });
    });
  });
})();

(function () {
  "use strict";

  var list = document.querySelector(".party-list");
  var addButton = document.querySelector("button.add-party");
  if (!list || !addButton) { return; }

  var FIXED = 2;  // the applicant and respondent fieldsets the page always has
  var filled = list.querySelectorAll("fieldset.party:not(.spare)");
  if (!filled.length) { return; }
  // a clean copy for when the spare fieldsets run out (taken before region-picker.js builds selects)
  var pristine = filled[filled.length - 1].cloneNode(true);

  function each(nodes, fn) { Array.prototype.forEach.call(nodes, fn); }

  function clean(node) {
    each(node.querySelectorAll(".field-error, .region-name, .region-selects"), function (el) {
      el.parentNode.removeChild(el);
    });
    each(node.querySelectorAll(".has-error"), function (el) { el.classList.remove("has-error"); });
    each(node.querySelectorAll("input, select, textarea"), function (el) {
      el.removeAttribute("aria-invalid");
      el.removeAttribute("aria-describedby");
      el.hidden = false;
      if (el.tagName === "SELECT") { el.selectedIndex = 0; } else { el.value = ""; }
    });
    each(node.querySelectorAll(".region-picker"), function (el) {
      el.setAttribute("data-path", "");
      el.classList.remove("enhanced");
    });
    each(node.querySelectorAll("details.party-more"), function (el) { el.open = false; });
  }
  clean(pristine);

  function indexOf(fieldset) {
    return parseInt(fieldset.getAttribute("data-party-index"), 10) || 0;
  }

  function renumber(node, from, to) {
    var pattern = new RegExp("^parties-" + from + "-");
    var replacement = "parties-" + to + "-";
    ["name", "id", "for"].forEach(function (attr) {
      each(node.querySelectorAll("[" + attr + "]"), function (el) {
        el.setAttribute(attr, el.getAttribute(attr).replace(pattern, replacement));
      });
    });
    node.setAttribute("data-party-index", String(to));
  }

  function shown() {
    return Array.prototype.filter.call(list.querySelectorAll("fieldset.party"), function (f) { return !f.hidden; });
  }

  function relabel() {
    shown().forEach(function (fieldset, position) {
      var number = fieldset.querySelector(".party-number");
      if (number) { number.textContent = String(position + 1); }
      var remove = fieldset.querySelector("button.remove-party");
      if (remove) { remove.hidden = position < FIXED; }
    });
  }

  function cloneParty() {
    var next = 0;
    each(list.querySelectorAll("fieldset.party"), function (f) { next = Math.max(next, indexOf(f) + 1); });
    var copy = pristine.cloneNode(true);
    renumber(copy, indexOf(pristine), next);
    list.appendChild(copy);
    var picker = copy.querySelector(".region-picker");
    if (picker && window.HubRegionPicker && typeof window.HubRegionPicker.setup === "function") {
      window.HubRegionPicker.setup(picker);
    }
    return copy;
  }

  function addParty() {
    var party = list.querySelector("fieldset.party.spare[hidden]");
    if (party) {
      party.hidden = false;
      party.disabled = false;
      party.classList.remove("spare");
      list.appendChild(party);  // after any party shown before it
    } else {
      party = cloneParty();
    }
    relabel();
    var first = party.querySelector("select, input");
    if (first) { first.focus(); }
  }

  list.addEventListener("click", function (event) {
    var button = event.target.closest("button.remove-party");
    if (!button) { return; }
    var fieldset = button.closest("fieldset.party");
    if (fieldset && shown().length > FIXED) {
      list.removeChild(fieldset);
      relabel();
    }
  });

  addButton.hidden = false;
  addButton.addEventListener("click", addParty);
  relabel();
})();

// Registration: a party's particulars for the documents are of one kind only: 性别, 民族 and 职业 for a natural
// person, 法定代表人 for an organisation. The others are hidden and disabled (so not sent) for the chosen kind;
// without scripts all are shown, and the server says which one does not fit.
(function () {
  "use strict";

  var list = document.querySelector(".party-list");
  if (!list) { return; }
  var ONLY = {gender: "person", ethnicity: "person", occupation: "person", representative: "organization"};

  function sync(fieldset) {
    var kind = fieldset.querySelector("select[name$='-kind']");
    if (!kind) { return; }
    Object.keys(ONLY).forEach(function (name) {
      var field = fieldset.querySelector(".party-more .field[data-field='" + name + "']");
      if (!field) { return; }
      var fits = kind.value === ONLY[name];
      field.hidden = !fits;
      Array.prototype.forEach.call(field.querySelectorAll("input, select"), function (el) { el.disabled = !fits; });
    });
  }

  Array.prototype.forEach.call(list.querySelectorAll("fieldset.party"), sync);
  list.addEventListener("change", function (event) {
    if (event.target.matches("select[name$='-kind']")) { sync(event.target.closest("fieldset.party")); }
  });
  // a fieldset shown or copied by "添加当事人" is set up too
  new MutationObserver(function () {
    Array.prototype.forEach.call(list.querySelectorAll("fieldset.party"), sync);
  }).observe(list, {childList: true});
})();

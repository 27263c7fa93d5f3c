// Steps that cannot be undone (办结, 不予受理, 退回转办) ask before they are sent. A form carrying
// data-confirm-title opens a <dialog> listing what will be recorded (each filled, shown field: its label and value)
// with a confirm button and a back button. Every text comes from the page (data-confirm-title, -yes, -no, -lead),
// so it is translated there. Without this script, or without <dialog>, the form submits as it always did.
(function () {
  "use strict";

  var forms = document.querySelectorAll("form[data-confirm-title]");
  if (!forms.length || typeof HTMLDialogElement !== "function") { return; }

  function make(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text) { node.textContent = text; }
    return node;
  }

  var dialog = make("dialog", "confirm-dialog");
  dialog.setAttribute("aria-labelledby", "confirm-dialog-title");
  var title = make("h2");
  title.id = "confirm-dialog-title";
  var lead = make("p", "confirm-lead");
  var summary = make("dl", "facts confirm-summary");
  var buttons = make("div", "actions");
  var yes = make("button", "primary confirm-yes");
  var no = make("button", "confirm-no");
  yes.type = "button";
  no.type = "button";
  buttons.appendChild(yes);
  buttons.appendChild(no);
  [title, lead, summary, buttons].forEach(function (node) { dialog.appendChild(node); });
  document.body.appendChild(dialog);

  var pending = null;  // the form (and the button that sent it) waiting for an answer

  function labelOf(field, control) {
    var label = field.querySelector("label");
    return control.getAttribute("data-confirm-label") || (label ? label.textContent.trim() : control.name);
  }

  function valueOf(control) {
    if (control.tagName === "SELECT") {
      var option = control.options[control.selectedIndex];
      return option ? option.text.trim() : "";
    }
    var value = control.value.trim();
    var unit = control.getAttribute("data-unit");
    if (value && unit) {
      if (/^\d+(\.\d{1,2})?$/.test(value)) { value = Number(value).toFixed(2); }
      value += " " + unit;
    }
    return value;
  }

  function fill(form) {
    title.textContent = form.getAttribute("data-confirm-title");
    lead.textContent = form.getAttribute("data-confirm-lead") || "";
    yes.textContent = form.getAttribute("data-confirm-yes") || form.getAttribute("data-confirm-title");
    no.textContent = form.getAttribute("data-confirm-no") || "";
    while (summary.firstChild) { summary.removeChild(summary.firstChild); }
    Array.prototype.forEach.call(form.querySelectorAll(".field"), function (field) {
      if (field.hidden) { return; }
      var control = field.querySelector("select, textarea, input:not([type='hidden'])");
      if (!control || control.disabled) { return; }
      var value = valueOf(control);
      if (!value) { return; }
      var row = make("div", "confirm-row");
      row.setAttribute("data-field", field.getAttribute("data-field") || control.name);
      row.appendChild(make("dt", null, labelOf(field, control)));
      row.appendChild(make("dd", null, value));
      summary.appendChild(row);
    });
  }

  function close() {
    var back = pending && (pending.submitter || pending.form.querySelector("button[type='submit']"));
    pending = null;
    if (dialog.open) { dialog.close(); }
    if (back) { back.focus(); }
  }

  Array.prototype.forEach.call(forms, function (form) {
    form.addEventListener("submit", function (event) {
      if (form.getAttribute("data-confirmed") === "yes") {
        form.removeAttribute("data-confirmed");
        return;  // answered: let it go
      }
      event.preventDefault();
      pending = { form: form, submitter: event.submitter || null };
      fill(form);
      dialog.showModal();
      no.focus();  // the safe choice first: Enter does not record by accident
    });
  });

  yes.addEventListener("click", function () {
    if (!pending) { return; }
    var form = pending.form;
    var submitter = pending.submitter;
    pending = null;
    dialog.close();
    form.setAttribute("data-confirmed", "yes");
    yes.disabled = true;  // one press records once
    if (typeof form.requestSubmit === "function") {
      form.requestSubmit(submitter || undefined);
    } else {
      form.submit();
    }
  });
  no.addEventListener("click", close);
  dialog.addEventListener("cancel", function (event) {  // Escape: the same as 返回修改
    event.preventDefault();
    close();
  });
  window.addEventListener("pageshow", function () { yes.disabled = false; });
})();

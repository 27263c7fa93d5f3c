// Studio form: the lead mediator list shows only mediators of the chosen host organisation.
// The server checks the same rule; this only saves the user a wrong choice.
(function () {
  "use strict";
  var form = document.querySelector("form.studio-form");
  if (!form) { return; }
  var org = form.querySelector("select[name=organization_id]");
  var lead = form.querySelector("select[name=lead_mediator_id]");
  if (!org || !lead) { return; }

  function sync() {
    Array.prototype.forEach.call(lead.options, function (option) {
      var owner = option.getAttribute("data-organization");
      var visible = !owner || !org.value || owner === org.value;
      option.hidden = !visible;
      option.disabled = !visible;
    });
    var chosen = lead.options[lead.selectedIndex];
    if (chosen && chosen.disabled) { lead.value = ""; }
  }

  org.addEventListener("change", sync);
  sync();
})();

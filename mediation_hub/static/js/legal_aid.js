// Legal-aid forms: the exempt group only matters when the hardship is "exempt" (arts. 32, 42), and a
// refusal needs written reasons. Without JavaScript every field stays visible and the server judges.
(function () {
  "use strict";

  function bindHardship(form) {
    var group = form.querySelector("select[name=exempt_group]");
    var radios = form.querySelectorAll("input[name=hardship]");
    if (!group || !radios.length) { return; }
    var field = group.closest(".field");
    function sync() {
      var chosen = form.querySelector("input[name=hardship]:checked");
      var exempt = !!chosen && chosen.value === "exempt";
      group.disabled = !exempt;
      if (field) { field.classList.toggle("la-hidden", !exempt); }
    }
    Array.prototype.forEach.call(radios, function (radio) { radio.addEventListener("change", sync); });
    sync();
  }

  function bindDecision(form) {
    var reason = form.querySelector("textarea[name='decide-reason']");
    var radios = form.querySelectorAll("input[name='decide-decision']");
    if (!reason || !radios.length) { return; }
    function sync() {
      var chosen = form.querySelector("input[name='decide-decision']:checked");
      reason.required = !!chosen && chosen.value === "refuse";
    }
    Array.prototype.forEach.call(radios, function (radio) { radio.addEventListener("change", sync); });
    sync();
  }

  Array.prototype.forEach.call(document.querySelectorAll("form.la-filing"), bindHardship);
  Array.prototype.forEach.call(document.querySelectorAll("#decide-form"), bindDecision);
})();

// Every form of the hub is checked by the server, which shows its messages in Chinese beside each field.
// The browser's own checks (required, pattern, type) would stop the submit with a pop-up in the browser's
// language instead: they are switched off on every form of the page (templates also say novalidate).
(function () {
  "use strict";
  Array.prototype.forEach.call(document.forms, function (form) { form.noValidate = true; });
})();

// The progress pages of background jobs (imports, exports): poll the job's status URL once a second, hand each
// answer to the page's ``show``, and when the job has finished reload the page, which then shows the outcome.
(function () {
  "use strict";

  window.hubPollJob = function (url, show) {
    function poll() {
      fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
        .then(function (response) {
          if (!response.ok) {
            throw new Error("status " + response.status);
          }
          return response.json();
        })
        .then(function (job) {
          show(job);
          if (job.finished) {
            window.setTimeout(function () { window.location.reload(); }, 300);
          } else {
            window.setTimeout(poll, 1000);
          }
        })
        .catch(function () {
          window.setTimeout(poll, 3000);  // a passing network error: try again a little later
        });
    }

    window.setTimeout(poll, 300);
  };
})();

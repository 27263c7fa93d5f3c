// Import progress page: poll the job's status once a second, move the progress bar and the counts, and when
// the import has finished reload the page, which then shows the summary, the failed rows and the report link.
(function () {
  "use strict";

  var box = document.getElementById("import-job");
  if (!box || box.getAttribute("data-finished") === "1") {
    return;
  }
  var url = box.getAttribute("data-status-url");
  var bar = document.getElementById("import-bar");
  var percent = document.getElementById("import-percent");
  var status = document.getElementById("import-status");
  var counts = ["processed", "imported", "skipped", "failed"];

  function show(job) {
    var value = Math.round((job.finished ? 1 : job.progress) * 100);
    if (!job.finished && job.progress === 0 && job.processed_rows > 0) {
      // a workbook that does not state its size: rows are moving but the share is unknown
      bar.removeAttribute("value");
      percent.textContent = job.processed_rows + " 行";
    } else {
      bar.value = value;
      percent.textContent = value + "%";
    }
    bar.textContent = value + "%";
    status.textContent = job.status_label;
    counts.forEach(function (name) {
      var key = name === "processed" ? "processed_rows" : name;
      document.getElementById("import-" + name).textContent = job[key];
    });
  }

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
          window.setTimeout(function () { window.location.reload(); }, 400);
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () {
        window.setTimeout(poll, 3000);  // a passing network error: try again a little later
      });
  }

  window.setTimeout(poll, 300);
})();

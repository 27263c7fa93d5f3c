// Import progress page: move the progress bar and the counts as the job advances (job-progress.js polls and
// reloads the page when the import has finished, which then shows the summary, the failed rows and the report).
(function () {
  "use strict";

  var box = document.getElementById("import-job");
  if (!box || box.getAttribute("data-finished") === "1") {
    return;
  }
  var url = box.getAttribute("data-status-url");
  var rowsUnit = box.getAttribute("data-rows-unit") || "";  // "行", translated by the page
  var bar = document.getElementById("import-bar");
  var percent = document.getElementById("import-percent");
  var status = document.getElementById("import-status");
  var counts = ["processed", "imported", "skipped", "failed"];

  function show(job) {
    var value = Math.round((job.finished ? 1 : job.progress) * 100);
    if (!job.finished && job.progress === 0 && job.processed_rows > 0) {
      // a workbook that does not state its size: rows are moving but the share is unknown
      bar.removeAttribute("value");
      percent.textContent = job.processed_rows + " " + rowsUnit;
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

  window.hubPollJob(url, show);
})();

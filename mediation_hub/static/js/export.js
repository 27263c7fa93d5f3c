// Export progress page: move the progress bar and the row count as the job advances (job-progress.js polls and
// reloads the page when the export has finished, which then shows the download link, or why it failed).
(function () {
  "use strict";

  var box = document.getElementById("export-job");
  if (!box || box.getAttribute("data-finished") === "1") {
    return;
  }
  var url = box.getAttribute("data-status-url");
  var bar = document.getElementById("export-bar");
  var percent = document.getElementById("export-percent");
  var status = document.getElementById("export-status");
  var rows = document.getElementById("export-rows");

  function show(job) {
    var value = Math.floor((job.finished ? 1 : job.progress) * 100);
    bar.value = value;
    bar.textContent = value + "%";
    percent.textContent = value + "%";
    status.textContent = job.status_label;
    rows.textContent = job.rows_written;
  }

  window.hubPollJob(url, show);
})();

/* 统计看板: draws the dashboard's charts with Apache ECharts (served by the hub itself) from the JSON block
   #dashboard-data. Every chart has a table under it with the same numbers, so nothing depends on this. */
(function () {
  "use strict";

  var source = document.getElementById("dashboard-data");
  if (!source || typeof window.echarts === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var charts = [];
  var palette = ["#0b69a3", "#1e7d32", "#b45309", "#b42318", "#616e7c"];

  function base(labels, rotate) {
    return {
      color: palette,
      // Drawn by ECharts on the canvas: the HTML tooltip writes inline style attributes, which the hub's
      // Content-Security-Policy (style-src 'self') refuses.
      tooltip: { trigger: "axis", renderMode: "richText" },
      legend: { top: 0 },
      grid: { left: 48, right: 48, top: 36, bottom: rotate ? 72 : 32, containLabel: true },
      xAxis: { type: "category", data: labels, axisLabel: { interval: 0, rotate: rotate ? 30 : 0 } }
    };
  }

  function countsAndRate(series, kind) {
    var rotate = series.labels.length > 6;
    var option = base(series.labels, rotate);
    option.yAxis = [
      { type: "value", name: "件", minInterval: 1 },
      { type: "value", name: "成功率 %", min: 0, max: 100 }
    ];
    option.series = [
      { name: "登记", type: kind, data: series.received },
      { name: "办结", type: kind, data: series.concluded },
      { name: "达成协议", type: kind, data: series.agreement },
      { name: "调解成功率 %", type: "line", yAxisIndex: 1, data: series.success_rate, connectNulls: false }
    ];
    return option;
  }

  function flows(series) {
    var option = base(series.labels, series.labels.length > 4);
    option.yAxis = { type: "value", name: "件", minInterval: 1 };
    option.series = [
      { name: "接收", type: "bar", stack: "outcome", data: series.accepted },
      { name: "退回", type: "bar", stack: "outcome", data: series.declined },
      { name: "超期", type: "bar", stack: "outcome", data: series.expired },
      { name: "待答复", type: "bar", stack: "outcome", data: series.pending }
    ];
    return option;
  }

  function draw(id, option) {
    var element = document.getElementById(id);
    if (!element) {
      return;
    }
    var chart = window.echarts.init(element, null, { renderer: "canvas" });
    chart.setOption(option);
    charts.push(chart);
  }

  draw("chart-category", countsAndRate(data.category, "bar"));
  draw("chart-month", countsAndRate(data.month, "line"));
  draw("chart-region", countsAndRate(data.region, "bar"));
  draw("chart-flows", flows(data.flows));
  draw("chart-studio", countsAndRate(data.studio, "bar"));

  var pending = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(pending);
    pending = window.setTimeout(function () {
      charts.forEach(function (chart) { chart.resize(); });
    }, 150);
  });
}());

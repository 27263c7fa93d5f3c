/* 统计看板: the ⓘ definitions, and the charts drawn with Apache ECharts (served by the hub itself) from the JSON
   block #dashboard-data. Every chart has a table under it with the same numbers, and every definition is a
   <details> that opens by a tap or a click without this file, so nothing depends on it. */
(function () {
  "use strict";

  // One definition open at a time (a phone has room for one), closed again with Escape.
  var definitions = Array.prototype.slice.call(document.querySelectorAll("details.rate-info"));
  definitions.forEach(function (details) {
    var close = details.querySelector(".rate-def-close");
    if (close) { // shown only where this script runs: without it the ⓘ itself closes the definition
      close.hidden = false;
      close.addEventListener("click", function () { details.open = false; });
    }
    details.addEventListener("toggle", function () {
      if (!details.open) {
        return;
      }
      definitions.forEach(function (other) {
        if (other !== details && other.open) {
          other.open = false;
        }
      });
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      definitions.forEach(function (details) { details.open = false; });
    }
  });

  var source = document.getElementById("dashboard-data");
  if (!source || typeof window.echarts === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var names = data.names;
  var palette = ["#0b69a3", "#1e7d32", "#b45309", "#b42318", "#616e7c"];
  var NARROW = 480; // px of chart width: a phone held upright

  /* Options for a chart of the given width. On a phone the legend scrolls in one row under the plot, category
     labels are turned and cut to a fixed width (the full name is in the tooltip and the table), and the grid keeps
     the labels inside the canvas, so labels, legend and axis names never overlap. */
  function base(labels, width) {
    var small = width < NARROW;
    var crowded = labels.length > (small ? 3 : 6);
    return {
      color: palette,
      // Drawn by ECharts on the canvas: the HTML tooltip writes inline style attributes, which the hub's
      // Content-Security-Policy (style-src 'self') refuses.
      tooltip: { trigger: "axis", renderMode: "richText", confine: true },
      legend: {
        type: "scroll", orient: "horizontal", left: "center", bottom: 0,
        itemWidth: small ? 12 : 18, itemHeight: small ? 8 : 10, itemGap: small ? 8 : 12,
        textStyle: { fontSize: small ? 11 : 12 }, pageIconSize: small ? 10 : 12,
        // a phone's legend in short words, so one row holds it all (the tooltip and the table keep the full names)
        formatter: small ? function (name) { return names.short[name] || name; } : "{name}"
      },
      grid: { left: 8, right: 8, top: 40, bottom: small ? 36 : 40, containLabel: true },
      xAxis: {
        type: "category", data: labels,
        axisLabel: {
          interval: 0, hideOverlap: true, rotate: crowded ? (small ? 45 : 30) : 0,
          width: small ? 64 : 110, overflow: "truncate", fontSize: small ? 10 : 12
        }
      }
    };
  }

  function countsAndRate(series, kind, width, month) {
    var option = base(series.labels, width);
    var small = width < NARROW;
    option.yAxis = [
      { type: "value", name: names.cases, minInterval: 1, nameTextStyle: { align: "left" } },
      { type: "value", name: names.percent, min: 0, max: 100, nameTextStyle: { align: "right" } }
    ];
    option.series = [
      { name: month ? names.month_received : names.received, type: kind, data: series.received },
      { name: month ? names.month_concluded : names.concluded, type: kind, data: series.concluded },
      { name: month ? names.month_agreement : names.agreement, type: kind, data: series.agreement },
      { name: month ? names.month_success_rate : names.success_rate, type: "line", yAxisIndex: 1,
        data: series.success_rate, connectNulls: false }
    ];
    option.series.forEach(function (item) {
      item.symbolSize = small ? 4 : 6;
    });
    return option;
  }

  function flows(series, width) {
    var option = base(series.labels, width);
    option.yAxis = { type: "value", name: names.cases, minInterval: 1, nameTextStyle: { align: "left" } };
    option.series = [
      { name: names.accepted, type: "bar", stack: "outcome", data: series.accepted },
      { name: names.declined, type: "bar", stack: "outcome", data: series.declined },
      { name: names.expired, type: "bar", stack: "outcome", data: series.expired },
      { name: names.pending, type: "bar", stack: "outcome", data: series.pending }
    ];
    return option;
  }

  var charts = [];

  function draw(id, build) {
    var element = document.getElementById(id);
    if (!element) {
      return;
    }
    var chart = window.echarts.init(element, null, { renderer: "canvas" });
    var width = element.clientWidth;
    chart.setOption(build(width));
    charts.push({ chart: chart, element: element, build: build, small: width < NARROW });
  }

  draw("chart-category", function (width) { return countsAndRate(data.category, "bar", width, false); });
  draw("chart-month", function (width) { return countsAndRate(data.month, "line", width, true); });
  draw("chart-region", function (width) { return countsAndRate(data.region, "bar", width, false); });
  draw("chart-flows", function (width) { return flows(data.flows, width); });
  draw("chart-studio", function (width) { return countsAndRate(data.studio, "bar", width, false); });

  // Follow the width (a phone turned, a window resized): new options when a chart crosses the phone width.
  var pending = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(pending);
    pending = window.setTimeout(function () {
      charts.forEach(function (item) {
        var width = item.element.clientWidth;
        var small = width < NARROW;
        if (small !== item.small) {
          item.small = small;
          item.chart.setOption(item.build(width), { notMerge: true });
        }
        item.chart.resize();
      });
    }, 150);
  });
}());

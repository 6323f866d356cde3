/* The SLA dashboard's trend charts, drawn with the vendored Chart.js (static/vendor). */
(function () {
  "use strict";
  var source = document.getElementById("chart-data");
  if (!source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var palette = ["#1f5fbf", "#b3261e", "#1c7c3c", "#b36b00", "#6b5bb3", "#00838f"];

  function draw(group) {
    var canvas = document.getElementById("chart-" + group.replace(":", "-"));
    var chart = data.charts[group];
    if (!canvas) { return; }
    if (!chart) {
      canvas.replaceWith(Object.assign(document.createElement("p"), {className: "muted", textContent: "—"}));
      return;
    }
    new Chart(canvas, {
      type: "line",
      data: {
        labels: data.weeks,
        datasets: chart.lines.map(function (line, i) {
          return {label: line.label, data: line.percent, borderColor: palette[i % palette.length],
                  backgroundColor: palette[i % palette.length], spanGaps: true, tension: 0,
                  _key: line.key, _met: line.met, _total: line.total};
        })
      },
      options: {
        animation: false, responsive: true,
        scales: {y: {min: 0, max: 100, ticks: {callback: function (v) { return v + "%"; }}}},
        plugins: {tooltip: {callbacks: {label: function (ctx) {
          var ds = ctx.dataset;
          return ds.label + ": " + ctx.formattedValue + "% (" + ds._met[ctx.dataIndex] + "/" + ds._total[ctx.dataIndex] + ")";
        }}}},
        onClick: function (event, elements) {
          if (!elements.length) { return; }
          var point = elements[0];
          var line = chart.lines[point.datasetIndex];
          var parts = line.key.split(":");
          var url = data.tickets_url + "&clock=" + chart.clock + "&week=" + data.weeks[point.index] +
                    "&" + parts[0] + "=" + parts[1];
          window.location.href = url;
        }
      }
    });
  }
  ["response:level", "response:priority", "resolution:level", "resolution:priority"].forEach(draw);
  document.body.dataset.chartsReady = "true";
})();

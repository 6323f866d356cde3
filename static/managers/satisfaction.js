/* The satisfaction page's weekly chart (average score, and the share of the same tickets
   that met their SLA), drawn with the vendored Chart.js like the dashboard's trends. */
(function () {
  "use strict";
  var source = document.getElementById("satisfaction-data");
  var canvas = document.getElementById("chart-satisfaction");
  if (!source || !canvas || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var title = canvas.getAttribute("aria-label") || "";
  new Chart(canvas, {
    type: "line",
    data: {
      labels: data.weeks,
      datasets: [
        {label: "★ 1-5", data: data.average, yAxisID: "score", borderColor: "#1f5fbf",
         backgroundColor: "#1f5fbf", spanGaps: true, tension: 0},
        {label: "SLA %", data: data.met, yAxisID: "met", borderColor: "#1c7c3c",
         backgroundColor: "#1c7c3c", borderDash: [4, 4], spanGaps: true, tension: 0}
      ]
    },
    options: {
      animation: false, responsive: true,
      plugins: {title: {display: false, text: title}, tooltip: {callbacks: {afterLabel: function (ctx) {
        return "n = " + data.count[ctx.dataIndex];
      }}}},
      scales: {
        score: {type: "linear", position: "left", min: 1, max: 5},
        met: {type: "linear", position: "right", min: 0, max: 100, grid: {drawOnChartArea: false},
              ticks: {callback: function (v) { return v + "%"; }}}
      }
    }
  });
  document.body.dataset.chartsReady = "true";
})();

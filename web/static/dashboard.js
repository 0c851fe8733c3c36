/* The supervisor dashboard's charts (Chart.js, served from /static/vendor). The series come
   from data attributes of #dash-data (JSON): the CSP allows no inline script. */
(function () {
  "use strict";
  var holder = document.getElementById("dash-data");
  if (!holder || typeof Chart === "undefined") { return; }
  var d = JSON.parse(holder.dataset.chart);
  var t = JSON.parse(holder.dataset.labels);
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  var days = d.days.map(function (x) { return x.slice(5); });
  var charts = {};
  function make(id, config) {
    var el = document.getElementById(id);
    if (el) { charts[id] = new Chart(el, config); }
  }
  make("chart-volume", {
    type: "line",
    data: { labels: days, datasets: [
      { label: t.received, data: d.received, borderColor: "#1663c7", backgroundColor: "#1663c7", pointRadius: 0, tension: 0.2 },
      { label: t.analysed, data: d.analysed, borderColor: "#1c7c54", backgroundColor: "#1c7c54", pointRadius: 0, tension: 0.2 },
      { label: t.flagged, data: d.flagged, borderColor: "#c53030", backgroundColor: "#c53030", pointRadius: 0, tension: 0.2 }
    ] },
    options: { interaction: { mode: "index", intersect: false }, scales: { y: { beginAtZero: true } } }
  });
  make("chart-types", {
    type: "bar",
    data: { labels: t.types, datasets: [
      { label: t.rate, data: d.flag_rates.map(function (r) { return r === null ? null : Math.round(r * 1000) / 10; }), backgroundColor: "#b7791f" }
    ] },
    options: { indexAxis: "y", plugins: { legend: { display: false } },
      scales: { x: { beginAtZero: true, ticks: { callback: function (v) { return v + "%"; } } } } }
  });
  make("chart-score", {
    type: "line",
    data: { labels: d.weeks.map(function (x) { return x.slice(5); }), datasets: [
      { label: t.score, data: d.mean_score, borderColor: "#1663c7", backgroundColor: "#1663c7", spanGaps: true, tension: 0.2 }
    ] },
    options: { plugins: { legend: { display: false } }, scales: { y: { suggestedMin: 60, suggestedMax: 100 } } }
  });
  window.qaDashboardCharts = charts;
})();

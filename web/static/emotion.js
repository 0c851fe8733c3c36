// Customer emotion curve (客户情绪) over the player's flag bar: one point per scored customer
// segment (0 = calm, 1 = negative), a thin line with a light area under it. Data comes from
// <script type="application/json" id="emotion-data"> (see _emotion_curve.html).
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";

  function el(name, attrs) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }

  function draw(box, data) {
    var duration = Number(data.duration) || 0;
    var points = (data.points || []).filter(function (p) {
      return isFinite(p.start) && isFinite(p.end) && isFinite(p.score);
    });
    if (!duration || !points.length) { box.hidden = true; return; }
    var w = 1000, h = 100;
    var xy = points.map(function (p) {
      var mid = Math.min(duration, Math.max(0, (p.start + p.end) / 2));
      var score = Math.min(1, Math.max(0, p.score));
      return [(mid / duration) * w, h - score * h];
    });
    var line = xy.map(function (q) { return q[0].toFixed(1) + "," + q[1].toFixed(1); }).join(" ");
    var area = xy[0][0].toFixed(1) + "," + h + " " + line + " " + xy[xy.length - 1][0].toFixed(1) + "," + h;
    var svg = el("svg", { viewBox: "0 0 " + w + " " + h, preserveAspectRatio: "none", "class": "emotion-svg", role: "img", "aria-label": data.label });
    svg.appendChild(el("polygon", { points: area, "class": "emotion-area" }));
    svg.appendChild(el("polyline", { points: line, "class": "emotion-line", "vector-effect": "non-scaling-stroke" }));
    box.appendChild(svg);
    var label = document.createElement("span");
    label.className = "emotion-label";
    label.textContent = data.label;
    box.appendChild(label);
  }

  function start() {
    var box = document.getElementById("emotion-curve");
    var source = document.getElementById("emotion-data");
    if (!box || !source) { return; }
    var data;
    try { data = JSON.parse(source.textContent); } catch (e) { box.hidden = true; return; }
    draw(box, data);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

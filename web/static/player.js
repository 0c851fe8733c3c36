// Evaluation player: waveform, seek on click, transcript that follows playback, comment time.
// No libraries. ``QaPlayer.init()`` binds the player now on the page (again after the
// inspector's script swaps in the next call).
(function () {
  "use strict";
  var current = null;  // the bound player's seek, for the one document-wide click listener

  function clock(t) {
    t = Math.max(0, Math.floor(t));
    var m = Math.floor(t / 60), s = t % 60;
    return (m < 10 ? "0" : "") + m + ":" + (s < 10 ? "0" : "") + s;
  }

  function follows() {
    var box = document.getElementById("follow-playback");
    return !box || box.checked;
  }

  function init() {
    var audio = document.getElementById("audio");
    var box = document.getElementById("player");
    current = null;
    if (!audio || !box) { return; }
    var duration = parseFloat(box.dataset.duration) || 0;
    var canvas = document.getElementById("waveform");
    var peaks = [];
    var segs = Array.prototype.slice.call(document.querySelectorAll(".seg"));
    var nowEl = document.getElementById("now");
    var atField = document.getElementById("comment-at");
    var atLabel = document.getElementById("comment-time");
    var follow = document.getElementById("follow-playback");

    function total() { return (audio.duration && isFinite(audio.duration)) ? audio.duration : duration; }

    function draw() {
      var ctx = canvas.getContext("2d");
      var w = canvas.width, h = canvas.height, mid = h / 2;
      ctx.clearRect(0, 0, w, h);
      var played = total() ? audio.currentTime / total() : 0;
      var n = peaks.length || 1;
      for (var i = 0; i < peaks.length; i++) {
        var x = i / n * w, amp = Math.max(1, peaks[i] * (mid - 6));
        ctx.fillStyle = (i / n) <= played ? "#1663c7" : "#9fb3c8";
        ctx.fillRect(x, mid - amp, Math.max(1, w / n - 0.5), amp * 2);
      }
      ctx.fillStyle = "#c53030";
      ctx.fillRect(played * w - 1, 0, 2, h);
    }

    function seek(t) {
      t = Math.max(0, Math.min(t, total() || t));
      audio.currentTime = t;
      update();
    }

    function reveal(el) {
      // keep the segment in view inside the transcript's own scroll box, not the page
      var list = el.parentNode;
      var top = el.offsetTop, bottom = top + el.offsetHeight;
      if (top < list.scrollTop || bottom > list.scrollTop + list.clientHeight) {
        list.scrollTop = Math.max(0, top - Math.min(40, list.clientHeight / 3));
      }
    }

    function update() {
      var t = audio.currentTime;
      if (nowEl) { nowEl.textContent = clock(t); }
      if (atField) { atField.value = t.toFixed(2); }
      if (atLabel) { atLabel.textContent = clock(t); }
      segs.forEach(function (el) {
        var on = t >= parseFloat(el.dataset.start) && t < parseFloat(el.dataset.end);
        if (on && !el.classList.contains("active")) {
          el.classList.add("active");
          if (follows()) { reveal(el); }
        } else if (!on) { el.classList.remove("active"); }
      });
      draw();
    }

    function placeFlags() {
      var d = total();
      if (!d) { return; }
      document.querySelectorAll(".flag-mark").forEach(function (el) {
        // a flag may reach past the end of the call (a 30 s window opened at 0:08 of a 0:30
        // call): clamp it to the recording so the mark stays on the waveform
        var s = Math.min(Math.max(parseFloat(el.dataset.start) || 0, 0), d);
        var e = Math.min(Math.max(parseFloat(el.dataset.end) || s, s), d);
        var width = Math.max(0.4, (e - s) / d * 100);
        el.style.left = Math.min(s / d * 100, 100 - width) + "%";
        el.style.width = width + "%";
      });
    }

    if (follow) {
      try { follow.checked = window.localStorage.getItem("qa.follow") !== "0"; } catch (e) { /* private mode */ }
      follow.addEventListener("change", function () {
        try { window.localStorage.setItem("qa.follow", follow.checked ? "1" : "0"); } catch (e) { /* private mode */ }
        var on = document.querySelector(".seg.active");
        if (follow.checked && on) { reveal(on); }
      });
    }
    canvas.addEventListener("click", function (ev) {
      var r = canvas.getBoundingClientRect();
      seek((ev.clientX - r.left) / r.width * total());
    });
    ["timeupdate", "seeked", "loadedmetadata", "play"].forEach(function (name) {
      audio.addEventListener(name, update);
    });
    audio.addEventListener("loadedmetadata", placeFlags);
    placeFlags();
    current = seek;

    var xhr = new XMLHttpRequest();
    xhr.open("GET", box.dataset.waveform);
    xhr.responseType = "json";
    xhr.onload = function () {
      if (xhr.status === 200 && xhr.response) { peaks = xhr.response.peaks || []; draw(); }
    };
    xhr.send();
    draw();
  }

  document.addEventListener("click", function (ev) {
    var el = ev.target.closest("[data-seek]");
    if (el && current) { current(parseFloat(el.dataset.seek)); }
  });
  window.QaPlayer = {
    init: init,
    seek: function (t) { if (current) { current(t); } }  // the highlight moves at once
  };
  init();
}());

// Inspector speed (质检提速) on the evaluation page: keyboard shortcuts, draft autosave, and
// submit → the next call of the queue swapped in without a page load. No libraries.
(function () {
  "use strict";
  var AUTOSAVE_MS = 2000;  // a few seconds after the last change
  var SKIP_S = 5;
  var timer = null;
  var chain = Promise.resolve();  // saves run one after another, each with the latest version
  var stale = false;  // a 409: someone else saved; stop autosaving until the page is reloaded
  var lastItem = -1;
  var inflight = 0;  // autosaves sent and not answered yet
  var resubmitting = false;

  function root() { return document.getElementById("eval-root"); }
  function form() { return document.getElementById("score-form"); }
  function audio() { return document.getElementById("audio"); }
  function status() { return document.getElementById("autosave-status"); }

  function csrf() {
    var meta = document.querySelector("meta[name=csrf-token]");
    return meta ? meta.getAttribute("content") : "";
  }

  function say(kind, detail) {
    var el = status();
    if (!el) { return; }
    el.textContent = (el.dataset[kind] || "") + (detail ? " " + detail : "");
    el.className = "autosave autosave-" + kind;
  }

  // ------------------------------------------------------------------ keyboard shortcuts
  var TEXT_TYPES = ["checkbox", "radio", "button", "submit", "reset", "range", "file"];
  var LETTERS = { k: 1, j: 1, l: 1, f: 1, n: 1 };  // cannot be typed into a number field

  function typing(el, key) {
    if (!el || !el.tagName) { return false; }
    if (el.isContentEditable || el.tagName === "TEXTAREA" || el.tagName === "SELECT") { return true; }
    if (el.tagName !== "INPUT" || TEXT_TYPES.indexOf(el.type) >= 0) { return false; }
    return !(el.type === "number" && LETTERS[key]);
  }

  function total(a) {
    var box = document.getElementById("player");
    if (a.duration && isFinite(a.duration)) { return a.duration; }
    return box ? parseFloat(box.dataset.duration) || 0 : 0;
  }

  function seek(a, t) {
    if (window.QaPlayer) { window.QaPlayer.seek(t); } else { a.currentTime = t; }
  }

  function skip(seconds) {
    var a = audio();
    if (!a) { return; }
    seek(a, Math.max(0, Math.min(a.currentTime + seconds, total(a) || a.currentTime + seconds)));
  }

  function togglePlay() {
    var a = audio();
    if (!a) { return; }
    if (a.paused) {
      var p = a.play();
      if (p && p.catch) { p.catch(function () { /* autoplay refused: nothing to do */ }); }
    } else { a.pause(); }
  }

  function nextFlag() {
    var a = audio();
    var marks = Array.prototype.slice.call(document.querySelectorAll(".flag-mark"));
    if (!a || !marks.length) { return; }
    marks.sort(function (x, y) { return parseFloat(x.dataset.start) - parseFloat(y.dataset.start); });
    var t = a.currentTime + 0.25;
    var next = marks.filter(function (m) { return parseFloat(m.dataset.start) > t; })[0] || marks[0];
    marks.forEach(function (m) { m.classList.toggle("current", m === next); });
    seek(a, Math.min(parseFloat(next.dataset.start) || 0, total(a) || Infinity));
  }

  function nextItem() {
    var f = form();
    if (!f) { return; }
    var items = Array.prototype.slice.call(f.querySelectorAll(".item"));
    if (!items.length) { return; }
    var here = document.activeElement && document.activeElement.closest
      ? items.indexOf(document.activeElement.closest(".item")) : -1;
    var i = ((here >= 0 ? here : lastItem) + 1) % items.length;
    items.forEach(function (el, n) { el.classList.toggle("current", n === i); });
    lastItem = i;
    var target = items[i].querySelector("input:not([type=hidden]):not([disabled]):not(.reason)");
    items[i].scrollIntoView({ block: "nearest" });
    if (target) { target.focus(); }
  }

  var ACTIONS = {
    " ": togglePlay, k: togglePlay,
    j: function () { skip(-SKIP_S); }, arrowleft: function () { skip(-SKIP_S); },
    l: function () { skip(SKIP_S); }, arrowright: function () { skip(SKIP_S); },
    f: nextFlag, n: nextItem
  };
  var NATIVE_SPACE = ["BUTTON", "A", "SUMMARY"];

  document.addEventListener("keydown", function (ev) {
    if (!root()) { return; }
    var key = (ev.key || "").toLowerCase();
    if ((ev.ctrlKey || ev.metaKey) && key === "s") {  // save works while typing, too
      ev.preventDefault();
      if (form()) { saveNow("save"); }
      return;
    }
    if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.isComposing) { return; }
    var t = ev.target;
    if (typing(t, key) || !ACTIONS[key]) { return; }
    if (key === " " && t && (NATIVE_SPACE.indexOf(t.tagName) >= 0 || t.tagName === "INPUT")) { return; }
    ev.preventDefault();
    ACTIONS[key]();
  });

  // ------------------------------------------------------------------ draft autosave
  function setVersion(v) {
    document.querySelectorAll("#eval-root input[name=row_version]").forEach(function (el) {
      el.value = String(v);
    });
  }

  function post(action) {
    var f = form(), r = root();
    if (!f || !r || stale) { return Promise.resolve({ ok: false, status: stale ? 409 : 0, body: {} }); }
    var data = new FormData(f);
    data.set("action", action);
    say("saving");
    return fetch(r.dataset.draftUrl, {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf(), "Accept": "application/json" }
    }).then(function (resp) {
      return resp.json().then(function (body) {
        return { ok: resp.ok, status: resp.status, body: body };
      }, function () {  // not JSON: signed out (the sign-in page) or a page-level error
        var why = (status() || { dataset: {} }).dataset.reload;
        return { ok: false, status: resp.status, body: { error: why + " (HTTP " + resp.status + ")" } };
      });
    }, function () {
      return { ok: false, status: 0, body: { error: (status() || { dataset: {} }).dataset.network } };
    }).then(function (res) {
      if (res.ok) {
        setVersion(res.body.row_version);
        var badge = document.getElementById("eval-state");
        if (badge && res.body.state_label) {
          badge.textContent = res.body.state_label;
          badge.className = "state state-" + res.body.state;
        }
        say("saved", res.body.saved_at);
      } else {
        if (res.status === 409) { stale = true; }
        say("failed", "：" + (res.body.error || "HTTP " + res.status));
      }
      return res;
    });
  }

  function saveNow(action) {
    clearTimeout(timer);
    timer = null;
    inflight += 1;
    chain = chain.then(function () { return post(action); }).then(function (res) {
      inflight -= 1;
      return res;
    });
    return chain;
  }

  function later() {
    if (stale) { return; }
    say("pending");
    clearTimeout(timer);
    timer = setTimeout(function () { saveNow("save"); }, AUTOSAVE_MS);
  }

  function changed(ev) {
    var name = ev.target && ev.target.name;
    if (name && name !== "row_version" && name !== "csrf_token") { later(); }
  }

  function accepted(ev) {  // accepting a machine suggestion changes fields without an input event
    if (ev.target.closest && ev.target.closest(".accept-suggestion, #accept-all")) { later(); }
  }

  // ------------------------------------------------------------------ submit → next call
  function swapIn(html, url) {
    var tpl = document.createElement("template");
    tpl.innerHTML = html.trim();
    var fresh = tpl.content.getElementById("eval-root");
    var old = root();
    if (!fresh || !old) { window.location.assign(url); return; }
    var a = audio();
    if (a) { a.pause(); }
    old.parentNode.replaceChild(fresh, old);
    document.querySelectorAll("main > .flash").forEach(function (el) { el.remove(); });
    history.pushState({ evaluation: fresh.dataset.evaluation }, "", url);
    document.title = fresh.dataset.title || document.title;
    if (window.QaPlayer) { window.QaPlayer.init(); }
    if (window.QaAutoqa) { window.QaAutoqa.init(); }
    setup();
    window.scrollTo(0, 0);
  }

  function notice(text, kind) {
    var old = document.getElementById("speed-notice");
    if (old) { old.remove(); }
    var el = document.createElement("div");
    el.className = "flash " + (kind || "ok");
    el.id = "speed-notice";
    el.setAttribute("role", "status");
    el.textContent = text;
    var r = root();
    r.parentNode.insertBefore(el, r);
  }

  function goNext(body) {
    if (!body.next_url) { window.location.assign(body.home_url || "/home"); return; }
    say("loading");
    fetch(body.next_url + "?fragment=1", { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (resp) {
        if (!resp.ok) { throw new Error("HTTP " + resp.status); }
        return resp.text();
      })
      .then(function (html) {
        swapIn(html, body.next_url);
        if (body.message) { notice(body.message); }
      })
      .catch(function () { window.location.assign(body.next_url); });
  }

  function submitted(ev) {
    var button = ev.submitter;
    clearTimeout(timer);  // the form carries the same fields: no autosave after it
    if (!button || button.value !== "submit_next") {
      // the plain save / submit post the form; wait for an autosave still on its way, so
      // the form is sent with the version that autosave left
      if (inflight && !resubmitting) {
        ev.preventDefault();
        chain.then(function () { resubmitting = true; ev.target.requestSubmit(button); });
      }
      return;
    }
    ev.preventDefault();
    button.disabled = true;
    saveNow("submit_next").then(function (res) {
      if (res.ok) { goNext(res.body); return; }
      button.disabled = false;
      notice(res.body.error || "HTTP " + res.status, "error");
    });
  }

  function setup() {
    var f = form(), r = root();
    stale = false;
    lastItem = -1;
    clearTimeout(timer);
    if (f && r && r.dataset.editable === "1") {
      f.addEventListener("input", changed);
      f.addEventListener("change", changed);
      f.addEventListener("click", accepted);
      f.addEventListener("submit", submitted);
    }
    if (r) { document.documentElement.dataset.evaluationReady = r.dataset.evaluation; }
  }

  window.addEventListener("popstate", function () { window.location.reload(); });
  setup();
}());

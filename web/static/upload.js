/* Upload page: each chosen recording is posted on its own with XMLHttpRequest, so every file
   has a progress bar and a result (created / duplicate / rejected with the reason). With a
   manifest, its rows are parsed by the server first and paired with the files by base name.
   Labels come from #upload-labels (JSON): the CSP allows no inline script. */
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form) { return; }
  var L = JSON.parse(document.getElementById("upload-labels").textContent);
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var tbody = document.querySelector("#upload-list tbody");
  var summary = document.getElementById("upload-summary");
  var button = document.getElementById("upload-start");
  var maxBytes = parseInt(form.dataset.maxBytes, 10);
  var META = ["agent", "team", "direction", "business_type", "agent_channel"];

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  function size(n) {
    if (n === null || n === undefined) { return "—"; }
    return n >= 1048576 ? (n / 1048576).toFixed(1) + " MB" : Math.max(1, Math.round(n / 1024)) + " KB";
  }
  function addRow(name, bytes) {
    var tr = el("tr", "upl-row");
    tr.dataset.file = name;
    tr.appendChild(el("td", "upl-name", name));
    tr.appendChild(el("td", "num", size(bytes)));
    var cell = el("td", "upl-progress-col");
    var bar = el("progress", "upl-bar");
    bar.max = 100; bar.value = 0;
    var pct = el("span", "upl-pct", "0%");
    cell.appendChild(bar); cell.appendChild(pct);
    tr.appendChild(cell);
    var result = el("td", "upl-result", L.sending);
    tr.appendChild(result);
    tbody.appendChild(tr);
    return { tr: tr, bar: bar, pct: pct, result: result };
  }
  function progress(row, value) {
    row.bar.value = value;
    row.pct.textContent = value + "%";
  }
  function show(row, body) {
    progress(row, 100);
    row.result.textContent = "";
    row.tr.dataset.status = body.status;
    var badge = el("span", "state upl-" + body.status, L[body.status] || body.status);
    row.result.appendChild(badge);
    if (body.call_id) {
      row.result.appendChild(document.createTextNode(" "));
      var a = el("a", "", "#" + body.call_id);
      a.href = "/calls/" + body.call_id;
      row.result.appendChild(a);
    }
    if (body.status === "rejected") {
      row.tr.dataset.reason = body.reason || "other";
      row.result.appendChild(el("span", "error-message upl-reason",
        " " + (body.reason_label || L["reason_" + (body.reason || "other")])));
      if (body.error) { row.result.appendChild(el("div", "muted upl-detail", body.error)); }
    }
  }
  function reject(row, reason, detail) {
    show(row, { status: "rejected", reason: reason, error: detail || "" });
  }
  function refuseHere(row, reason, detail) {  /* decided in the page: nothing was sent */
    reject(row, reason, detail);
    row.bar.hidden = true;
    row.pct.textContent = "—";
    row.tr.dataset.sent = "0";
  }
  function fields(extra) {
    var data = {};
    META.forEach(function (k) {
      var input = form.elements[k];
      if (input && input.value.trim()) { data[k] = input.value.trim(); }
    });
    return extra || data;
  }
  function send(item) {
    return new Promise(function (resolve) {
      var row = item.row;
      if (item.file.size > maxBytes) { refuseHere(row, "too_large"); resolve(); return; }
      var body = new FormData();
      body.append("file", item.file, item.file.name);
      Object.keys(item.fields).forEach(function (k) { body.append(k, item.fields[k]); });
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("X-CSRF-Token", csrf);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = function (e) {
        if (e.lengthComputable) { progress(row, Math.min(99, Math.floor(e.loaded * 100 / e.total))); }
      };
      xhr.upload.onload = function () { row.result.textContent = L.processing; };
      xhr.onload = function () {
        var parsed = null;
        try { parsed = JSON.parse(xhr.responseText); } catch (err) { parsed = null; }
        if (parsed && parsed.status && typeof parsed.status === "string") { show(row, parsed); }
        else if (xhr.status === 413) { reject(row, "too_large"); }
        else { reject(row, "other", L.http_error + " " + xhr.status); }
        resolve();
      };
      xhr.onerror = function () { reject(row, "other", L.http_error); resolve(); };
      xhr.send(body);
    });
  }
  function readManifest(file) {
    return new Promise(function (resolve) {
      var body = new FormData();
      body.append("manifest", file, file.name);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.dataset.manifestUrl);
      xhr.setRequestHeader("X-CSRF-Token", csrf);
      xhr.onload = function () {
        var parsed = {};
        try { parsed = JSON.parse(xhr.responseText); } catch (err) { parsed = { error: L.http_error + " " + xhr.status }; }
        resolve(parsed);
      };
      xhr.onerror = function () { resolve({ error: L.http_error }); };
      xhr.send(body);
    });
  }
  function plan(files, manifest) {
    var items = [];
    if (!manifest) {
      files.forEach(function (f) { items.push({ file: f, fields: fields(), row: addRow(f.name, f.size) }); });
      return items;
    }
    var byName = {};
    files.forEach(function (f) { byName[f.name] = f; });
    var used = {};
    manifest.rows.forEach(function (r) {
      var f = byName[r.file];
      var row = addRow(r.file || ("#" + r.line), f ? f.size : null);
      if (r.error) { refuseHere(row, "metadata", r.error); return; }
      if (!f) { refuseHere(row, "missing", L.not_chosen); return; }
      used[r.file] = true;
      items.push({ file: f, fields: r.fields, row: row });
    });
    files.forEach(function (f) {
      if (!used[f.name]) { refuseHere(addRow(f.name, f.size), "missing", L.not_listed); }
    });
    return items;
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var files = Array.prototype.slice.call(document.getElementById("upload-files").files);
    var manifestFile = document.getElementById("upload-manifest").files[0];
    if (!files.length && !manifestFile) { summary.textContent = L.no_files; return; }
    button.disabled = true;
    delete form.dataset.finished;
    var empty = tbody.querySelector(".upl-empty");
    if (empty) { empty.remove(); }
    var ready = manifestFile ? readManifest(manifestFile) : Promise.resolve(null);
    ready.then(function (manifest) {
      if (manifest && manifest.error) {
        summary.textContent = manifest.error;
        summary.className = "error-message";
        button.disabled = false;
        return;
      }
      var items = plan(files, manifest);
      var done = 0;
      summary.className = "muted";
      summary.textContent = L.done.replace("{done}", 0).replace("{total}", items.length);
      items.reduce(function (chain, item) {
        return chain.then(function () { return send(item); }).then(function () {
          done += 1;
          summary.textContent = L.done.replace("{done}", done).replace("{total}", items.length);
        });
      }, Promise.resolve()).then(function () { button.disabled = false; form.dataset.finished = "1"; });
    });
  });
}());

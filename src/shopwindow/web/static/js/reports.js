// Report pages: SVG charts over the server-rendered tables, the viewer's time zone, and live
// updates from the SSE stream. The page is complete without this file (tables, links).
(function () {
  "use strict";

  var root = document.getElementById("report");
  var dataEl = document.getElementById("report-data");
  if (!root || !dataEl) return;
  var data;
  try {
    data = JSON.parse(dataEl.textContent);
  } catch (e) {
    return;
  }
  var SVG = "http://www.w3.org/2000/svg";
  var TABLE_METRICS = ["impressions", "reads", "follows", "clicks", "orders"];

  // ---------------------------------------------------------------- time zone

  var zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (e) {
    zone = "";
  }
  var tzInput = document.getElementById("r-tz");
  if (tzInput && !tzInput.value && zone) tzInput.value = zone;
  // Without an explicit ?tz the server uses the sw_tz cookie: keep it at the browser's
  // zone, reloading once when it was missing or stale (guarded against loops).
  if (zone && !root.getAttribute("data-tz-param") && data.range.tz !== zone) {
    var guard = "sw_tz_reload";
    var already = false;
    try {
      already = window.sessionStorage.getItem(guard) === zone;
      window.sessionStorage.setItem(guard, zone);
    } catch (e) {
      already = true;
    }
    document.cookie = "sw_tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; samesite=lax";
    if (!already) {
      window.location.reload();
      return;
    }
  }

  // ---------------------------------------------------------------- helpers

  function el(name, attrs, parent) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs || {}).forEach(function (k) {
      node.setAttribute(k, String(attrs[k]));
    });
    if (parent) parent.appendChild(node);
    return node;
  }

  function text(name, attrs, content, parent) {
    var node = el(name, attrs, parent);
    node.textContent = content;
    return node;
  }

  function compact(n) {
    try {
      return new Intl.NumberFormat(root.getAttribute("data-locale") || undefined, {
        notation: "compact", maximumFractionDigits: 1
      }).format(n);
    } catch (e) {
      return String(n);
    }
  }

  function seriesFor(key) {
    var parts = key.split(":");
    if (parts.length === 2) {
      var per = (data.money_series[parts[0]] || {})[parts[1]];
      return per || [];
    }
    return data.series[key] || [];
  }

  function shortLabel(label) {
    // "2026-12-06T14:00+08:00" → "14:00"; "2026-12-06" → "12-06"
    var t = label.indexOf("T");
    if (t >= 0) return label.substr(t + 1, 5);
    return label.substr(5);
  }

  // ---------------------------------------------------------------- line chart

  var picker = document.getElementById("chart-metric");
  var chartBox = document.getElementById("report-chart");
  if (picker) picker.closest("label").hidden = false;

  function drawLine() {
    if (!chartBox) return;
    var key = picker ? picker.value : "clicks";
    var values = seriesFor(key);
    var labels = data.labels;
    // Drawn in the box's own pixels, so labels keep their size on a phone (a fixed
    // 640-unit drawing scaled down to 330 px made them 5 px tall).
    var W = Math.max(280, Math.round(chartBox.clientWidth || 640));
    var H = W < 480 ? 180 : 220, L = 44, R = 12, T = 12, B = 28;
    chartBox.textContent = "";
    var svg = el("svg", { viewBox: "0 0 " + W + " " + H, class: "chart line-chart",
                          role: "img", preserveAspectRatio: "none" }, chartBox);
    svg.style.aspectRatio = W + " / " + H;
    var max = 0;
    values.forEach(function (v) { if (v > max) max = v; });
    var top = max > 0 ? max : 1;
    var n = values.length;
    var x = function (i) { return L + (n > 1 ? (i * (W - L - R)) / (n - 1) : (W - L - R) / 2); };
    var y = function (v) { return T + (H - T - B) * (1 - v / top); };
    [0, 0.5, 1].forEach(function (f) {
      var yy = y(top * f);
      el("line", { x1: L, x2: W - R, y1: yy, y2: yy, class: "grid" }, svg);
      var shown = key.indexOf(":") > 0 ? top * f / 100 : top * f;
      text("text", { x: L - 6, y: yy + 4, class: "axis", "text-anchor": "end" },
           compact(Math.round(shown * 100) / 100), svg);
    });
    if (n) {
      [0, Math.floor((n - 1) / 2), n - 1].forEach(function (i, k, arr) {
        if (k > 0 && i === arr[k - 1]) return;
        text("text", { x: x(i), y: H - 8, class: "axis",
                       "text-anchor": k === 0 ? "start" : (k === 2 ? "end" : "middle") },
             shortLabel(labels[i] || ""), svg);
      });
      var pts = values.map(function (v, i) { return x(i).toFixed(1) + "," + y(v).toFixed(1); });
      el("polygon", { points: x(0).toFixed(1) + "," + y(0) + " " + pts.join(" ") + " " +
                      x(n - 1).toFixed(1) + "," + y(0), class: "area" }, svg);
      el("polyline", { points: pts.join(" "), class: "line" }, svg);
      values.forEach(function (v, i) {
        if (v > 0 || i === n - 1) {
          var dot = el("circle", { cx: x(i), cy: y(v), r: n > 60 ? 2 : 3.5, class: "dot" }, svg);
          text("title", {}, (labels[i] || "") + ": " + v, dot);
        }
      });
    }
    svg.setAttribute("aria-label", (picker ? picker.options[picker.selectedIndex].text : key));
  }

  // ---------------------------------------------------------------- breakdown bars

  function drawBars() {
    var box = document.getElementById("report-bars");
    if (!box || !data.breakdown) return;
    var key = picker && picker.value.indexOf(":") < 0 ? picker.value : "clicks";
    var rows = data.breakdown.rows.slice(0, 12);
    var max = 0;
    rows.forEach(function (r) { max = Math.max(max, r.counts[key] || 0); });
    var rowH = 26, W = Math.max(280, Math.round(box.clientWidth || 640));
    var L = W < 480 ? 96 : 130;
    box.textContent = "";
    var svg = el("svg", { viewBox: "0 0 " + W + " " + (rowH * rows.length + 4),
                          class: "chart bar-chart", role: "img" }, box);
    rows.forEach(function (r, i) {
      var v = r.counts[key] || 0;
      var w = max ? ((W - L - 60) * v) / max : 0;
      text("text", { x: L - 8, y: i * rowH + 17, class: "axis", "text-anchor": "end" },
           (r.value || "–").substr(0, 18), svg);
      el("rect", { x: L, y: i * rowH + 4, width: Math.max(w, v ? 2 : 0), height: rowH - 8,
                   rx: 3, class: "bar" }, svg);
      text("text", { x: L + w + 6, y: i * rowH + 17, class: "axis" }, String(v), svg);
    });
  }

  // ---------------------------------------------------------------- numbers and table

  function updateNumbers() {
    Array.prototype.forEach.call(root.querySelectorAll("[data-total]"), function (node) {
      var m = node.getAttribute("data-total");
      if (data.formatted[m] !== undefined && node.textContent !== data.formatted[m]) {
        node.textContent = data.formatted[m];
        node.classList.remove("bumped");
        void node.getBoundingClientRect();
        node.classList.add("bumped");
      }
    });
    Array.prototype.forEach.call(root.querySelectorAll("[data-derived]"), function (node) {
      var d = data.derived[node.getAttribute("data-derived")];
      if (d) node.textContent = d.formatted;
    });
    var table = document.getElementById("report-series");
    if (!table) return;
    var body = document.createElement("tbody");
    data.labels.forEach(function (label, i) {
      var tr = document.createElement("tr");
      var th = document.createElement("th");
      th.scope = "row";
      var time = document.createElement("time");
      time.setAttribute("datetime", label);
      time.textContent = (data.display_labels || data.labels)[i];
      th.appendChild(time);
      tr.appendChild(th);
      TABLE_METRICS.forEach(function (m) {
        var td = document.createElement("td");
        td.textContent = String((data.series[m] || [])[i] || 0);
        tr.appendChild(td);
      });
      data.currencies.forEach(function (c) {
        var td = document.createElement("td");
        td.textContent = String(((data.money_series.gmv || {})[c] || [])[i] || 0);
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    var old = table.querySelector("tbody");
    if (old) table.replaceChild(body, old);
  }

  function drawAll() {
    drawLine();
    drawBars();
  }

  if (picker) picker.addEventListener("change", drawAll);
  drawAll();
  // charts are drawn in pixels of their box: draw again when it changes width
  var lastWidth = chartBox ? chartBox.clientWidth : 0, resizing = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizing);
    resizing = setTimeout(function () {
      if (chartBox && chartBox.clientWidth !== lastWidth) {
        lastWidth = chartBox.clientWidth;
        drawAll();
      }
    }, 150);
  });

  // ---------------------------------------------------------------- live updates

  var status = document.getElementById("report-live");
  var api = root.getAttribute("data-api");
  var streamUrl = root.getAttribute("data-stream");
  var pending = null, busy = false, again = false;

  function say(attr, extra) {
    if (status) status.textContent = (status.getAttribute(attr) || "") + (extra || "");
  }

  function refresh() {
    pending = null;
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    fetch(api, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(function (fresh) {
        data = fresh;
        updateNumbers();
        drawAll();
        say("data-updated-text", " " + new Date().toLocaleTimeString());
        root.setAttribute("data-refreshed", String(Date.now()));
      })
      .catch(function () { say("data-offline-text"); })
      .then(function () {
        busy = false;
        if (again) {
          again = false;
          schedule();
        }
      });
  }

  function schedule() {
    if (!pending) pending = window.setTimeout(refresh, 150);
  }

  if (window.EventSource && streamUrl && api) {
    var source = new EventSource(streamUrl);
    source.addEventListener("ready", function () {
      say("data-live-text");
      root.setAttribute("data-live", "on");
    });
    source.addEventListener("update", schedule);
    source.onerror = function () { say("data-offline-text"); };
    window.addEventListener("pagehide", function () { source.close(); });
  }
})();

/* Analytics beacon (docs/analytics.md): impressions of posts and product tiles seen on
   screen, reads of the main post / middle page with their dwell time, profile visits.
   Events are batched and sent to POST /api/sw/v1/events with navigator.sendBeacon (so a
   batch still leaves when the page is closed), or fetch keepalive where that is missing.
   The server decides who an event is credited to; the page only says what was seen. */
(function () {
  "use strict";
  var URL = "/api/sw/v1/events";
  var MAX_BATCH = 50; // the server takes up to 200; small batches keep bodies tiny
  var FLUSH_MS = 4000;
  var MIN_READ_MS = 1000;
  var queue = [];
  var timer = null;

  function surface() {
    var p = location.pathname;
    if (p === "/" || p === "/home") return "home";
    if (p.indexOf("/discover") === 0) return "discover";
    if (p.indexOf("/tags/") === 0) return "hashtag";
    if (p.indexOf("/r/") === 0) return "middle_page";
    if (/^\/@[^/]+\/showcase/.test(p)) return "showcase";
    if (/^\/@[^/]+\/?$/.test(p)) return "profile";
    return "other";
  }
  var SURFACE = surface();

  function send(items) {
    var body = JSON.stringify({ events: items });
    // text/plain keeps sendBeacon a "simple" request; the server parses it as JSON.
    var blob = new Blob([body], { type: "text/plain;charset=UTF-8" });
    if (navigator.sendBeacon && navigator.sendBeacon(URL, blob)) return;
    try {
      fetch(URL, { method: "POST", body: body, keepalive: true, credentials: "same-origin",
                   headers: { "Content-Type": "application/json" } });
    } catch (e) { /* analytics must never break the page */ }
  }

  function flush() {
    if (timer) { clearTimeout(timer); timer = null; }
    while (queue.length) send(queue.splice(0, MAX_BATCH));
  }

  function push(ev) {
    ev.surface = ev.surface || SURFACE;
    ev.t = Date.now();
    queue.push(ev);
    if (queue.length >= MAX_BATCH) flush();
    else if (!timer) timer = setTimeout(flush, FLUSH_MS);
  }

  // "post:123" / "recommendation:456", or a post card's id="post-123".
  function objectOf(el) {
    var ref = el.getAttribute("data-sw-obj");
    if (!ref && el.id && el.id.indexOf("post-") === 0) ref = "post:" + el.id.slice(5);
    if (!ref) return null;
    var i = ref.indexOf(":");
    var id = ref.slice(i + 1);
    if (i < 1 || !/^[0-9]{1,19}$/.test(id)) return null;
    return { object_type: ref.slice(0, i), object_id: id };
  }

  var seen = {};
  function impression(el) {
    var o = objectOf(el);
    if (!o) return;
    var key = o.object_type + ":" + o.object_id;
    if (seen[key]) return;
    seen[key] = true;
    push({ type: "impression", object_type: o.object_type, object_id: o.object_id });
  }

  function watchImpressions() {
    var els = document.querySelectorAll("article.post[id^='post-'], [data-sw-obj]");
    if (!els.length) return;
    if (!("IntersectionObserver" in window)) { els.forEach(impression); return; }
    var io = new IntersectionObserver(function (entries) {
      entries.forEach(function (en) {
        if (en.isIntersecting && en.intersectionRatio >= 0.5) {
          impression(en.target);
          io.unobserve(en.target);
        }
      });
    }, { threshold: [0.5] });
    els.forEach(function (el) { io.observe(el); });
  }

  // Reads: time the page was visible while showing a main post or a middle page.
  var readEl = null, visibleSince = null, dwell = 0, readSent = false;
  function pause() {
    if (visibleSince !== null) { dwell += Date.now() - visibleSince; visibleSince = null; }
  }
  function sendRead() {
    pause();
    if (!readEl || readSent || dwell < MIN_READ_MS) return;
    var o = objectOf(readEl);
    if (!o) return;
    readSent = true;
    push({ type: "read", object_type: o.object_type, object_id: o.object_id,
           dwell_ms: Math.min(Math.round(dwell), 6 * 3600 * 1000) });
  }

  function start() {
    watchImpressions();
    readEl = document.querySelector("[data-sw-read], article.post-main[id^='post-']");
    if (readEl && document.visibilityState === "visible") visibleSince = Date.now();
    document.querySelectorAll("[data-sw-visit]").forEach(function (el) {
      var id = el.getAttribute("data-sw-visit");
      if (/^[0-9]{1,19}$/.test(id)) {
        push({ type: "profile_visit", object_type: "account", object_id: id });
      }
    });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") { sendRead(); flush(); }
      else if (readEl && !readSent) visibleSince = Date.now();
    });
    window.addEventListener("pagehide", function () { sendRead(); flush(); });
  }

  // For pages that replace content without navigating, and for tests.
  window.swBeacon = { flush: function () { sendRead(); flush(); },
                      pending: function () { return queue.length; } };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

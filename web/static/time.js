// Times in the reader's zone: every <time datetime> on a page carries an RFC
// 3339 UTC moment and shows it in UTC, which is what a reader without
// JavaScript sees. This script rewrites each to the browser's time zone,
// adds how long ago or how soon it is ("2 minutes ago", "in 3 days"), and
// puts the full local date and time with the zone in the title. Elements
// with data-precision="day" show a date only. The relative text is brought
// up to date every half minute.
(function () {
  "use strict";

  if (!window.Intl || !Intl.DateTimeFormat) return;

  // The page's language, refined by the browser's own preference for it:
  // an English page read with en-GB preferred writes "2 Jan 2025", not
  // "Jan 2, 2025".
  function locale() {
    var page = (document.documentElement.lang || "en").toLowerCase();
    var prefs = navigator.languages || [navigator.language || page];
    for (var i = 0; i < prefs.length; i++) {
      var p = String(prefs[i]);
      if (p.toLowerCase().split("-")[0] === page.split("-")[0]) return p;
    }
    return page;
  }

  var loc = locale();
  var dayFmt = new Intl.DateTimeFormat(loc, { year: "numeric", month: "short", day: "numeric" });
  var timeFmt = new Intl.DateTimeFormat(loc, { year: "numeric", month: "short", day: "numeric", hour: "numeric", minute: "2-digit" });
  var fullFmt = new Intl.DateTimeFormat(loc, { dateStyle: "full", timeStyle: "long" });
  var rtf = Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(loc, { numeric: "auto" }) : null;

  var MINUTE = 60, HOUR = 3600, DAY = 86400;

  // relative says how far the moment at is from now, in the largest unit
  // that fits: "now", "5 minutes ago", "yesterday", "in 3 months".
  function relative(at, now) {
    var s = (at - now) / 1000, a = Math.abs(s);
    if (a < 45) return rtf.format(0, "second");
    if (a < 45 * MINUTE) return rtf.format(Math.round(s / MINUTE), "minute");
    if (a < 22 * HOUR) return rtf.format(Math.round(s / HOUR), "hour");
    return days(Math.round(s / DAY));
  }

  // relativeDay counts calendar days in the local zone, so a date-only
  // time says "today" or "yesterday" rather than "3 hours ago".
  function relativeDay(at, now) {
    var a = new Date(at.getFullYear(), at.getMonth(), at.getDate());
    var b = new Date(now.getFullYear(), now.getMonth(), now.getDate());
    return days(Math.round((a - b) / (DAY * 1000)));
  }

  function days(d) {
    var a = Math.abs(d);
    if (a < 26) return rtf.format(d, "day");
    if (a < 320) return rtf.format(Math.round(d / 30.44), "month");
    return rtf.format(Math.round(d / 365.25), "year");
  }

  function render(el, now) {
    var at = new Date(el.getAttribute("datetime"));
    if (isNaN(at.getTime())) return;
    var day = el.getAttribute("data-precision") === "day";
    var text = (day ? dayFmt : timeFmt).format(at);
    if (rtf) text += " (" + (day ? relativeDay(at, now) : relative(at, now)) + ")";
    if (el.textContent !== text) el.textContent = text;
    el.title = fullFmt.format(at);
    el.setAttribute("data-local", "");
  }

  function update() {
    var now = new Date();
    document.querySelectorAll("time[datetime]").forEach(function (el) { render(el, now); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", update);
  else update();
  setInterval(update, 30000);
})();

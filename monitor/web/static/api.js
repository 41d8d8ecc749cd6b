// The one helper the pages call the service's JSON API with, loaded before each
// page's own script (console.js, app.js), and the one time format they show
// (clockText): api(path) GETs, api(path, body) POSTs
// the body as JSON with the session's CSRF token (apiSession.csrf, which the page
// sets from /api/me or /api/app). A refusal throws an Error with the server's words.
// The page's hooks: apiSession.onDenied() on a 401 (the console goes to its login
// page), apiSession.onData(data) on every answer (the console's clock offset).
"use strict";

const apiSession = {csrf: "", onDenied: null, onData: null};

async function api(path, body) {
  const opts = {headers: {}};
  if (body !== undefined) {
    opts.method = "POST";
    opts.headers = {"Content-Type": "application/json", "X-CSRF-Token": apiSession.csrf};
    opts.body = JSON.stringify(body);
  }
  const res = await fetch(path, opts);
  const data = await res.json().catch(() => ({error: res.statusText}));
  if (res.status === 401 && apiSession.onDenied) apiSession.onDenied();
  if (!res.ok) throw new Error(data.error || res.statusText);
  if (apiSession.onData) apiSession.onData(data);
  return data;
}

// One time format on every page (the house page's is monitor/web/words.py
// clock_text): 24-hour HH:MM:SS, whatever the browser's locale, as an alarm
// log reads; seconds, because the trade orders steps by them.
function clockText(ms) {
  const d = new Date(ms), two = (n) => String(n).padStart(2, "0");
  return two(d.getHours()) + ":" + two(d.getMinutes()) + ":" + two(d.getSeconds());
}

// The owner's app: the hub's state and open zones, arm and disarm with a code,
// during an alarm "Cancel alarm" (with the verbal password) or "Confirm
// emergency", SOS after a confirmation, what happened in words, and a
// notification for a new alarm when the owner allowed them. Polls
// /api/app/home; every write carries the session's CSRF token (api.js).
"use strict";

const $ = (id) => document.getElementById(id);
const POLL_MS = 1000;
const STATE = {disarmed: "Disarmed", arming: "Arming: leave now", armed_home: "Armed Home",
               armed_away: "Armed Away", pending: "Someone came in: entry delay",
               triggered: "ALARM"};
const SERVICE = {police: "the police", fire: "the fire brigade", medical: "an ambulance"};
let alarmSeen = null;       // the alarm case last notified about
let sosService = null;      // the SOS waiting for its confirmation
let sosAwaits = 0;          // when the SOS answer told of the alarm it is about to open
const SOS_AWAITS_MS = 30000; // ... and how long that alarm may take to arrive
// The lines that answer a button: each beside its buttons, cleared when a new
// alarm arrives, so what they say is about now, not an earlier alarm.
const RESULTS = ["sent", "alarm-result", "sos-result"];

function text(el, value) {
  const v = value == null ? "" : String(value);
  if (el.textContent !== v) el.textContent = v;
}

function showError(e) { text($("error"), e ? e.message : ""); }

// Runs `fn`, showing its outcome in `where` (or the error line).
async function doing(where, fn) {
  showError(null);
  try { text($(where), await fn()); } catch (e) { showError(e); }
}

function drawStatus(h) {
  const st = $("hub-state");
  st.dataset.state = h.state || "";
  text(st, STATE[h.state] || (h.state ? h.state.replace(/_/g, " ") : "Waiting for the hub…"));
  text($("online"), h.online === false ? "The hub is offline." : "");
  text($("state-help"), h.state === "triggered" && !h.alarm
       ? "The siren sounds until you disarm with your code." : "");
  text($("open-zones"), h.open.length ? "Open: " + h.open.join(", ")
                                      : h.state ? "All doors and windows closed." : "");
}

function drawAlarm(a) {
  $("alarm").hidden = !a;
  if (!a) return;
  text($("alarm-what"), "Alarm: " + a.what);
  text($("alarm-calling"), a.calling === "ringing" ? "The monitoring center is calling you now."
       : "The monitoring center has the alarm. Cancel it with your verbal password, or confirm it " +
         "and help is sent now.");
  notify(a);
}

function drawHistory(items) {
  const ol = $("history");
  const key = JSON.stringify(items);
  if (ol.dataset.key === key) return;          // unchanged: leave the list alone
  ol.dataset.key = key;
  ol.replaceChildren(...items.map((it) => {
    const li = document.createElement("li");
    const t = document.createElement("time");
    t.textContent = clockText(it.t);
    li.append(t, it.text);
    return li;
  }));
  if (!items.length) ol.append(Object.assign(document.createElement("li"), {textContent: "Nothing yet."}));
}

// ---- notifications (the browser's own Notification API, when allowed) ----

function canNotify() { return "Notification" in window; }

function drawNotify() {
  $("notify").hidden = !canNotify() || Notification.permission !== "default";
}

function notify(a) {
  if (alarmSeen === a.id) return;
  alarmSeen = a.id;
  for (const id of RESULTS) {
    if (id === "sos-result" && Date.now() - sosAwaits < SOS_AWAITS_MS) { sosAwaits = 0; continue; }
    text($(id), "");
  }
  if (canNotify() && Notification.permission === "granted") {
    new Notification("Alarm at home", {body: a.what, tag: "alarm-" + a.id});
  }
}

async function refresh() {
  try {
    const h = await api("/api/app/home");
    drawStatus(h);
    drawAlarm(h.alarm);
    drawHistory(h.history);
  } catch (e) { showError(e); }
}

function wire() {
  const code = () => $("code").value;
  const send = (action, said) => doing("sent", async () => {
    await api("/api/app/command", {action, code: code()});
    $("code").value = "";
    return said + " Sent to the hub.";
  });
  $("arm-away").onclick = () => send("ARM_AWAY", "Arm Away.");
  $("arm-home").onclick = () => send("ARM_HOME", "Arm Home.");
  $("disarm").onclick = () => send("DISARM", "Disarm.");

  $("cancel-alarm").onclick = () => doing("alarm-result", async () => {
    const r = await api("/api/app/cancel", {password: $("verbal").value});
    $("verbal").value = "";
    refresh();
    return r.cancelled ? "Alarm cancelled. Nobody is sent."
                       : "That is not your verbal password. The monitoring center will call you.";
  });
  $("confirm-emergency").onclick = () => doing("alarm-result", async () => {
    const r = await api("/api/app/confirm", {});
    refresh();
    return "Help is on the way: " + (SERVICE[r.service] || r.service) + ".";
  });

  // SOS asks first: one tap in a pocket must not send the fire brigade.
  for (const b of document.querySelectorAll("button.sos")) {
    b.onclick = () => {
      sosService = b.dataset.service;
      text($("sos-question"), "Send " + SERVICE[sosService] + "? The monitoring center calls you to check.");
      $("sos-confirm").hidden = false;
    };
  }
  $("sos-no").onclick = () => { sosService = null; $("sos-confirm").hidden = true; };
  // The answer says what the monitoring center really does with it (the server
  // reads that before sending): a new alarm and its call, or that it joined
  // one already open or already sent, with when.
  $("sos-yes").onclick = () => doing("sos-result", async () => {
    const service = sosService;
    $("sos-confirm").hidden = true;
    const r = await api("/api/app/sos", {service});
    sosAwaits = Date.now();
    return r.said.replace("{time}", r.sent_ms ? clockText(r.sent_ms).slice(0, 5) : "");
  });

  // Enter in a field sends nothing by itself: which button is meant is the owner's choice.
  for (const f of document.querySelectorAll("form")) f.onsubmit = (e) => e.preventDefault();
  $("notify").onclick = async () => { await Notification.requestPermission(); drawNotify(); };
}

async function main() {
  try {
    const me = await api("/api/app");
    apiSession.csrf = me.csrf;
    text($("hub"), me.hub);
    text($("address"), me.address);
  } catch (e) { showError(e); return; }
  wire();
  drawNotify();
  await refresh();
  setInterval(refresh, POLL_MS);
}

main();

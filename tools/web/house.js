// The house page: polls /api/state and draws it; every click is a POST that
// drives the real hub (keys, sensor adverts, wired loops) or runs the monitoring
// service's operator actions (the phone, the operator's buttons).
"use strict";

const KEYS = ["1", "2", "3", "A", "4", "5", "6", "B", "7", "8", "9", "C", "*", "0", "#", "D"];
const KEY_HELP = {A: "Away", B: "Home", C: "Off", D: "Police", "*": "X", "#": "check"};
const STATE_HELP = {
  disarmed: "Off. Only panic, tamper and fire raise an alarm.",
  arming: "Exit delay: leave now (the buzzer beeps), or type the code and C to stop.",
  armed_home: "Armed for the night: doors, windows and glass watched; motion ignored.",
  armed_away: "Armed: every sensor is watched.",
  pending: "Entry delay: type the code and C (or #) now, or the alarm goes off.",
  triggered: "ALARM. Type the code and C to silence it.",
};
const STATE_WORDS = {disarmed: "Disarmed", arming: "Exit delay", armed_home: "Armed Home",
                     armed_away: "Armed Away", pending: "Entry delay", triggered: "Alarm"};
const ACTION = {open: "Open", close: "Close", motion: "Walk past", glass_break: "Break the glass",
                press: "Press", alarm: "Smoke!", tamper: "Tamper", tamper_restore: "Restore"};
const SERVICE = {police: "Police", fire: "Fire brigade", medical: "Ambulance"};
let since = 0;
let drawnZones = "";
let phoneKey = "";

function post(path, body) {
  return fetch(path, {method: "POST", headers: {"Content-Type": "application/json"},
                      body: JSON.stringify(body || {})})
    .then(r => r.json().then(j => { if (!r.ok) showError(j.error || r.statusText); return j; }))
    .catch(e => showError(String(e)));
}

// The house's inputs one after another, each sent when the last is done: the
// browser has several connections, and keys typed 1 2 3 4 A must not reach
// the keypad as 1 2 3 A 4.
let inputs = Promise.resolve();
function input(path, body) {
  inputs = inputs.then(() => post(path, body));
  return inputs;
}

function showError(text) {
  document.getElementById("kp-entry").textContent = "! " + text;
}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "onclick") e.onclick = v; else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

// The keypad's display: what the panel asks for now (with its countdown), then
// the entry being typed, masked, until the keypad answers or forgets it.
const KEYPAD_WORDS = {ok: "OK", error: "Not understood", wrong_code: "Wrong code",
  locked: "Locked out: wait", ready: "Ready again", not_ready: "Not ready: close the open zones",
  aborted: "Alarm aborted", bypassed: "Zone bypassed", unbypassed: "Zone watched again",
  user_saved: "Code saved", user_deleted: "User deleted"};
const FORGET_MS = 5000;         // the keypad forgets an unfinished entry (docs/panel.md)
const ANSWER_MS = 3000;         // how long the keypad's answer stays on the display
let typed = "", typedAt = 0, answer = "", answerAt = 0, keypadSeen = null;

function press(k) {
  typed += k;
  typedAt = Date.now();
  answer = "";
  drawEntry();
  const b = document.querySelector(`#keypad [data-key="${k}"]`);
  if (b) { b.classList.add("pressed"); setTimeout(() => b.classList.remove("pressed"), 150); }
  input("/api/keys", {keys: k});
}

function drawEntry() {
  const now = Date.now();
  if (typed && now - typedAt > FORGET_MS) typed = "";
  if (answer && now - answerAt > ANSWER_MS) answer = "";
  const shown = typed ? typed.replace(/[0-9]/g, "•") : answer;
  setText(document.getElementById("kp-entry"), shown || " ");
}

// The computer's keyboard types on the keypad: digits, A-D, * and # (Enter is #).
function keyboard(e) {
  if (e.ctrlKey || e.metaKey || e.altKey || e.repeat) return;
  if (e.target.closest && e.target.closest("input, textarea, select")) return;
  let k = e.key.length === 1 ? e.key.toUpperCase() : (e.key === "Enter" ? "#" : "");
  if (!KEYS.includes(k)) return;
  e.preventDefault();
  press(k);
}

// Minutes and seconds, as a keypad shows a wait: 2:41.
function minSec(s) {
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function prompt(s) {
  if (s.lockout_left_s) return `Locked out — ${minSec(s.lockout_left_s)}`;
  const c = s.countdown, left = c && c.left_s != null ? ` — ${c.left_s} s` : "";
  if (c && c.what === "entry") return "Enter code to disarm" + left;
  if (c && c.what === "exit") return "Exit delay: leave now" + left;
  if (c && c.what === "abort") return "ALARM: code + C to abort" + left;
  return {disarmed: "Code + A (Away) or B (Home) to arm", armed_home: "Code + C to disarm",
          armed_away: "Code + C to disarm", triggered: "ALARM: code + C to silence",
          arming: "Exit delay: leave now", pending: "Enter code to disarm"}[s.panel.state] || "";
}

function drawKeypad(s) {
  if (keypadSeen !== null && s.panel.keypad_n > keypadSeen) {
    typed = "";                                   // the keypad took the entry
    answer = KEYPAD_WORDS[s.panel.keypad] || s.panel.keypad;
    answerAt = Date.now();
  }
  keypadSeen = s.panel.keypad_n;
  setText(document.getElementById("kp-prompt"), prompt(s) || " ");
  drawEntry();
}

const COUNTDOWN = {exit: "Armed in", entry: "Alarm in", abort: "Monitoring center told in"};

function drawCountdown(c) {
  const box = document.getElementById("countdown");
  box.hidden = !c || c.left_s == null;
  if (box.hidden) return;
  box.dataset.what = c.what;
  setText(box, `${COUNTDOWN[c.what]} ${c.left_s} s`);
}

function buildKeypad() {
  const pad = document.getElementById("keypad");
  document.addEventListener("keydown", keyboard);
  for (const k of KEYS) {
    const b = el("button", {"data-key": k, onclick: () => press(k)}, k);
    if (KEY_HELP[k]) b.append(el("small", {}, KEY_HELP[k]));
    pad.append(b);
  }
  // Held as long as the pointer is down: the panel wants 2 s of X and check together.
  const hold = document.getElementById("hold-panic");
  let held = false;
  const up = () => { if (held) { held = false; input("/api/up"); } };
  hold.addEventListener("pointerdown", () => { held = true; input("/api/down", {keys: ["*", "#"]}); });
  hold.addEventListener("pointerup", up);
  hold.addEventListener("pointerleave", up);
}

function drawZones(zones) {
  const key = JSON.stringify(zones);
  if (key === drawnZones) return;
  drawnZones = key;
  const rooms = document.getElementById("rooms");
  rooms.replaceChildren();
  for (const z of zones) {
    const card = el("div", {class: "zone", "data-zone": z.name, "data-state": z.state || ""},
      el("b", {}, z.name.replace(/_/g, " ")),
      el("div", {class: "kind"}, `zone ${z.number} · ${z.type.replace("_", " ")} · ` +
         (z.kind === "wired" ? "wired loop" : "Bluetooth sensor") +
         (z.state ? ` · ${z.state}` : "")));
    for (const ev of z.events) {
      if (z.state && ((ev === "open" || ev === "tamper") && z.state === "open" ||
                      (ev === "close" || ev === "tamper_restore") && z.state === "closed")) continue;
      card.append(el("button", {"data-event": ev,
        onclick: () => input("/api/zone", {zone: z.name, event: ev})}, ACTION[ev] || ev));
    }
    rooms.append(card);
  }
}

// What each output's pattern means, as a person hears or sees it.
const PATTERN = {off: "off", steady: "sounding", temporal3: "fire pattern", exit: "exit beeps",
                 exit_fast: "exit beeps, faster", entry: "entry beeps", alarm: "alarm",
                 trouble: "trouble beeps"};

function drawOutputs(outputs, panel) {
  const names = {siren: PATTERN[panel.siren] || panel.siren,
                 buzzer: PATTERN[panel.buzzer] || panel.buzzer,
                 led: STATE_WORDS[panel.state] || panel.state};
  for (const [name, o] of Object.entries(outputs)) {
    const box = document.getElementById("out-" + name);
    if (!box) continue;
    box.dataset.level = o.level;
    box.classList.toggle("blinking", o.toggles > 1);
    box.querySelector(".pattern").textContent = names[name] ? `(${names[name]})` : "";
  }
}

// The monitoring center's side goes through the service's operator actions
// (the console's verbs), run by the page's server as the demo operator.
function service(caseId, action, body) {
  return post(`/api/service/cases/${caseId}/${action}`, body || {});
}

function drawPhone(cases) {
  const phone = document.getElementById("phone");
  const c = cases.find(c => c.call);
  const key = c ? JSON.stringify([c.id, c.call]) : "";
  if (key === phoneKey) return;
  phoneKey = key;
  phone.hidden = !c;
  phone.replaceChildren();
  if (!c) return;
  const call = c.call;
  const who = `${call.name} (${call.phone})`;
  phone.classList.toggle("ringing", call.status === "ringing");
  phone.dataset.status = call.status;
  if (call.status === "ringing") {
    phone.append(el("div", {class: "label"}, "Phone"),
      el("p", {}, `Phone ringing: the monitoring center is calling ${who} about case ${c.id} (${c.plan}).`),
      el("p", {class: "countdown", id: "ring-left"}),
      el("button", {id: "answer", onclick: () => service(c.id, "answered")}, "Answer"), " ",
      el("button", {id: "decline", onclick: () => service(c.id, "no_answer")}, "Don't answer"));
  } else {
    const pw = el("input", {id: "password", placeholder: "verbal password"});
    const ask = (request) => service(c.id, "request", {request});
    phone.append(el("div", {class: "label"}, `On the phone as ${who}`),
      el("p", {}, "Operator: \"Please give me your verbal password.\"" +
         (call.password ? ` (you gave a ${call.password} one)` : "")),
      pw, " ", el("button", {id: "say", onclick: () => service(c.id, "password", {password: pw.value || "-"})},
                  "Say it"),
      el("p", {}, "Then:"),
      el("button", {id: "ask-dispatch", onclick: () => ask("dispatch")}, "Send help"), " ",
      el("button", {id: "ask-cancel", onclick: () => ask("cancel")}, "False alarm, cancel"), " ",
      el("button", {id: "hang-up", onclick: () => ask(null)}, "Hang up"));
  }
}

// One card per case, made once and then changed in place: the poll runs every
// 200 ms, and a button replaced between press and release loses the click.
function caseCard(c) {
  const op = (what) => service(c.id, what);
  return el("div", {class: "case", "data-case": c.id, "data-plan": c.plan},
    el("h3", {}),
    el("div", {class: "ending"}),
    el("ol", {class: "steps"}),
    el("div", {class: "operator", hidden: ""}, "Operator: ",
      el("button", {id: `op-call-${c.id}`, onclick: () => op("call")}, "Call the next contact"), " ",
      el("button", {id: `op-dispatch-${c.id}`, onclick: () => op("dispatch")}, "Dispatch"), " ",
      el("button", {id: `op-cancel-${c.id}`, onclick: () => op("cancel")}, "Cancel")));
}

function setText(node, value) { if (node.textContent !== value) node.textContent = value; }

// The service's waits come as wall-clock ms (monitor/web/views.py wall_of): real seconds.
function realSeconds(ms) { return `${Math.max(0, Math.round(ms / 1000))} s`; }

function drawRing(cases) {
  const left = document.getElementById("ring-left");
  const c = cases.find(c => c.call && c.ring_left_s != null);
  if (left && c) setText(left, `It rings out in ${c.ring_left_s} s.`);
}

function drawCases(cases) {
  const box = document.getElementById("cases");
  if (!cases.length) return;
  const quiet = box.querySelector(".quiet");
  if (quiet) quiet.remove();
  let prev = null;
  for (const c of cases) {
    let card = box.querySelector(`.case[data-case="${c.id}"]`);
    if (!card) card = caseCard(c);
    card.dataset.status = c.status;
    setText(card.querySelector("h3"), `Case ${c.id}: ${c.plan} · ${c.status}`);
    const ending = card.querySelector(".ending");
    if (c.ended && !ending.firstChild) {
      ending.append(c.ended.step === "dispatch"
        ? el("div", {class: "dispatch", "data-service": c.ended.service},
             `${SERVICE[c.ended.service] || c.ended.service} dispatched (${c.ended.because})`)
        : el("div", {class: "cancelled"}, `Cancelled, nobody sent (${c.ended.because})`));
    }
    const steps = card.querySelector(".steps");
    for (const s of c.steps.slice(steps.children.length)) steps.append(el("li", {}, s));
    // A case waiting for a person (e.g. held under "Only If I Say").
    const op = card.querySelector(".operator");
    op.hidden = !!(c.ended || c.call);
    if (!op.hidden) setText(op.firstChild, c.held_since_ms
      ? `Operator (held for ${realSeconds(lastState.now_ms - c.held_since_ms)}): ` : "Operator: ");
    const want = prev ? prev.nextSibling : box.firstChild;
    if (want !== card) box.insertBefore(card, want);
    prev = card;
  }
}

// Between plays: what the last play left open would catch the next one (a
// standing duress case takes in every later alarm), so the demo's operator
// closes it, by name, through the service (tools/sim/close_all.py).
function drawCloseAll(ids) {
  const box = document.getElementById("close-all-box");
  const said = document.getElementById("close-all-said");
  box.hidden = !ids.length && !said.textContent;
  setText(document.getElementById("open-cases"), !ids.length ? "No case of this hub is open."
    : `Open ${ids.length === 1 ? "case" : "cases"} of this hub: ${ids.join(", ")}.`);
  document.getElementById("close-all").disabled = !ids.length;
}

async function closeAll() {
  const said = document.getElementById("close-all-said");
  const r = await post("/api/service/close-all", {});
  if (r && r.ok) setText(said, r.closed.length
    ? `Closed ${r.closed.length === 1 ? "case" : "cases"} ${r.closed.join(", ")} as the ${r.by}.`
    : "Nothing was open.");
}

function drawConsole(con) {
  const box = document.getElementById("console-link");
  if (!con || !box || box.dataset.url === con.url) return;
  box.dataset.url = con.url;
  box.hidden = false;
  box.replaceChildren("Operator console: ", el("a", {href: con.url, target: "_blank"}, con.url),
    ` (log in as ${con.user} / ${con.password})`);
  if (con.app) {
    document.getElementById("app-link").href = con.app;
    document.getElementById("app").hidden = false;
  }
}

function drawLog(lines) {
  const log = document.getElementById("log");
  for (const line of lines) {
    const hub = line.t == null ? "" : `hub time ${(line.t / 1000).toFixed(1)} s`;
    log.prepend(el("li", {"data-source": line.source, title: hub},
                   el("time", {}, line.clock), " ", line.text));
  }
  while (log.children.length > 300) log.lastChild.remove();
}

let lastState = {speed: 1, now_ms: 0};

function draw(s) {
  lastState = s;
  document.getElementById("story-s").textContent = s.story_s.toFixed(0);
  document.getElementById("speed").textContent = s.speed;
  document.getElementById("online").textContent = s.online || "?";
  const st = document.getElementById("state");
  st.dataset.state = s.panel.state || "";
  st.textContent = STATE_WORDS[s.panel.state] || (s.panel.state || "starting").replace("_", " ");
  document.getElementById("state-help").textContent = STATE_HELP[s.panel.state] || "";
  const tr = document.getElementById("trouble");
  tr.hidden = !s.trouble;
  if (s.trouble) tr.textContent = "Hub trouble: " + (s.trouble.error || JSON.stringify(s.trouble));
  drawKeypad(s);
  drawCountdown(s.countdown);
  drawOutputs(s.outputs, s.panel);
  drawZones(s.zones);
  drawPhone(s.cases);
  drawRing(s.cases);
  drawCases(s.cases);
  drawCloseAll(s.to_close);
  drawLog(s.log);
  drawConsole(s.console);
  since = s.next;
}

function poll() {
  fetch("/api/state?since=" + since).then(r => r.json()).then(draw)
    .catch(() => { document.getElementById("online").textContent = "page server stopped"; })
    .finally(() => setTimeout(poll, 200));
}

buildKeypad();
document.getElementById("close-all").onclick = closeAll;
poll();

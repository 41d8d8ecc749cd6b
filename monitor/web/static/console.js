// The console pages (the owner's app is app.js; both call the API through api.js).
// Data from /api/*; live changes from the /api/stream Server-Sent Events (which
// cases changed, a few times a second).
// Live updates change what is on screen in place (rows and buttons keyed by
// id), never rebuild it: a button must not be swapped under a pressed pointer.
"use strict";

const $ = (id) => document.getElementById(id);
const page = document.body.dataset.page;
const lastPart = () => decodeURIComponent(location.pathname.split("/").filter(Boolean).pop());
let clockOffset = 0;     // server ms - browser ms, so countdowns use the server's clock

// api() is api.js's, shared with the owner's app: here a 401 goes to the login
// page, and every answer's now_ms sets the clock offset.
if (page !== "login") {
  apiSession.onDenied = () => location.assign("/login?next=" + encodeURIComponent(location.pathname));
}
apiSession.onData = (data) => {
  if (data && typeof data.now_ms === "number") clockOffset = data.now_ms - Date.now();
};

function showError(e) { const el = $("error"); if (el) el.textContent = e ? e.message : ""; }

function text(el, value) {
  const v = value == null ? "" : String(value);
  if (el.textContent !== v) el.textContent = v;      // untouched when unchanged
}

async function whoami() {
  const me = await api("/api/me");
  if (!me.logged_in) { apiSession.onDenied(); return new Promise(() => {}); }  // leaving the page
  apiSession.csrf = me.csrf;
  text($("who"), me.name + " (" + me.role + ")");
  if ($("operators-link")) $("operators-link").hidden = me.role !== "admin";
  $("btn-logout").onclick = async () => {
    await api("/api/logout", {}).catch(() => null);
    location.assign("/login");
  };
  return me;
}

function live(onChanged) {
  const es = new EventSource("/api/stream");
  es.onopen = () => { if ($("live")) text($("live"), "live"); };
  es.onerror = () => { if ($("live")) text($("live"), "reconnecting…"); };
  es.addEventListener("changed", (ev) => onChanged(JSON.parse(ev.data)));
}

// ---- words and countdowns ----

function seconds(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  return s >= 60 ? Math.floor(s / 60) + " min " + (s % 60) + " s" : s + " s";
}

function waitText(c) {
  if (c.ring_due_ms) return {kind: "ring", due: c.ring_due_ms};
  if (c.held_since_ms) return {kind: "held", since: c.held_since_ms};
  return null;
}

// Every element with data-due counts down, data-since counts up, once a second.
function tick() {
  const now = Date.now() + clockOffset;
  for (const el of document.querySelectorAll("[data-due]")) {
    text(el, "rings out in " + seconds(Number(el.dataset.due) - now));
  }
  for (const el of document.querySelectorAll("[data-since]")) {
    text(el, "held for " + seconds(now - Number(el.dataset.since)) +
             (el.dataset.overdue === "1" ? " (overdue)" : ""));
  }
}
setInterval(tick, 1000);

function setWait(el, c) {
  const w = waitText(c);
  delete el.dataset.due; delete el.dataset.since;
  if (!w) { text(el, ""); return; }
  if (w.kind === "ring") el.dataset.due = w.due; else el.dataset.since = w.since;
  el.dataset.overdue = c.overdue ? "1" : "0";
  tick();
}

function whatCell(el, what, code) {
  // Words first, the Contact ID code beside them.
  let words = el.querySelector(".words"), codeEl = el.querySelector(".code");
  if (!words) {
    words = document.createElement("span"); words.className = "words";
    codeEl = document.createElement("span"); codeEl.className = "code";
    el.append(words, codeEl);
  }
  text(words, what || "");
  text(codeEl, code || "");
}

// A step as the server worded it (monitor/web/words.py step), at its time.
function describe(s) { return clockText(s.t) + "  " + s.text; }

// A clock time beside what was done ("police sent 03:52"): the one format, to the minute.
function hhmm(ms) { return clockText(ms).slice(0, 5); }

// ---- queue ----

const COLUMNS = ["link", "plan", "what", "hub", "address", "wait", "next"];
let announced = null;       // case id -> what was last announced of it (null: first load)

// What was done, and that it is not closed: "police sent 03:52, not closed".
function doneText(c) {
  if (!c.done || !c.done.length) return "";
  return c.done.map((d) => d.what + " " + hhmm(d.t)).join(", ") + ", not closed";
}

function newsText(c) {
  if (!c.news) return "";
  return c.news.words + (c.news.code ? " [" + c.news.code + "]" : "") +
         ", joined this case at " + hhmm(c.news.t);
}

// The live view says aloud (an aria-live line) a new case, and an alarm that
// joined one, once each.
function announce(cases) {
  const first = announced === null;
  const now = new Map();
  const said = [];
  for (const c of cases) {
    const key = c.news ? "update " + c.news.t : "case";
    now.set(String(c.id), key);
    if (first || !c.needs_ack || (announced.get(String(c.id)) === key)) continue;
    said.push(c.news ? "Update on case #" + c.id + ": " + newsText(c)
                     : "New case #" + c.id + ": " + (c.what || c.plan));
  }
  announced = now;
  if (said.length) text($("announce"), said.join(" · "));
}

function queueRow(c) {
  const tr = document.createElement("tr");
  tr.className = "case-row";
  tr.dataset.case = c.id;
  for (const col of COLUMNS) {
    const td = document.createElement("td");
    td.className = "col-" + col;
    if (col === "link") {
      const a = document.createElement("a");
      a.href = "/case/" + c.id;
      a.className = "case-link";
      a.textContent = "#" + c.id;
      td.append(a);
    }
    tr.append(td);
  }
  return tr;
}

// A row moved or grown under a pressed pointer takes the click somewhere else
// (an update on another case puts it on top, its words add a line): while a
// button is held down the queue waits, and catches up when it is let go.
let pressed = false, behind = false;
document.addEventListener("pointerdown", () => { pressed = true; }, true);
for (const ev of ["pointerup", "pointercancel"]) {
  document.addEventListener(ev, () => {
    pressed = false;
    if (behind) { behind = false; setTimeout(loadQueue, 0); }
  }, true);
}

async function loadQueue() {
  const data = await api("/api/cases");
  if (pressed) { behind = true; return; }
  const body = $("queue");
  const rows = new Map([...body.children].map((tr) => [tr.dataset.case, tr]));
  const keep = new Set();
  let prev = null;
  for (const c of data.cases) {
    const id = String(c.id);
    keep.add(id);
    let tr = rows.get(id);
    if (!tr) tr = queueRow(c);
    const cell = (col) => tr.querySelector(".col-" + col);
    cell("plan").className = "col-plan plan plan-" + c.plan;
    text(cell("plan"), c.plan + (c.service ? " " + c.service : ""));
    whatCell(cell("what"), c.what, c.code);
    markCell(cell("what"), c);
    text(cell("hub"), c.hub);
    text(cell("address"), c.address);
    setWait(cell("wait"), c);
    text(cell("next"), c.next);
    tr.classList.toggle("overdue", !!c.overdue);
    tr.classList.toggle("unacked", !!c.needs_ack);
    tr.dataset.status = c.status;
    // Move a row only when the order changed; a row is never replaced.
    const want = prev ? prev.nextSibling : body.firstChild;
    if (want !== tr) body.insertBefore(tr, want);
    prev = tr;
  }
  for (const [id, tr] of rows) if (!keep.has(id)) tr.remove();
  $("empty").hidden = data.cases.length > 0;
  announce(data.cases);
}

// Under the words: "NEW" until acknowledged, the alarm that joined, what was done.
function markCell(el, c) {
  let mark = el.querySelector(".mark"), news = el.querySelector(".news"),
      done = el.querySelector(".done");
  if (!mark) {
    mark = document.createElement("span"); mark.className = "mark";
    news = document.createElement("div"); news.className = "news";
    done = document.createElement("div"); done.className = "done";
    el.prepend(mark);
    el.append(news, done);
  }
  text(mark, c.needs_ack ? (c.news ? "UPDATE" : "NEW") : "");
  text(news, newsText(c));
  text(done, doneText(c));
}

// ---- case ----

let caseData = null;

async function loadCase() {
  caseData = await api("/api/cases/" + lastPart());
  const c = caseData.case, a = caseData.account;
  text($("case-id"), "#" + c.id);
  text($("plan"), c.plan + (c.service ? " (" + c.service + ")" : ""));
  $("plan").className = "plan plan-" + c.plan;
  text($("status"), c.status_words);
  $("status").dataset.status = c.status;
  whatCell($("what"), c.what, c.code);
  markCell($("what"), c);
  text($("address"), a.address + " — hub " + a.hub);
  text($("policy"), a.policy === "only_if_i_say" ? "Only if I say" : "If no one cancels");
  $("account-link").href = "/account/" + encodeURIComponent(a.hub);
  text($("next"), caseData.next);
  setWait($("wait"), c.status === "open" ? c : {});
  const who = caseData.contact_to_call;
  text($("contact-name"), who ? "#" + who.position + " " + who.name : "none left");
  text($("contact-phone"), who ? who.phone : "");
  const call = caseData.call;
  text($("call-state"), call ? "Call to contact " + call.contact + ": " + call.status : "No call in progress");
  const open = c.status === "open", calls = ["burglar", "panic", "sos"].includes(c.plan);
  $("btn-call").disabled = !open || !calls || !!call || !who;
  $("btn-answered").disabled = !call || call.status !== "ringing";
  $("btn-no-answer").disabled = !call || call.status !== "ringing";
  const talking = !!call && call.status === "answered";
  for (const id of ["password", "btn-check", "btn-req-dispatch", "btn-req-cancel", "btn-req-none"])
    $(id).disabled = !talking;
  $("btn-dispatch").disabled = !open || c.plan === "trouble";
  $("btn-cancel").disabled = !open || c.plan === "duress";
  $("btn-close").disabled = !["dispatched", "cancelled"].includes(c.status) || !!c.closed_ms;
  $("btn-ack").disabled = !c.needs_ack;
  // A hub under duress: nobody is called, so nothing offers a call.
  $("contact-box").hidden = $("password-box").hidden = c.plan === "duress";
  const ol = $("timeline");
  const have = new Set([...ol.children].map((li) => li.dataset.id));
  for (const s of caseData.timeline) {
    if (have.has(String(s.id))) continue;
    const li = document.createElement("li");
    li.dataset.id = s.id;
    li.dataset.step = s.step;
    li.textContent = describe(s);
    ol.append(li);
  }
}

async function act(action, body) {
  showError(null);
  try {
    const res = await api("/api/cases/" + lastPart() + "/" + action, body || {});
    await loadCase();
    return res;
  } catch (e) { showError(e); }
}

function wireCase() {
  // A form, so the browser knows the password field; Enter sends nothing by itself.
  $("password-box").onsubmit = (ev) => ev.preventDefault();
  $("btn-call").onclick = () => act("call");
  $("btn-answered").onclick = () => act("answered");
  $("btn-no-answer").onclick = () => act("no_answer");
  $("btn-check").onclick = async () => {
    const input = $("password");
    const res = await act("password", {password: input.value});
    input.value = "";   // what the caller said is never kept on screen
    if (res) { text($("verdict"), res.result); $("verdict").className = res.result; }
  };
  // Enter in the field checks the password; the page never submits the form.
  $("password-box").onsubmit = (ev) => {
    ev.preventDefault();
    if (!$("btn-check").disabled) $("btn-check").click();
  };
  $("btn-req-dispatch").onclick = () => act("request", {request: "dispatch"});
  $("btn-req-cancel").onclick = () => act("request", {request: "cancel"});
  $("btn-req-none").onclick = () => act("request", {request: null});
  $("btn-dispatch").onclick = () => act("dispatch");
  $("btn-cancel").onclick = () => act("cancel");
  $("btn-close").onclick = () => act("close");
  $("btn-ack").onclick = () => act("acknowledge");
}

// ---- account ----

function contactRow(c) {
  const div = document.createElement("div");
  div.className = "contact";
  for (const key of ["name", "phone"]) {
    const input = document.createElement("input");
    input.className = "contact-" + key;
    input.placeholder = key;
    input.value = c[key] || "";
    div.append(input, " ");
  }
  return div;
}

async function loadAccount(me) {
  const a = await api("/api/accounts/" + encodeURIComponent(lastPart()));
  text($("hub"), a.hub);
  $("address").value = a.address;
  $("policy").value = a.policy;
  $("call-next").checked = a.call_next_contacts;
  text($("pw-state"), a.verbal_password_set ? "set" : "not set");
  $("contacts").replaceChildren(...a.contacts.map(contactRow));
  const admin = me.role === "admin";
  $("admin-only").hidden = admin;
  $("btn-save").disabled = !admin;
  $("link-box").hidden = !admin;
}

function wireAccount(me) {
  $("add-contact").onclick = () => $("contacts").append(contactRow({}));
  $("account-form").onsubmit = async (ev) => {
    ev.preventDefault();
    showError(null);
    const contacts = [...document.querySelectorAll(".contact")].map((d) => ({
      name: d.querySelector(".contact-name").value, phone: d.querySelector(".contact-phone").value}));
    try {
      await api("/api/accounts/" + encodeURIComponent(lastPart()), {
        address: $("address").value, policy: $("policy").value, contacts,
        call_next_contacts: $("call-next").checked, password: $("password").value || null});
      $("password").value = "";
      text($("saved"), "saved");
      await loadAccount(me);
    } catch (e) { showError(e); }
  };
  $("btn-link").onclick = async () => {
    try {
      const res = await api("/api/accounts/" + encodeURIComponent(lastPart()) + "/link", {});
      text($("link-url"), res.url);
    } catch (e) { showError(e); }
  };
}

// ---- operators (admins) ----

async function loadOperators() {
  const ops = await api("/api/operators");
  $("operators").replaceChildren(...ops.map((o) => {
    const tr = document.createElement("tr");
    tr.dataset.name = o.name;
    for (const v of [o.name, o.role]) {
      const td = document.createElement("td");
      td.textContent = v;
      tr.append(td);
    }
    return tr;
  }));
}

function wireOperators() {
  $("operator-form").onsubmit = async (ev) => {
    ev.preventDefault();
    showError(null);
    try {
      await api("/api/operators", {name: $("op-name").value, password: $("op-password").value,
                                   role: $("op-role").value});
      $("op-password").value = "";
      text($("saved"), "added " + $("op-name").value);
      await loadOperators();
    } catch (e) { showError(e); }
  };
}

// ---- login ----

async function wireLogin() {
  $("login-form").onsubmit = async (ev) => {
    ev.preventDefault();
    showError(null);
    try {
      await api("/api/login", {name: $("name").value, password: $("password").value});
      const next = new URLSearchParams(location.search).get("next") || "/";
      // Only a path on this site: never an address someone put in the link.
      location.assign(next.startsWith("/") && !next.startsWith("//") ? next : "/");
    } catch (e) { $("password").value = ""; showError(e); }
  };
  // The server may know better where a newcomer's login is (`make run` printed it).
  const me = await api("/api/me");
  if (me.login_hint) text($("login-hint"), me.login_hint);
}

async function main() {
  if (page === "login") return wireLogin();
  const me = await whoami();
  if (page === "queue") { await loadQueue(); live(() => loadQueue().catch(showError)); }
  if (page === "case") {
    wireCase();
    await loadCase();
    live((changed) => {
      if (changed.cases.some((id) => String(id) === lastPart())) loadCase().catch(showError);
    });
  }
  if (page === "account") { wireAccount(me); await loadAccount(me); }
  if (page === "operators") { wireOperators(); await loadOperators(); }
}

main().catch(showError);

// The console pages. Data comes from /api/*; live changes from the
// /api/stream Server-Sent Events (one event per timeline step).
"use strict";

const $ = (id) => document.getElementById(id);
const page = document.body.dataset.page;
const lastPart = () => decodeURIComponent(location.pathname.split("/").filter(Boolean).pop());

async function api(path, body) {
  const opts = body === undefined ? {} :
    {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)};
  const res = await fetch(path, opts);
  const data = await res.json();
  if (!res.ok) throw new Error(data.error || res.statusText);
  return data;
}

function showError(e) { const el = $("error"); if (el) el.textContent = e ? e.message : ""; }

function text(el, value) { el.textContent = value == null ? "" : String(value); }

function live(onStep) {
  const es = new EventSource("/api/stream");
  es.onopen = () => { if ($("live")) text($("live"), "live"); };
  es.addEventListener("step", (ev) => onStep(JSON.parse(ev.data)));
}

function describe(s) {
  const when = new Date(s.t).toLocaleTimeString();
  const bits = [s.step];
  if (s.code) bits.push(s.code);
  if (s.contact) bits.push("contact " + s.contact + (s.name ? " (" + s.name + ")" : ""));
  if (s.result) bits.push(s.result);
  if (s.service) bits.push(s.service);
  if (s.reason) bits.push("reason: " + s.reason);
  return when + "  " + bits.join(" · ");
}

// ---- queue ----

async function loadQueue() {
  const cases = await api("/api/cases");
  const body = $("queue");
  body.replaceChildren();
  for (const c of cases) {
    const tr = document.createElement("tr");
    tr.className = "case-row";
    const link = document.createElement("a");
    link.href = "/case/" + c.id;
    link.className = "case-link";
    text(link, "#" + c.id);
    const cells = [link, null, c.hub, c.address, c.next];
    cells.forEach((v, i) => {
      const td = document.createElement("td");
      if (i === 0) td.append(v);
      else if (i === 1) { td.className = "plan plan-" + c.plan; text(td, c.plan + (c.service ? " " + c.service : "")); }
      else text(td, v);
      tr.append(td);
    });
    body.append(tr);
  }
  $("empty").hidden = cases.length > 0;
}

// ---- case ----

let caseData = null;

async function loadCase() {
  caseData = await api("/api/cases/" + lastPart());
  const c = caseData.case, a = caseData.account;
  text($("case-id"), "#" + c.id);
  text($("plan"), c.plan + (c.service ? " (" + c.service + ")" : ""));
  $("plan").className = "plan plan-" + c.plan;
  text($("status"), c.status);
  $("status").dataset.status = c.status;
  text($("address"), a.address + " — hub " + a.hub);
  text($("policy"), a.policy);
  $("account-link").href = "/account/" + encodeURIComponent(a.hub);
  text($("next"), caseData.next);
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
  const ol = $("timeline");
  ol.replaceChildren();
  for (const s of caseData.timeline) {
    const li = document.createElement("li");
    li.dataset.step = s.step;
    text(li, describe(s));
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
  $("btn-call").onclick = () => act("call");
  $("btn-answered").onclick = () => act("answered");
  $("btn-no-answer").onclick = () => act("no_answer");
  $("btn-check").onclick = async () => {
    const input = $("password");
    const res = await act("password", {password: input.value});
    input.value = "";   // what the caller said is never kept on screen
    if (res) { text($("verdict"), res.result); $("verdict").className = res.result; }
  };
  $("btn-req-dispatch").onclick = () => act("request", {request: "dispatch"});
  $("btn-req-cancel").onclick = () => act("request", {request: "cancel"});
  $("btn-req-none").onclick = () => act("request", {request: null});
  $("btn-dispatch").onclick = () => act("dispatch");
  $("btn-cancel").onclick = () => act("cancel");
}

// ---- account ----

function contactRow(c) {
  const div = document.createElement("div");
  div.className = "contact";
  for (const [key, ph] of [["name", "name"], ["phone", "phone"]]) {
    const input = document.createElement("input");
    input.className = "contact-" + key;
    input.placeholder = ph;
    input.value = c[key] || "";
    div.append(input, " ");
  }
  return div;
}

async function loadAccount() {
  const a = await api("/api/accounts/" + encodeURIComponent(lastPart()));
  text($("hub"), a.hub);
  $("app-link").href = "/app/" + encodeURIComponent(a.hub);
  $("address").value = a.address;
  $("policy").value = a.policy;
  $("call-next").checked = a.call_next_contacts;
  text($("pw-state"), a.verbal_password_set ? "set" : "not set");
  $("contacts").replaceChildren(...a.contacts.map(contactRow));
}

function wireAccount() {
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
      await loadAccount();
    } catch (e) { showError(e); }
  };
}

// ---- customer app ----

function wireApp() {
  text($("hub"), lastPart());
  for (const b of document.querySelectorAll("button.sos")) {
    b.onclick = async () => {
      showError(null);
      try {
        await api("/api/accounts/" + encodeURIComponent(lastPart()) + "/sos", {service: b.dataset.service});
        text($("sent"), "Help requested: " + b.dataset.service + ". We are calling you.");
      } catch (e) { showError(e); }
    };
  }
}

if (page === "queue") { loadQueue().catch(showError); live(() => loadQueue().catch(showError)); }
if (page === "case") {
  wireCase();
  loadCase().catch(showError);
  live((s) => { if (String(s.case) === lastPart()) loadCase().catch(showError); });
}
if (page === "account") { wireAccount(); loadAccount().catch(showError); }
if (page === "app") wireApp();

// The phone's page: everything comes from the control API (same origin; the
// login cookie authenticates fetch and EventSource alike).
"use strict";

const $ = (sel) => document.querySelector(sel);

// api calls the control API and returns its JSON; a 401 means the login
// expired: back to the form.
async function api(method, path, body) {
  const opt = { method, headers: {} };
  if (body !== undefined) {
    opt.headers["Content-Type"] = "application/json";
    opt.body = JSON.stringify(body);
  }
  const res = await fetch(path, opt);
  if (res.status === 401) {
    location.href = "/login";
    throw new Error("logged out");
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const err = new Error(data.message || res.status + " " + res.statusText);
    err.data = data;
    throw err;
  }
  return data;
}

function notice(msg, bad) {
  const n = $("#notice");
  n.textContent = msg;
  n.classList.toggle("bad", !!bad);
  n.hidden = !msg;
}

// act runs a button's API call and shows its error, if any.
async function act(method, path, body) {
  try {
    await api(method, path, body);
    notice("");
  } catch (e) {
    notice(e.message, true);
  }
  refreshSoon();
}

function ago(ms) {
  if (!ms) return "";
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return s + " s";
  if (s < 3600) return Math.floor(s / 60) + " min";
  return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
}

function clock(ms) {
  return ms ? new Date(ms).toLocaleString([], { dateStyle: "short", timeStyle: "medium" }) : "";
}

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

// ------------------------------------------------------------------ status

async function loadState() {
  const st = await api("GET", "/v1/state");
  $("#extension").textContent = st.extension;
  const reg = $("#registration");
  reg.textContent = st.registration.state;
  reg.dataset.state = st.registration.state;
  let detail = st.registration.state;
  if (st.registration.code) detail += " (" + st.registration.code + " " + (st.registration.reason || "") + ")";
  if (st.connection && st.connection !== "up") detail += ", connection " + st.connection;
  $("#reg-detail").textContent = detail;
  showAgent(st.agent);
  showCalls(st.sessions || []);
}

function showAgent(a) {
  if (!a) return;
  let s = a.status + (a.reason ? " (" + a.reason + ")" : "");
  if (a.pending) s += ", then " + a.pending;
  if (a.wrapUpLeft) s += ", wrap-up " + a.wrapUpLeft;
  if (a.kicked) s += " — kicked out";
  $("#agent-status").textContent = s;
  $("#agent-status").dataset.status = a.status;
  $("#agent-since").textContent = a.since ? "for " + ago(a.since) : "";
  $("#agent-sync").textContent = a.sync ? a.sync.backend + (a.sync.inSync ? ", in sync" : ", not in sync") + (a.sync.error ? ": " + a.sync.error : "") : "none";
  const sel = $("#rest-reason");
  const want = (a.restReasons || []).join("\n");
  if (sel.dataset.list !== want) {
    sel.replaceChildren(...(a.restReasons || []).map((r) => el("option", r)));
    sel.dataset.list = want;
  }
}

function showCalls(sessions) {
  const ul = $("#calls");
  ul.replaceChildren();
  $("#no-calls").hidden = sessions.length > 0;
  for (const s of sessions) {
    const peer = s.sessionDirection === "CallIn" ? s.callerPhoneNumber : s.calleePhoneNumber;
    const li = el("li");
    li.dataset.session = s.sessionId;
    li.append(el("strong", (s.sessionDirection === "CallIn" ? "← " : "→ ") + peer + (s.peerName ? " (" + s.peerName + ")" : "")));
    let what = " " + s.state + (s.muted ? ", muted" : "") + (s.remoteHold ? ", held by the far end" : "");
    if (s.acceptTimestamp) what += ", " + ago(s.acceptTimestamp);
    li.append(el("span", what));
    const row = el("div", undefined, "row");
    const btn = (label, path, cls) => {
      const b = el("button", label, cls);
      b.addEventListener("click", () => act("POST", path, { sessionId: s.sessionId }));
      row.append(b);
    };
    if (s.sessionDirection === "CallIn" && !s.acceptTimestamp) btn("Answer", "/v1/answer", "green");
    btn(s.sessionDirection === "CallIn" && !s.acceptTimestamp ? "Reject" : "Hang up", s.acceptTimestamp || s.sessionDirection === "CallOut" ? "/v1/terminate" : "/v1/reject", "red");
    if (s.acceptTimestamp) {
      btn(s.muted ? "Unmute" : "Mute", s.muted ? "/v1/unmute" : "/v1/mute");
      btn(s.state === "held" ? "Resume" : "Hold", s.state === "held" ? "/v1/unhold" : "/v1/hold");
    }
    li.append(row);
    ul.append(li);
  }
}

async function loadAgent() {
  showAgent(await api("GET", "/v1/agent/status"));
}

// ------------------------------------------------------------------- panel

let hasPanel = true;

async function loadPanel() {
  if (!hasPanel) return;
  let p;
  try {
    p = await api("GET", "/v1/panel");
  } catch (e) {
    hasPanel = false; // a real board: no simulated panel
    $("#panel").hidden = true;
    $("#panel-missing").hidden = false;
    return;
  }
  const text = (p.display || []).join("\n");
  if ($("#display").textContent !== text) $("#display").textContent = text;
  const leds = $("#leds");
  leds.replaceChildren();
  for (const name of Object.keys(p.leds || {}).sort()) {
    const li = el("li", name);
    li.dataset.led = name;
    li.dataset.state = p.leds[name];
    if (p.colors && p.colors[name]) li.dataset.color = p.colors[name];
    li.title = name + ": " + p.leds[name] + (p.colors && p.colors[name] ? " " + p.colors[name] : "");
    leds.append(li);
  }
}

function press(key) {
  api("POST", "/v1/panel/press", { key }).then(() => notice(""), (e) => notice(e.message, true)).finally(loadPanel);
}

// ----------------------------------------------------------------- history

async function loadHistory() {
  const h = await api("GET", "/v1/history");
  const rows = (h.calls || []).map((c) => {
    const tr = el("tr");
    tr.dataset.session = c.sessionId;
    tr.append(el("td", clock(c.start)), el("td", c.direction === "CallIn" ? "in" : c.direction === "CallOut" ? "out" : ""),
      el("td", c.peer + (c.peerName ? " (" + c.peerName + ")" : "")),
      el("td", c.answer ? c.duration + " s" : "—"),
      el("td", c.end ? c.endReason + (c.sipCode ? " " + c.sipCode : "") : "live"));
    return tr;
  });
  $("#history tbody").replaceChildren(...rows);
}

// ---------------------------------------------------------------- settings

async function loadConfig() {
  try {
    const c = await api("GET", "/v1/config");
    $("#config-file").textContent = c.file;
    $("#config-text").value = c.text;
    $("#config-result").replaceChildren();
  } catch (e) {
    $("#config-result").replaceChildren(el("p", e.message, "bad"));
  }
}

async function saveConfig(ev) {
  ev.preventDefault();
  const out = $("#config-result");
  out.replaceChildren(el("p", "Saving…"));
  try {
    const r = await api("PUT", "/v1/config", { text: $("#config-text").value });
    out.replaceChildren(el("p", r.message, "good"));
  } catch (e) {
    const list = el("ul", undefined, "problems");
    for (const p of (e.data && e.data.problems) || []) list.append(el("li", p));
    out.replaceChildren(el("p", list.childElementCount ? "Not saved: the file has problems." : e.message, "bad"), list);
    const m = /^[^:]*:(\d+):/.exec((e.data && e.data.problems && e.data.problems[0]) || "");
    if (m) showLine(+m[1]);
  }
}

// showLine selects line n (from 1) of the settings text and scrolls to it.
function showLine(n) {
  const ta = $("#config-text");
  const lines = ta.value.split("\n");
  if (n < 1 || n > lines.length) return;
  const start = lines.slice(0, n - 1).reduce((a, l) => a + l.length + 1, 0);
  ta.focus({ preventScroll: true });
  ta.setSelectionRange(start, start + lines[n - 1].length);
  const lh = parseFloat(getComputedStyle(ta).lineHeight) || 16;
  ta.scrollTop = Math.max(0, (n - 4) * lh);
}

// --------------------------------------------------------------------- log

async function loadLogs() {
  const pre = $("#log-lines");
  let l;
  try {
    l = await api("GET", "/v1/logs?n=200");
  } catch (e) {
    pre.textContent = e.message;
    return;
  }
  const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
  pre.textContent = (l.lines || []).join("\n");
  if (atEnd) pre.scrollTop = pre.scrollHeight;
}

// -------------------------------------------------------------------- live

let timer = 0;
let historyDue = false;

// refreshSoon coalesces a burst of events into one round of fetches.
function refreshSoon(withHistory) {
  historyDue = historyDue || !!withHistory;
  if (timer) return;
  timer = setTimeout(async () => {
    timer = 0;
    const h = historyDue;
    historyDue = false;
    const jobs = [loadState(), loadPanel()];
    if (h) jobs.push(loadHistory());
    if ($("#logs").open) jobs.push(loadLogs());
    await Promise.allSettled(jobs);
  }, 100);
}

const callEvents = ["onNewSession", "onAccepted", "onEnded", "sessionEnded"];
const otherEvents = ["onRegistration", "onRinging", "onMuted", "onHold", "onTransfer", "statusChanged", "onAgentSync",
  "kickedOut", "onConnectionLost", "onTryToReconnect", "onConnectionRecovery", "onEventsLost", "onDTMF"];

function listen() {
  const es = new EventSource("/v1/events");
  const live = $("#live");
  es.onopen = () => { live.textContent = "live"; live.dataset.state = "up"; refreshSoon(true); };
  es.onerror = () => { live.textContent = "reconnecting"; live.dataset.state = "down"; };
  for (const name of callEvents) es.addEventListener(name, () => refreshSoon(true));
  for (const name of otherEvents) es.addEventListener(name, () => refreshSoon(false));
  for (const name of ["onError", "onWarning"]) {
    es.addEventListener(name, (m) => {
      const d = JSON.parse(m.data);
      notice(name === "onError" ? "Error " + d.errCode + ": " + d.errMsg : "Warning " + d.warningCode + ": " + d.warningMsg, name === "onError");
      refreshSoon(false);
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-key]").forEach((b) => b.addEventListener("click", () => press(b.dataset.key)));
  document.querySelectorAll("[data-status]").forEach((b) => b.addEventListener("click", () => {
    const body = { status: b.dataset.status };
    if (body.status === "rest") body.reason = $("#rest-reason").value;
    act("POST", "/v1/agent/status", body);
  }));
  $("#config-form").addEventListener("submit", saveConfig);
  $("#config-reload").addEventListener("click", loadConfig);
  $("#settings").addEventListener("toggle", () => { if ($("#settings").open && !$("#config-text").value) loadConfig(); });
  $("#logs").addEventListener("toggle", () => { if ($("#logs").open) loadLogs(); });
  $("#logs-refresh").addEventListener("click", loadLogs);
  Promise.allSettled([loadState(), loadPanel(), loadHistory()]);
  listen();
  // The display's timers (call length, wrap-up) change without an event.
  setInterval(() => { if (!document.hidden) { loadPanel(); loadAgent().catch(() => {}); } }, 1000);
});

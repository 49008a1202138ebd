// kogata page for a clinic day: today's visits → a visit (patient, consent, microphone, audio file, typed or pasted
// text) → utterances (with the words still being spoken) → chart → edit → sign (確定) → copy, print, export.
// Plain JavaScript, no build step, nothing from the network. Talks to the server's /v1 API and the live WebSocket
// (kogata/serve/live.py); the visit itself lives in the server's store, so a reload (#visit-id) brings it back.
"use strict";

const SECTIONS = [["S", "S（主観的情報）"], ["O", "O（客観的情報）"], ["A", "A（評価）"], ["P", "P（計画）"]];
const STATUS = { empty: "カルテなし", draft: "下書き", signed: "確定", amended: "修正あり" };
const SOURCE = { model: "自動作成", edit: "編集", sign: "確定" };
const SEX = { male: "男性", female: "女性", other: "その他", unknown: "不明" };
const RATE = 16000; // what the recogniser wants; the browser resamples the microphone for us
const SEND_SAMPLES = 1600; // 100 ms per WebSocket frame
const $ = (id) => document.getElementById(id);

const state = {
  visitId: null, visit: null, ws: null, key: sessionStorage.getItem("kogata-key") || "",
  version: null, // the chart version shown (as stored: {version, chart, author, status, …})
  utterances: new Map(), // seq → {speaker, element}
  audio: null, // {ctx, stop()} while audio is being captured
  pending: [], pendingLength: 0,
};

// ── server calls ──

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  // A header must be Latin-1: a Japanese name would make fetch() throw, so it goes in the body (edits carry `author`).
  if (/^[\x20-\x7e]+$/.test(author())) headers["X-Kogata-User"] = author();
  if (options.json !== undefined) headers["Content-Type"] = "application/json";
  if (state.key) headers["Authorization"] = "Bearer " + state.key;
  const response = await fetch(path, { method: options.method || "GET", headers,
    body: options.json !== undefined ? JSON.stringify(options.json) : undefined });
  if (response.status === 401) { await askKey(); return api(path, options); }
  // /health answers 503 with its body when a model failed or its backend is away: a state to show, not "busy"
  if (options.health && response.status === 503) return response.json();
  if (!response.ok) {
    let message = response.statusText;
    try { message = (await response.json()).error.message; } catch (e) { /* not JSON */ }
    if (response.status === 503) {
      const wait = response.headers.get("Retry-After");
      notice("busy", `サーバーが混み合っています。${wait ? wait + " 秒ほど" : "しばらく"}待ってからもう一度お試しください。`);
      state.busyHttp = true; // cleared by the next answer that is not 503
      message = "サーバーが混み合っています（" + message + "）";
    }
    throw new ApiError(response.status, message);
  }
  if (state.busyHttp) { state.busyHttp = false; clearNotice("busy"); }
  return options.raw ? response : response.json();
}

let asking = null; // one key dialog for every call that was refused at once
function askKey() {
  if (!asking) {
    asking = new Promise((resolve) => {
      const dialog = $("key-dialog");
      dialog.onclose = () => {
        state.key = $("key-text").value.trim(); sessionStorage.setItem("kogata-key", state.key);
        asking = null; resolve();
      };
      dialog.showModal();
    });
  }
  return asking;
}

function author() { return ($("author").value || "").trim() || "monitor"; }

function toast(message, isError = false) {
  const el = document.createElement("div");
  el.className = "toast" + (isError ? " error" : "");
  el.textContent = message;
  document.body.append(el);
  setTimeout(() => el.remove(), isError ? 6000 : 2500);
}

function setStatus(text) { $("status").textContent = text; }

// A state the user must act on (no microphone, permission denied, server busy, not HTTPS), until it is resolved.
function notice(kind, text) {
  const el = $("notice");
  state.busyHttp = false;
  el.dataset.kind = kind; el.textContent = text; el.hidden = false;
}

function clearNotice(kind) {
  const el = $("notice");
  if (!kind || el.dataset.kind === kind) { el.hidden = true; el.dataset.kind = ""; }
}

async function watchHealth() {
  try {
    const health = await api("/health", { health: true });
    if (health.status === "ok") { setStatus("準備完了"); return; }
    const failed = Object.values(health.models).find((m) => m.startsWith("error"));
    // asked again: a backend that was away may come back
    // a chart needs no language model (health.charts: rules, reader and drug status), so both go on meanwhile
    if (failed) setStatus("モデルが使えません（記録とカルテ作成はできます）：" + failed);
    else setStatus("モデル読み込み中…（記録とカルテ作成はできます）");
  } catch (e) { setStatus("サーバーに接続できません"); }
  setTimeout(watchHealth, 2000);
}

// ── today's visits ──

function localDate(date = new Date()) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

function timeOf(iso) {
  const date = new Date(iso);
  return isNaN(date) ? "" : date.toLocaleTimeString("ja-JP", { hour: "2-digit", minute: "2-digit" });
}

function patientLabel(visit) {
  const p = visit.patient || {};
  return p.name || (p.id ? "ID " + p.id : visit.title || "（患者未入力）");
}

function badge(status) {
  const el = document.createElement("span");
  el.className = "badge " + (status || "empty"); el.textContent = STATUS[status || "empty"] || status;
  return el;
}

async function loadDay() {
  const list = $("visit-list");
  let visits;
  try { visits = (await api(`/v1/visits?date=${encodeURIComponent($("day").value || localDate())}`)).visits; }
  catch (e) { list.replaceChildren(Object.assign(document.createElement("li"), { className: "empty", textContent: "一覧を読めません：" + e.message })); return; }
  list.replaceChildren();
  if (!visits.length) list.append(Object.assign(document.createElement("li"), { className: "empty", textContent: "この日の診察はありません" }));
  for (const visit of visits) {
    const li = document.createElement("li");
    li.className = "visit" + (visit.id === state.visitId ? " current" : ""); li.dataset.id = visit.id;
    const head = document.createElement("div"); head.className = "head";
    const time = document.createElement("span"); time.className = "time"; time.textContent = timeOf(visit.created_at);
    const name = document.createElement("span"); name.className = "name"; name.textContent = patientLabel(visit);
    head.append(time, name, badge(visit.status));
    const sub = document.createElement("div"); sub.className = "sub";
    sub.textContent = [visit.patient && visit.patient.id ? "ID " + visit.patient.id : "", visit.encounter && visit.encounter.department, visit.encounter && visit.encounter.doctor].filter(Boolean).join(" · ");
    const actions = document.createElement("div"); actions.className = "actions";
    const button = (text, onclick, disabled = false) => {
      const b = document.createElement("button"); b.textContent = text; b.disabled = disabled;
      b.onclick = (event) => { event.stopPropagation(); onclick().catch((e) => toast(e.message, true)); };
      actions.append(b); return b;
    };
    button("開く", () => openById(visit.id)).className = "open";
    button("続ける", async () => { await openById(visit.id); await startMic(); }).className = "continue";
    button("確定", () => signFromList(visit), !["draft", "amended"].includes(visit.status)).className = "sign";
    li.append(head, sub, actions);
    list.append(li);
  }
}

async function signFromList(visit) {
  if (visit.id !== state.visitId) await openById(visit.id);
  await signChart();
}

// ── the visit ──

function formIdentity() {
  const groups = { patient: {}, encounter: {} };
  for (const input of $("visit-form").querySelectorAll("[name]")) {
    const [group, field] = input.name.split(".");
    const value = input.value.trim();
    if (value) groups[group][field] = value;
  }
  return groups;
}

function fillIdentity(visit) {
  for (const input of $("visit-form").querySelectorAll("[name]")) {
    const [group, field] = input.name.split(".");
    input.value = (visit && visit[group] && visit[group][field]) || "";
  }
}

function identityDialog(title, okText) {
  $("visit-dialog-title").textContent = title; $("visit-ok").textContent = okText;
  return new Promise((resolve) => {
    const dialog = $("visit-dialog");
    dialog.onclose = () => resolve(dialog.returnValue === "ok" ? formIdentity() : null);
    dialog.returnValue = ""; dialog.showModal();
  });
}

async function newVisit() {
  fillIdentity(null);
  $("visit-form").elements["encounter.date"].value = localDate();
  $("visit-form").elements["encounter.department"].value = localStorage.getItem("kogata-department") || "";
  $("visit-form").elements["encounter.doctor"].value = $("doctor-id").value.trim();
  const identity = await identityDialog("新しい診察", "開始");
  if (!identity) return;
  stopAudio();
  const body = { title: "" };
  for (const group of ["patient", "encounter"]) if (Object.keys(identity[group]).length) body[group] = identity[group];
  if (identity.encounter.department) localStorage.setItem("kogata-department", identity.encounter.department);
  const visit = await api("/v1/visits", { method: "POST", json: body });
  location.hash = visit.id;
  openVisit(visit, { utterances: [], versions: [] });
  loadDay();
}

async function editIdentity() {
  fillIdentity(state.visit);
  const identity = await identityDialog("患者情報の編集", "保存");
  if (!identity) return;
  const body = {};
  for (const group of ["patient", "encounter"]) {
    if (JSON.stringify(identity[group]) !== JSON.stringify(cleanGroup(state.visit[group]))) body[group] = identity[group];
  }
  if (!Object.keys(body).length) return;
  try {
    showIdentity(await api(`/v1/visits/${state.visitId}`, { method: "PATCH", json: body }));
    toast("患者情報を保存しました"); loadDay();
  } catch (e) { toast("患者情報を保存できません：" + e.message, true); }
}

function cleanGroup(group) {
  const out = {};
  for (const [k, v] of Object.entries(group || {})) if (v) out[k] = v;
  return out;
}

function showIdentity(visit) {
  state.visit = visit;
  const p = visit.patient || {}, e = visit.encounter || {};
  const parts = [p.name, p.id && "ID " + p.id, p.birth_date && "生年月日 " + p.birth_date, SEX[p.sex],
    e.date && "受診日 " + e.date, e.department, e.doctor && "担当 " + e.doctor].filter(Boolean);
  $("identity-text").replaceChildren(...(parts.length ? parts : ["患者情報なし"]).map((text, i) =>
    Object.assign(document.createElement("span"), { textContent: (i ? " · " : "") + text, className: "part" })));
  $("identity-text").className = parts.length ? "" : "empty";
  const c = visit.consent;
  $("consent-text").textContent = c && c.given ? `録音同意済（${c.by || ""}${c.at ? " " + timeOf(c.at) : ""}）` : "録音同意なし";
  $("consent-text").className = "consent " + (c && c.given ? "given" : "missing");
  $("edit-identity").disabled = false;
  printHead();
}

async function openById(id) {
  if (id === state.visitId && state.ws && state.ws.readyState === WebSocket.OPEN) return;
  const record = await api(`/v1/visits/${id}`); // the visit's identity, consent, utterances and chart versions
  location.hash = id;
  await openVisit({ ...record, id }, record);
}

function openVisit(visit, record) {
  if (state.ws) { state.ws.onclose = null; state.ws.close(); }
  state.visitId = visit.id; state.version = null; state.utterances.clear();
  $("visit-id").textContent = "診察 " + visit.id.slice(0, 8);
  $("transcript").replaceChildren($("partial"));
  showPartial("");
  showIdentity(visit);
  renderChart(null);
  for (const u of record.utterances || []) addUtterance(u);
  const versions = record.versions || [];
  if (versions.length) renderChart(versions[versions.length - 1]);
  document.querySelectorAll("#visit-list .visit").forEach((li) => li.classList.toggle("current", li.dataset.id === visit.id));
  return connect();
}

function connect() {
  const url = new URL(`/v1/visits/${state.visitId}/live`, location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  url.searchParams.set("rate", RATE); url.searchParams.set("format", "f32");
  // The key travels as a subprotocol, never in the URL (URLs end up in access logs and browser history).
  const ws = new WebSocket(url, state.key ? ["kogata", "kogata.key." + state.key] : undefined);
  ws.binaryType = "arraybuffer";
  state.ws = ws;
  return new Promise((resolve) => {
    ws.onmessage = (event) => { const m = JSON.parse(event.data); onMessage(m); if (m.type === "ready") resolve(); };
    ws.onclose = (event) => {
      resolve();
      if (state.ws !== ws) return;
      enable(false); stopAudio();
      if (event.code === 1013) {
        notice("busy", "同時に記録できる診察の数が上限に達しています。ほかの診察を終了してから再読み込みしてください。");
        setStatus("サーバーが混み合っています");
      } else setStatus("接続が切れました（再読み込みで再開できます）");
    };
  });
}

function onMessage(message) {
  switch (message.type) {
    case "ready": enable(true); setStatus("記録できます"); clearNotice("busy"); break;
    case "partial": showPartial(message.text); break;
    case "utterance": showPartial(""); addUtterance(message.utterance); break;
    case "draft": setStatus(`記録中 · 下書き準備 ${message.action === "draft" ? "済" : "中"}（発言 ${message.utterances} 件）`); break;
    case "chart":
      renderChart(message.version);
      setStatus(`カルテ作成完了（終了から ${message.seconds.toFixed(1)} 秒）`);
      $("end").disabled = false;
      loadDay();
      break;
    case "error": toast(message.message, true); $("end").disabled = false; break;
  }
}

function enable(on) {
  for (const id of ["mic", "file", "paste", "end"]) $(id).disabled = !on;
  $("file-label").setAttribute("aria-disabled", String(!on));
  $("type-form").hidden = !on;
}

function send(message) {
  if (!state.ws || state.ws.readyState !== WebSocket.OPEN) { toast("サーバーに接続していません", true); return false; }
  state.ws.send(typeof message === "string" ? message : JSON.stringify(message));
  return true;
}

// ── consent: asked once per visit, before any audio is recorded; the server keeps who and when ──

async function ensureConsent() {
  if (state.visit && state.visit.consent && state.visit.consent.given) return true;
  $("consent-check").checked = false;
  const dialog = $("consent-dialog");
  const ok = await new Promise((resolve) => { dialog.onclose = () => resolve(dialog.returnValue === "ok"); dialog.returnValue = ""; dialog.showModal(); });
  if (!ok) { toast("同意がないため録音しません"); return false; }
  try {
    showIdentity(await api(`/v1/visits/${state.visitId}`, { method: "PATCH", json: { consent: { given: true, by: $("consent-by").value } } }));
    return true;
  } catch (e) { toast("同意を記録できません：" + e.message, true); return false; }
}

// ── audio: microphone or a file, resampled to 16 kHz by the browser, sent in 100 ms frames ──

async function audioSink(ctx) {
  const collect = (block) => {
    state.pending.push(block); state.pendingLength += block.length;
    if (state.pendingLength >= SEND_SAMPLES) flushAudio();
  };
  let node;
  if (ctx.audioWorklet) {
    await ctx.audioWorklet.addModule("/page/capture.js");
    node = new AudioWorkletNode(ctx, "kogata-capture");
    node.port.onmessage = (event) => collect(event.data);
  } else { // older browsers
    node = ctx.createScriptProcessor(4096, 1, 1);
    node.onaudioprocess = (event) => collect(event.inputBuffer.getChannelData(0).slice(0));
  }
  const mute = ctx.createGain(); mute.gain.value = 0; // the graph runs only when connected to the output
  node.connect(mute).connect(ctx.destination);
  return node;
}

function flushAudio() {
  if (!state.pendingLength) return;
  const frame = new Float32Array(state.pendingLength);
  let at = 0;
  for (const block of state.pending) { frame.set(block, at); at += block.length; }
  state.pending = []; state.pendingLength = 0;
  if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(frame.buffer);
}

function newContext() {
  try { return new AudioContext({ sampleRate: RATE }); } catch (e) { throw new Error("このブラウザは 16 kHz の録音に対応していません"); }
}

// The level meter: RMS of the signal, in dB mapped to 0–100, redrawn each frame while audio runs.
function meter(ctx, source) {
  const analyser = ctx.createAnalyser(); analyser.fftSize = 1024;
  source.connect(analyser);
  const data = new Float32Array(analyser.fftSize);
  const draw = () => {
    if (!state.audio || state.audio.ctx !== ctx) { setLevel(0); return; }
    analyser.getFloatTimeDomainData(data);
    let sum = 0;
    for (const x of data) sum += x * x;
    const db = 20 * Math.log10(Math.sqrt(sum / data.length) + 1e-9);
    setLevel(Math.max(0, Math.min(100, Math.round((db + 60) * 100 / 60)))); // −60 dB … 0 dB
    requestAnimationFrame(draw);
  };
  requestAnimationFrame(draw);
}

function setLevel(level) {
  $("meter-bar").style.width = level + "%";
  $("meter").setAttribute("aria-valuenow", String(level));
  if (level > 0) $("meter").dataset.heard = "1";
}

function micProblem(error) {
  const name = error && error.name;
  if (name === "NotAllowedError" || name === "SecurityError") {
    notice("denied", "マイクの使用が許可されていません。アドレスバーの鍵（またはカメラ）アイコンからマイクを「許可」にして、ページを再読み込みしてください。");
  } else if (name === "NotFoundError" || name === "OverconstrainedError") {
    notice("no-mic", "マイクが見つかりません。マイクを接続してから、もう一度「録音開始」を押してください。");
  } else if (name === "NotReadableError" || name === "AbortError") {
    notice("no-mic", "マイクを使えません（ほかのアプリが使用中の可能性があります）。");
  } else {
    notice("no-mic", "マイクを使えません：" + (error && error.message));
  }
}

function micUnavailable() {
  if (window.isSecureContext && navigator.mediaDevices && navigator.mediaDevices.getUserMedia) return false;
  notice("insecure", "このページは HTTPS ではないため、ブラウザがマイクを使わせません。サーバーを `kogata serve --tls-self-signed` で起動し、https:// の URL で開いてください（音声ファイルと文字入力は使えます）。");
  return true;
}

async function startMic() {
  if (state.audio) { stopAudio(); return; }
  if (!state.visitId || micUnavailable()) return;
  if (!(await ensureConsent())) return;
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: false } });
  } catch (e) { micProblem(e); return; }
  clearNotice("no-mic"); clearNotice("denied");
  const ctx = newContext(); await ctx.resume();
  const node = await audioSink(ctx);
  const source = ctx.createMediaStreamSource(stream);
  source.connect(node);
  state.audio = { ctx, stop: () => stream.getTracks().forEach((t) => t.stop()) };
  meter(ctx, source);
  $("mic").classList.add("recording"); $("mic").textContent = "■ 録音停止";
  setStatus("録音中");
}

async function playFile(file) {
  if (!(await ensureConsent())) return;
  stopAudio();
  const ctx = newContext(); await ctx.resume();
  let buffer;
  try { buffer = await ctx.decodeAudioData(await file.arrayBuffer()); }
  catch (e) { toast("音声ファイルを読めません（wav, mp3, m4a, flac）：" + file.name, true); ctx.close(); return; }
  const node = await audioSink(ctx);
  const source = ctx.createBufferSource();
  source.buffer = buffer; source.connect(node); source.connect(ctx.destination); // heard while it is transcribed
  source.onended = () => { if (state.audio && state.audio.ctx === ctx) { stopAudio(); setStatus("再生終了（診察終了でカルテを作成）"); } };
  source.start();
  state.audio = { ctx, stop: () => { try { source.stop(); } catch (e) { /* already ended */ } } };
  meter(ctx, source);
  setStatus(`再生中：${file.name}（${buffer.duration.toFixed(0)} 秒）`);
}

function stopAudio() {
  if (!state.audio) return;
  state.audio.stop(); state.audio.ctx.close(); state.audio = null;
  flushAudio(); setLevel(0);
  $("mic").classList.remove("recording"); $("mic").textContent = "● 録音開始";
}

function endVisit() {
  stopAudio();
  if (send({ type: "end" })) { $("end").disabled = true; setStatus("カルテ作成中…"); }
}

// ── transcript ──

function speakerClass(speaker) { return speaker === "医師" ? "doctor" : "patient"; }

// The labels a click cycles through: the ones the typing box offers (医師 → 患者 → 家族 → 医師 …).
function speakerLabels() { return [...$("type-speaker").options].map((o) => o.value); }

// A label as the server says it: a guess the words and turns do not make sure of (speaker_sure false) is shown as
// 患者? with a dashed edge until someone clicks it (the first click confirms the guess, later ones change it); a
// person's label is plain (✎ if corrected).
function showSpeaker(el, u) {
  const unsure = u.speaker_sure === false;
  el.className = "speaker " + speakerClass(u.speaker) + (u.corrected ? " corrected" : "") + (unsure ? " unsure" : "");
  el.textContent = u.speaker + (unsure ? "?" : "");
  const confidence = u.speaker_confidence != null ? `推定の確からしさ ${Math.round(u.speaker_confidence * 100)}%。` : "";
  el.title = unsure
    ? "推定が確かではありません。" + confidence + "クリックでこの話者に確定（もう一度クリックで切り替え）"
    : confidence + "クリックで話者を切り替え（" + speakerLabels().join("→") + "）";
}

function showPartial(text) {
  const el = $("partial");
  el.querySelector("p").textContent = text;
  el.hidden = !text;
  if (text) el.scrollIntoView({ block: "end" });
}

function addUtterance(u) {
  if (state.utterances.has(u.seq)) return;
  const row = document.createElement("div");
  row.className = "utterance"; row.id = "u" + u.seq; row.dataset.seq = u.seq;
  const seq = document.createElement("span"); seq.className = "seq"; seq.textContent = u.seq;
  const speaker = document.createElement("span");
  showSpeaker(speaker, u); speaker.setAttribute("role", "button");
  speaker.onclick = () => toggleSpeaker(u.seq);
  const text = document.createElement("p"); text.textContent = u.text;
  row.append(seq, speaker, text);
  $("transcript").insertBefore(row, $("partial"));
  state.utterances.set(u.seq, { speaker: u.speaker, sure: u.speaker_sure !== false, element: row });
  const pane = $("transcript");
  if (pane.scrollHeight - pane.scrollTop - pane.clientHeight < 120) row.scrollIntoView({ block: "end" });
}

// A click on a label saves a correction (PATCH): the server keeps the guess and makes the label sure. On an unsure
// guess the first click confirms the guessed label (most guesses are right: one click, not a round of the cycle);
// on a sure label it saves the next one.
async function toggleSpeaker(seq) {
  const u = state.utterances.get(seq);
  const labels = speakerLabels();
  const next = labels[(labels.indexOf(u.speaker) + 1) % labels.length]; // a label not offered goes to the first
  const speaker = u.sure ? next : u.speaker;
  try {
    const fixed = await api(`/v1/visits/${state.visitId}/utterances/${seq}`, { method: "PATCH", json: { speaker, author: author() } });
    u.speaker = fixed.speaker; u.sure = fixed.speaker_sure !== false;
    showSpeaker(u.element.querySelector(".speaker"), fixed);
  } catch (e) { toast("話者を変更できません：" + e.message, true); }
}

function highlight(evidence) {
  for (const { element } of state.utterances.values()) element.classList.remove("evidence");
  const rows = evidence.map((id) => state.utterances.get(id)).filter(Boolean).map((u) => u.element);
  rows.forEach((row) => row.classList.add("evidence"));
  if (rows.length) rows[0].scrollIntoView({ block: "center", behavior: "smooth" });
}

// ── chart ──

function renderChart(version) {
  state.version = version;
  const root = $("chart");
  root.replaceChildren();
  for (const id of ["save", "copy", "print", "history", "export-md", "export-fhir"]) $(id).disabled = !version;
  $("sign").disabled = !version || version.status === "signed";
  $("chart-status").hidden = !version;
  if (!version) {
    const p = document.createElement("p"); p.className = "empty";
    p.textContent = "診察終了後、ここにカルテ（S/O/A/P）が表示されます。行をクリックすると根拠の発言が強調されます。";
    root.append(p); $("chart-meta").textContent = ""; printHead(); return;
  }
  const status = version.status || "draft";
  $("chart-status").className = "badge " + status; $("chart-status").textContent = STATUS[status] || status;
  const chart = version.chart;
  let meta = `第${version.version}版`;
  if (version.source !== "sign") meta += ` · ${SOURCE[version.source] || version.source}：${version.author}`;
  if (version.signed_by) meta += ` · 確定 ${practitionerName(version.signed_by)} ${dateTime(version.signed_at)}`;
  $("chart-meta").textContent = meta;
  const reasons = new Map((chart.warnings || []).map((w) => [w.item, w.message]));
  for (const [key, title] of SECTIONS) {
    const section = document.createElement("div"); section.className = "section"; section.dataset.section = key;
    const h = document.createElement("h3"); h.textContent = title;
    const add = document.createElement("button"); add.textContent = "＋行"; add.title = "行を追加";
    add.onclick = () => { const line = lineElement(key, { text: "", evidence: [], supported: true }, reasons); section.append(line); line.querySelector(".text").focus(); };
    h.append(add); section.append(h);
    for (const item of chart.soap[key]) section.append(lineElement(key, item, reasons));
    root.append(section);
  }
  root.append(factsElement(chart));
  printHead();
}

function practitionerName(p) { return typeof p === "string" ? p : [p.name, p.id && `(${p.id})`].filter(Boolean).join(" "); }

function dateTime(iso) {
  const date = new Date(iso);
  return iso && !isNaN(date) ? date.toLocaleString("ja-JP", { dateStyle: "short", timeStyle: "short" }) : "";
}

function lineElement(section, item, reasons) {
  const line = document.createElement("div");
  line.className = "line" + (item.supported ? "" : " unsupported");
  line.dataset.original = item.text; line.dataset.evidence = JSON.stringify(item.evidence);
  line.dataset.supported = String(item.supported);
  const text = document.createElement("span"); text.className = "text"; text.contentEditable = "plaintext-only";
  text.textContent = item.text; text.spellcheck = false;
  const ev = document.createElement("span"); ev.className = "ev";
  ev.textContent = item.evidence.length ? `〔発言 ${item.evidence.join(", ")}〕` : "〔根拠なし〕";
  const remove = document.createElement("button"); remove.className = "remove"; remove.textContent = "×"; remove.title = "行を削除";
  remove.onclick = (event) => { event.stopPropagation(); line.remove(); };
  const body = document.createElement("div"); body.className = "body"; body.append(text);
  if (!item.supported) { // shown, marked, with the verifier's reason: the doctor decides
    const reason = document.createElement("span"); reason.className = "reason";
    reason.textContent = "⚠ 根拠を確認できません：" + (reasons.get(item.text) || "検証で支持されませんでした");
    body.append(reason);
  }
  line.append(body, ev, remove);
  line.onclick = () => {
    document.querySelectorAll("#chart .line.selected").forEach((l) => l.classList.remove("selected"));
    line.classList.add("selected");
    highlight(item.evidence);
  };
  return line;
}

function factTexts(chart) {
  return [
    ["処方・服薬", chart.medications, (m) => `${m.name}${m.brand ? `（${m.brand}）` : ""} ${[m.dose, m.frequency, m.duration].filter(Boolean).join(" ")} [${{ current: "服用中", prescribed: "処方", stopped: "中止", changed: "変更" }[m.status]}]`],
    ["アレルギー", chart.allergies, (a) => `${a.substance}：${a.reaction}`],
    ["バイタル", chart.vitals, (v) => `${v.name} ${v.value}${v.unit}`],
    ["病名", chart.problems, (p) => `${p.name}${p.icd10 ? `（${p.icd10}）` : ""}${p.status === "suspected" ? " 疑い" : p.status === "history" ? " 既往" : ""}`],
  ];
}

function factsElement(chart) {
  const box = document.createElement("div"); box.className = "section facts";
  for (const [title, items, text] of factTexts(chart)) {
    if (!items.length) continue;
    const h = document.createElement("h3"); h.textContent = title; box.append(h);
    const ul = document.createElement("ul");
    for (const item of items) {
      const li = document.createElement("li"); li.textContent = `${text(item)} 〔発言 ${item.evidence.join(", ")}〕`;
      li.onclick = () => highlight(item.evidence); li.style.cursor = "pointer";
      ul.append(li);
    }
    box.append(ul);
  }
  return box;
}

function editedChart() {
  const chart = structuredClone(state.version.chart);
  const kept = new Set();
  for (const [key] of SECTIONS) {
    chart.soap[key] = [...document.querySelectorAll(`#chart .section[data-section="${key}"] .line`)].map((line) => {
      const text = line.querySelector(".text").textContent.replace(/\s+/g, " ").trim();
      const changed = text !== line.dataset.original;
      // A line the doctor wrote or rewrote is theirs: it is signed, not verified against the words.
      const supported = changed || line.dataset.supported === "true";
      if (!supported) kept.add(text);
      return { text, evidence: JSON.parse(line.dataset.evidence), supported };
    }).filter((item) => item.text);
  }
  chart.warnings = (chart.warnings || []).filter((w) => kept.has(w.item));
  return chart;
}

function edited() { return JSON.stringify(editedChart().soap) !== JSON.stringify(state.version.chart.soap); }

function needAuthor() {
  if ($("author").value.trim()) return false;
  toast("医師名を入力してください", true); $("author").focus(); return true;
}

async function saveChart() {
  if (needAuthor()) return false;
  try {
    const version = await api(`/v1/visits/${state.visitId}/chart`, { method: "PUT",
      json: { chart: editedChart(), author: author(), base_version: state.version.version } });
    renderChart(version);
    toast(`保存しました（第${version.version}版）`);
    loadDay();
    return true;
  } catch (e) { toast("保存できません：" + e.message, true); return false; }
}

// 確定: unsaved edits are saved first (a new version), then that version is signed by the doctor named here.
async function signChart() {
  if (!state.version) { toast("確定するカルテがありません", true); return; }
  if (needAuthor()) return;
  if (edited() && !(await saveChart())) return;
  const practitioner = { name: $("author").value.trim() };
  const id = $("doctor-id").value.trim() || (state.visit && state.visit.encounter && state.visit.encounter.doctor);
  if (id) practitioner.id = id;
  try {
    const signed = await api(`/v1/visits/${state.visitId}/sign`, { method: "POST",
      json: { practitioner, base_version: state.version.version } });
    renderChart(await api(`/v1/visits/${state.visitId}/chart?version=${signed.version}`));
    toast(`確定しました（第${signed.version}版）`);
    loadDay();
  } catch (e) { toast("確定できません：" + e.message, true); }
}

// ── copy, print, history, export ──

function identityLines() {
  const v = state.visit || {}, p = v.patient || {}, e = v.encounter || {};
  const lines = [];
  const patient = [p.name, p.id && `ID ${p.id}`, p.birth_date && `生年月日 ${p.birth_date}`, SEX[p.sex]].filter(Boolean);
  if (patient.length) lines.push("患者：" + patient.join("　"));
  const encounter = [e.date && `受診日 ${e.date}`, e.department, e.doctor && `担当医 ${e.doctor}`].filter(Boolean);
  if (encounter.length) lines.push("受診：" + encounter.join("　"));
  return lines;
}

function statusLine(version) {
  const status = version.status || "draft";
  let line = `【${STATUS[status] || status}】第${version.version}版`;
  if (version.signed_by) line += `　確定：${practitionerName(version.signed_by)} ${dateTime(version.signed_at)}`;
  return line;
}

function chartText(version) {
  const chart = version.chart;
  const lines = [statusLine(version), ...identityLines()];
  for (const [key, title] of SECTIONS) {
    lines.push("", title);
    for (const item of chart.soap[key]) lines.push("・" + item.text + (item.supported ? "" : "（要確認）"));
  }
  for (const [title, items, text] of factTexts(chart)) {
    if (!items.length) continue;
    lines.push("", title);
    for (const item of items) lines.push("・" + text(item));
  }
  return lines.join("\n") + "\n";
}

async function copyChart() {
  const text = chartText(state.version);
  try { await navigator.clipboard.writeText(text); }
  catch (e) { // no clipboard API (plain http from another PC): the old way
    const area = document.createElement("textarea"); area.value = text; document.body.append(area); area.select();
    const ok = document.execCommand("copy"); area.remove();
    if (!ok) { toast("コピーできません：" + e.message, true); return; }
  }
  toast(edited() ? "保存済みの版をコピーしました（未保存の編集は含みません）" : "カルテをテキストでコピーしました");
}

function printHead() {
  const head = $("print-head");
  head.replaceChildren();
  const lines = state.version ? [statusLine(state.version), ...identityLines()] : identityLines();
  for (const line of lines) head.append(Object.assign(document.createElement("p"), { textContent: line }));
}

async function showHistory() {
  const { versions } = await api(`/v1/visits/${state.visitId}/history`);
  const body = $("history-table").querySelector("tbody");
  body.replaceChildren();
  for (const v of versions) {
    const tr = document.createElement("tr");
    const cells = [`第${v.version}版`, null, SOURCE[v.source] || v.source, v.author, dateTime(v.created_at),
      v.signed_by ? `${practitionerName(v.signed_by)} ${dateTime(v.signed_at)}` : ""];
    for (const value of cells) {
      const td = document.createElement("td");
      if (value === null) td.append(badge(v.status)); else td.textContent = value;
      tr.append(td);
    }
    const td = document.createElement("td"); const view = document.createElement("button"); view.textContent = "表示";
    view.onclick = async (event) => {
      event.preventDefault();
      try { renderChart(await api(`/v1/visits/${state.visitId}/chart?version=${v.version}`)); $("history-dialog").close(); }
      catch (e) { toast("表示できません：" + e.message, true); }
    };
    td.append(view); tr.append(td);
    body.append(tr);
  }
  $("history-dialog").showModal();
}

async function exportChart(format) {
  try {
    const response = await api(`/v1/visits/${state.visitId}/export?format=${format}&version=${state.version.version}`, { raw: true });
    const url = URL.createObjectURL(await response.blob());
    const a = document.createElement("a");
    a.href = url; a.download = `karte-${state.visitId.slice(0, 8)}-v${state.version.version}.${format === "md" ? "md" : "fhir.json"}`;
    document.body.append(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  } catch (e) { toast("書き出せません：" + e.message, true); }
}

// ── wiring ──

const report = (promise) => promise.catch((e) => toast(e.message, true));
$("new-visit").onclick = () => report(newVisit());
$("edit-identity").onclick = () => report(editIdentity());
$("mic").onclick = () => report(startMic());
$("file").onchange = (event) => { const f = event.target.files[0]; event.target.value = ""; if (f) report(playFile(f)); };
$("paste").onclick = () => { $("paste-text").value = ""; $("paste-dialog").showModal(); };
$("paste-dialog").onclose = () => {
  const text = $("paste-text").value.trim();
  if ($("paste-dialog").returnValue === "ok" && text) send({ type: "transcript", text });
};
$("type-form").onsubmit = (event) => {
  event.preventDefault();
  const text = $("type-text").value.trim();
  if (text && send({ type: "utterance", speaker: $("type-speaker").value, text })) $("type-text").value = "";
};
$("end").onclick = endVisit;
$("save").onclick = () => report(saveChart());
$("sign").onclick = () => report(signChart());
$("copy").onclick = () => report(copyChart());
$("print").onclick = () => { printHead(); window.print(); };
$("history").onclick = () => report(showHistory());
$("export-md").onclick = () => exportChart("md");
$("export-fhir").onclick = () => exportChart("fhir");
for (const [id, key] of [["author", "kogata-author"], ["doctor-id", "kogata-doctor-id"]]) {
  $(id).value = localStorage.getItem(key) || "";
  $(id).onchange = () => localStorage.setItem(key, $(id).value.trim());
}
$("day").value = localDate();
$("day").onchange = () => loadDay();

watchHealth();
loadDay();
setInterval(() => { if (!document.hidden) loadDay(); }, 30000);
micUnavailable();
if (navigator.mediaDevices && navigator.mediaDevices.enumerateDevices) {
  navigator.mediaDevices.enumerateDevices().then((devices) => {
    if (!devices.some((d) => d.kind === "audioinput")) notice("no-mic", "マイクが見つかりません。マイクを接続してください（音声ファイルと文字入力は使えます）。");
  }).catch(() => { /* asked again when recording starts */ });
}
if (location.hash.length > 1) report(openById(decodeURIComponent(location.hash.slice(1))).catch((e) => { throw new Error("診察を開けません：" + e.message); }));

// kogata monitor page: a live visit (microphone, audio file, typed or pasted text) → utterances → chart → edit → export.
// Plain JavaScript, no build step, nothing from the network. Talks to the server's /v1 API and the live WebSocket
// (kogata/serve/live.py); the visit itself lives in the server's store, so a reload (#visit-id) brings it back.
"use strict";

const SECTIONS = [["S", "S（主観的情報）"], ["O", "O（客観的情報）"], ["A", "A（評価）"], ["P", "P（計画）"]];
const RATE = 16000; // what the recogniser wants; the browser resamples the microphone for us
const SEND_SAMPLES = 1600; // 100 ms per WebSocket frame
const $ = (id) => document.getElementById(id);

const state = {
  visitId: null, ws: null, key: sessionStorage.getItem("kogata-key") || "",
  version: null, // the chart version shown (as stored: {version, chart, author, …})
  utterances: new Map(), // seq → {speaker, element}
  audio: null, // {ctx, stop()} while audio is being captured
  pending: [], pendingLength: 0,
};

// ── server calls ──

async function api(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  // A header must be Latin-1: a Japanese name would make fetch() throw, so it goes in the body (edits carry `author`).
  if (/^[\x20-\x7e]+$/.test(author())) headers["X-Kogata-User"] = author();
  if (options.json !== undefined) headers["Content-Type"] = "application/json";
  if (state.key) headers["Authorization"] = "Bearer " + state.key;
  const response = await fetch(path, { method: options.method || "GET", headers,
    body: options.json !== undefined ? JSON.stringify(options.json) : undefined });
  if (response.status === 401) { await askKey(); return api(path, options); }
  if (!response.ok) {
    let message = response.statusText;
    try { message = (await response.json()).error.message; } catch (e) { /* not JSON */ }
    throw new Error(message);
  }
  return options.raw ? response : response.json();
}

function askKey() {
  return new Promise((resolve) => {
    const dialog = $("key-dialog");
    dialog.onclose = () => { state.key = $("key-text").value.trim(); sessionStorage.setItem("kogata-key", state.key); resolve(); };
    dialog.showModal();
  });
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

async function watchHealth() {
  try {
    const health = await api("/health");
    const models = Object.values(health.models);
    if (models.every((m) => m === "ready")) { setStatus("準備完了"); return; }
    const failed = models.find((m) => m.startsWith("error"));
    if (failed) { setStatus("モデルの読み込みに失敗しました：" + failed); return; }
    setStatus("モデル読み込み中…（発言の記録はできます）");
  } catch (e) { setStatus("サーバーに接続できません"); }
  setTimeout(watchHealth, 2000);
}

// ── the visit ──

async function newVisit() {
  stopAudio();
  const visit = await api("/v1/visits", { method: "POST", json: { title: "" } });
  location.hash = visit.id;
  openVisit(visit.id, { utterances: [], versions: [] });
}

async function openVisit(id, record) {
  if (state.ws) { state.ws.onclose = null; state.ws.close(); }
  state.visitId = id; state.version = null; state.utterances.clear();
  $("visit-id").textContent = "診察 " + id.slice(0, 8);
  $("transcript").replaceChildren();
  renderChart(null);
  for (const u of record.utterances) addUtterance(u);
  if (record.versions.length) renderChart(record.versions[record.versions.length - 1]);
  connect();
}

function connect() {
  const url = new URL(`/v1/visits/${state.visitId}/live`, location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  url.searchParams.set("rate", RATE); url.searchParams.set("format", "f32");
  // The key travels as a subprotocol, never in the URL (URLs end up in access logs and browser history).
  const ws = new WebSocket(url, state.key ? ["kogata", "kogata.key." + state.key] : undefined);
  ws.binaryType = "arraybuffer";
  ws.onmessage = (event) => onMessage(JSON.parse(event.data));
  ws.onclose = () => { if (state.ws === ws) { enable(false); setStatus("接続が切れました（再読み込みで再開できます）"); } };
  state.ws = ws;
}

function onMessage(message) {
  switch (message.type) {
    case "ready": enable(true); setStatus("記録中"); break;
    case "utterance": addUtterance(message.utterance); break;
    case "draft": setStatus(`記録中 · 下書き準備 ${message.action === "draft" ? "済" : "中"}（発言 ${message.utterances} 件）`); break;
    case "chart":
      renderChart(message.version);
      setStatus(`カルテ作成完了（終了から ${message.seconds.toFixed(1)} 秒）`);
      $("end").disabled = false;
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
  } else { // older browsers, or a page opened over plain http from another machine
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

async function startMic() {
  if (state.audio) { stopAudio(); return; }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: false } });
  } catch (e) { toast("マイクを使えません：" + e.message, true); return; }
  const ctx = newContext(); await ctx.resume();
  const node = await audioSink(ctx);
  ctx.createMediaStreamSource(stream).connect(node);
  state.audio = { ctx, stop: () => stream.getTracks().forEach((t) => t.stop()) };
  $("mic").classList.add("recording"); $("mic").textContent = "■ マイク停止";
  setStatus("録音中");
}

async function playFile(file) {
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
  setStatus(`再生中：${file.name}（${buffer.duration.toFixed(0)} 秒）`);
}

function stopAudio() {
  if (!state.audio) return;
  state.audio.stop(); state.audio.ctx.close(); state.audio = null;
  flushAudio();
  $("mic").classList.remove("recording"); $("mic").textContent = "● マイクで開始";
}

function endVisit() {
  stopAudio();
  if (send({ type: "end" })) { $("end").disabled = true; setStatus("カルテ作成中…"); }
}

// ── transcript ──

function speakerClass(speaker) { return speaker === "医師" ? "doctor" : "patient"; }

function addUtterance(u) {
  if (state.utterances.has(u.seq)) return;
  const row = document.createElement("div");
  row.className = "utterance"; row.id = "u" + u.seq; row.dataset.seq = u.seq;
  const seq = document.createElement("span"); seq.className = "seq"; seq.textContent = u.seq;
  const speaker = document.createElement("span");
  speaker.className = "speaker " + speakerClass(u.speaker) + (u.corrected ? " corrected" : "");
  speaker.textContent = u.speaker; speaker.title = "クリックで話者を切り替え"; speaker.setAttribute("role", "button");
  speaker.onclick = () => toggleSpeaker(u.seq);
  const text = document.createElement("p"); text.textContent = u.text;
  row.append(seq, speaker, text);
  $("transcript").append(row);
  state.utterances.set(u.seq, { speaker: u.speaker, element: row });
  const pane = $("transcript");
  if (pane.scrollHeight - pane.scrollTop - pane.clientHeight < 120) row.scrollIntoView({ block: "end" });
}

async function toggleSpeaker(seq) {
  const u = state.utterances.get(seq);
  const speaker = u.speaker === "医師" ? "患者" : "医師";
  try {
    const fixed = await api(`/v1/visits/${state.visitId}/utterances/${seq}`, { method: "PATCH", json: { speaker, author: author() } });
    u.speaker = fixed.speaker;
    const label = u.element.querySelector(".speaker");
    label.textContent = fixed.speaker; label.className = "speaker corrected " + speakerClass(fixed.speaker);
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
  for (const id of ["save", "export-md", "export-fhir"]) $(id).disabled = !version;
  if (!version) {
    const p = document.createElement("p"); p.className = "empty";
    p.textContent = "診察終了後、ここにカルテ（S/O/A/P）が表示されます。行をクリックすると根拠の発言が強調されます。";
    root.append(p); $("chart-meta").textContent = ""; return;
  }
  const chart = version.chart;
  $("chart-meta").textContent = `第${version.version}版 · ${version.source === "edit" ? "編集" : "自動作成"}：${version.author}`;
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

function factsElement(chart) {
  const box = document.createElement("div"); box.className = "section facts";
  const groups = [
    ["処方・服薬", chart.medications.map((m) => `${m.name}${m.brand ? `（${m.brand}）` : ""} ${[m.dose, m.frequency, m.duration].filter(Boolean).join(" ")} [${{ current: "服用中", prescribed: "処方", stopped: "中止", changed: "変更" }[m.status]}]`)],
    ["アレルギー", chart.allergies.map((a) => `${a.substance}：${a.reaction}`)],
    ["バイタル", chart.vitals.map((v) => `${v.name} ${v.value}${v.unit}`)],
    ["病名", chart.problems.map((p) => `${p.name}${p.icd10 ? `（${p.icd10}）` : ""}${p.status === "suspected" ? " 疑い" : p.status === "history" ? " 既往" : ""}`)],
  ];
  const items = [chart.medications, chart.allergies, chart.vitals, chart.problems];
  groups.forEach(([title, texts], g) => {
    if (!texts.length) return;
    const h = document.createElement("h3"); h.textContent = title; box.append(h);
    const ul = document.createElement("ul");
    texts.forEach((t, i) => {
      const li = document.createElement("li"); li.textContent = `${t} 〔発言 ${items[g][i].evidence.join(", ")}〕`;
      li.onclick = () => highlight(items[g][i].evidence); li.style.cursor = "pointer";
      ul.append(li);
    });
    box.append(ul);
  });
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

async function saveChart() {
  if (!$("author").value.trim()) { toast("記載者（医師名）を入力してください", true); $("author").focus(); return; }
  try {
    const version = await api(`/v1/visits/${state.visitId}/chart`, { method: "PUT",
      json: { chart: editedChart(), author: author(), base_version: state.version.version } });
    renderChart(version);
    toast(`保存しました（第${version.version}版）`);
  } catch (e) { toast("保存できません：" + e.message, true); }
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

$("new-visit").onclick = () => newVisit().catch((e) => toast("診察を開始できません：" + e.message, true));
$("mic").onclick = () => startMic().catch((e) => toast(e.message, true));
$("file").onchange = (event) => { const f = event.target.files[0]; event.target.value = ""; if (f) playFile(f).catch((e) => toast(e.message, true)); };
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
$("save").onclick = saveChart;
$("export-md").onclick = () => exportChart("md");
$("export-fhir").onclick = () => exportChart("fhir");
$("author").value = localStorage.getItem("kogata-author") || "";
$("author").onchange = () => localStorage.setItem("kogata-author", $("author").value.trim());

watchHealth();
if (location.hash.length > 1) {
  const id = decodeURIComponent(location.hash.slice(1));
  api(`/v1/visits/${id}`).then((record) => openVisit(id, record)).catch((e) => toast("診察を開けません：" + e.message, true));
}

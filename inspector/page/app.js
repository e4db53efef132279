// The inspector page: live from the server's WebSocket, or a recording opened from a file and
// replayed with a time slider. Records are applied as they come; drawing happens at most once per
// animation frame, so a flood of records never blocks the page.
import { applyRecords, counters, createStore, parseRecording, storeAt } from './store.js';
import { createGraphView } from './graph.js';
import { createLanesView, formatBytes, formatTime } from './lanes.js';
import { createLogView } from './log.js';
import { createDetailView } from './detail.js';

const $ = (id) => document.getElementById(id);

/** Where the focus was when the detail opened: it goes back there when the detail closes. */
let focusBeforeDetail;

function showDetail(selection) {
  const wasOpen = detail.selection !== undefined;
  if (!wasOpen) focusBeforeDetail = document.activeElement;
  detail.select(selection);
  lanes.select(selection?.lane);
  requestDraw();
  $('detail').scrollIntoView({ block: 'nearest' });
}

function closeDetail() {
  detail.select(undefined);
  lanes.select(undefined);
  if (focusBeforeDetail instanceof window.HTMLElement && focusBeforeDetail.isConnected) focusBeforeDetail.focus();
  focusBeforeDetail = undefined;
}

// Escape closes the detail view, wherever the focus is.
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && detail.selection !== undefined) {
    event.preventDefault();
    closeDetail();
  }
});

/** An actor picked in the graph or the log: its connection if it has one, else the actor itself. */
function showActor(id) {
  for (const lane of store.lanes.values()) if (lane.feeders.includes(id)) return showDetail({ lane: lane.id, actor: id });
  showDetail({ actor: id });
}

const graph = createGraphView($('graph'), { onSelect: (id) => showActor(id) });
const lanes = createLanesView({
  scroller: $('lanes'),
  summary: $('lane-summary'),
  axis: $('lane-axis'),
  empty: $('lanes-empty'),
  filterInput: $('lane-filter'),
  sideSelect: $('lane-side'),
  openOnly: $('lane-open'),
  windowSelect: $('lane-window'),
  sortSelect: $('lane-sort'),
  onSelect: (id) => showDetail({ lane: id }),
});
const log = createLogView({ scroller: $('log'), filterInput: $('log-filter'), note: $('log-note'), internals: $('log-internals'), onSelect: (id) => showActor(id) });
const detail = createDetailView({
  panel: $('detail'),
  title: $('detail-title'),
  facts: $('detail-facts'),
  machines: $('detail-machines'),
  chart: $('detail-chart'),
  steps: $('detail-steps'),
  stepControls: $('detail-step-controls'),
  events: $('detail-events'),
  internals: $('log-internals'),
  close: $('detail-close'),
  onClose: () => closeDetail(),
});

let mode = 'live';
let store = createStore();
let recording = [];
let drawQueued = false;
/** Browser clock minus the inspected program's, estimated from batches (the smallest difference seen). */
let clockOffset = Infinity;

/** The moment shown: live, the program's clock now (so idle rates decay); in replay, the slider's. */
function currentTime() {
  if (mode !== 'live') return store.now;
  return Number.isFinite(clockOffset) ? Math.max(store.now, Date.now() - clockOffset) : store.now;
}

function setStatus(text, kind) {
  const status = $('status');
  status.textContent = text;
  status.dataset.kind = kind;
}

function draw() {
  drawQueued = false;
  const at = currentTime();
  const c = counters(store, at);
  $('count-open').textContent = String(c.open);
  $('count-total').textContent = String(c.total);
  // Rates over the last two seconds: they fall to zero when nothing happens, and say so once the
  // program has ended (live: its inspector closed; replay: the end of the recording).
  const ended = store.ended;
  $('count-in').textContent = ended ? 'ended' : `${formatBytes(Math.round(c.bytesInPerSecond))}/s`;
  $('count-out').textContent = ended ? 'ended' : `${formatBytes(Math.round(c.bytesOutPerSecond))}/s`;
  $('count-events').textContent = ended ? 'ended' : `${Math.round(c.eventsPerSecond)}/s`;
  lanes.update(store, at);
  log.update(store, mode === 'live' ? Infinity : at);
  detail.update(store, at);
}

// The graph changes rarely; redraw it (or just its counts) at most twice a second.
let drawnGraph = { store: undefined, version: -1 };
setInterval(() => {
  if (drawnGraph.store === store && drawnGraph.version === store.structureVersion) return;
  drawnGraph = { store, version: store.structureVersion };
  graph.update(store);
}, 500);

function requestDraw() {
  if (drawQueued) return;
  drawQueued = true;
  requestAnimationFrame(draw);
}

// ---- live ----------------------------------------------------------------------------------------

let socket;
function connect() {
  const url = new URL('ws', window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  socket = new WebSocket(url);
  setStatus('connecting…', 'pending');
  socket.addEventListener('open', () => setStatus('live', 'live'));
  socket.addEventListener('message', (message) => {
    if (mode !== 'live') return;
    const records = JSON.parse(message.data);
    applyRecords(store, records);
    let newest = 0;
    for (const record of records) if (record.t > newest) newest = record.t;
    if (newest > 0) clockOffset = Math.min(clockOffset, Date.now() - newest);
    requestDraw();
  });
  socket.addEventListener('close', () => {
    if (mode !== 'live') return;
    store.ended = true;
    setStatus('disconnected (the inspected program ended?) — the data stays here', 'off');
    requestDraw();
  });
}

// The clock runs on while live, so open connections grow along the time axis.
setInterval(() => {
  if (mode === 'live') requestDraw();
}, 500);

// ---- replay --------------------------------------------------------------------------------------

const slider = $('replay-slider');
let playing;

function showReplayAt(t) {
  store = storeAt(recording, t);
  store.ended = t >= Number(slider.max);
  $('replay-time').textContent = formatTime(t - recording[0].t);
  requestDraw();
}

$('open-recording').addEventListener('change', async (event) => {
  const file = event.target.files?.[0];
  if (!file) return;
  try {
    const records = parseRecording(await file.text());
    if (records.length === 0) throw new Error('it holds no records');
    recording = records;
    mode = 'replay';
    socket?.close();
    const first = records[0].t;
    const last = records.at(-1).t;
    slider.min = String(first);
    slider.max = String(last);
    slider.step = '1';
    slider.value = String(last);
    $('replay').hidden = false;
    const part = records.find((record) => record.k === 'hello')?.part;
    const continued = part > 1 ? `; part ${part} of a rotated recording, it starts from what the inspector kept when the file was cut` : '';
    setStatus(`replaying ${file.name} (${records.length} records, ${formatTime(last - first)}${continued})`, 'replay');
    showReplayAt(last);
  } catch (error) {
    setStatus(`cannot open ${file.name}: ${error.message}`, 'off');
  }
});

slider.addEventListener('input', () => {
  detail.followLatest();
  showReplayAt(Number(slider.value));
});

// Arrow keys move by 1 % of the session, Page Up/Down by 10 % (the slider's own step is 1 ms, so a
// drag or a typed value can reach any moment).
slider.addEventListener('keydown', (event) => {
  const fractions = { ArrowRight: 0.01, ArrowUp: 0.01, ArrowLeft: -0.01, ArrowDown: -0.01, PageUp: 0.1, PageDown: -0.1 };
  const fraction = fractions[event.key];
  if (fraction === undefined) return;
  event.preventDefault();
  const min = Number(slider.min);
  const max = Number(slider.max);
  const step = Math.max(1, Math.round((max - min) * Math.abs(fraction)));
  const next = Math.min(max, Math.max(min, Number(slider.value) + Math.sign(fraction) * step));
  slider.value = String(next);
  showReplayAt(next);
});

$('replay-play').addEventListener('click', () => {
  if (playing) {
    clearInterval(playing);
    playing = undefined;
    $('replay-play').textContent = '▶ play';
    return;
  }
  if (Number(slider.value) >= Number(slider.max)) slider.value = slider.min;
  $('replay-play').textContent = '❚❚ pause';
  playing = setInterval(() => {
    const next = Math.min(Number(slider.max), Number(slider.value) + 100);
    slider.value = String(next);
    showReplayAt(next);
    if (next >= Number(slider.max)) $('replay-play').click();
  }, 100);
});

$('back-live').addEventListener('click', () => window.location.reload());

for (const id of ['lane-filter', 'lane-side', 'lane-open', 'lane-window', 'lane-sort', 'log-filter', 'log-internals']) $(id).addEventListener('input', requestDraw);

connect();
requestDraw();

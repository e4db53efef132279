// The inspector page: live from the server's WebSocket, or a recording opened from a file and
// replayed with a time slider. Records are applied as they come; drawing happens at most once per
// animation frame, so a flood of records never blocks the page.
import { applyRecords, counters, createStore, parseRecording, storeAt } from './store.js';
import { createGraphView } from './graph.js';
import { createLanesView, formatBytes, formatTime } from './lanes.js';
import { createLogView } from './log.js';

const $ = (id) => document.getElementById(id);

const graph = createGraphView($('graph'));
const lanes = createLanesView({ scroller: $('lanes'), summary: $('lane-summary'), axis: $('lane-axis'), filterInput: $('lane-filter'), sideSelect: $('lane-side'), openOnly: $('lane-open'), windowSelect: $('lane-window') });
const log = createLogView({ scroller: $('log'), filterInput: $('log-filter'), note: $('log-note') });

let mode = 'live';
let store = createStore();
let recording = [];
let drawQueued = false;

function setStatus(text, kind) {
  const status = $('status');
  status.textContent = text;
  status.dataset.kind = kind;
}

function draw() {
  drawQueued = false;
  const at = mode === 'live' ? Math.max(store.now, Date.now()) : store.now;
  const c = counters(store, mode === 'live' ? store.now : at);
  $('count-open').textContent = String(c.open);
  $('count-total').textContent = String(c.total);
  $('count-in').textContent = `${formatBytes(Math.round(c.bytesInPerSecond))}/s`;
  $('count-out').textContent = `${formatBytes(Math.round(c.bytesOutPerSecond))}/s`;
  $('count-events').textContent = `${Math.round(c.eventsPerSecond)}/s`;
  lanes.update(store, at);
  log.update(store, mode === 'live' ? Infinity : at);
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
    applyRecords(store, JSON.parse(message.data));
    requestDraw();
  });
  socket.addEventListener('close', () => {
    if (mode === 'live') setStatus('disconnected (the inspected program ended?) — the data stays here', 'off');
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
    setStatus(`replaying ${file.name} (${records.length} records, ${formatTime(last - first)})`, 'replay');
    showReplayAt(last);
  } catch (error) {
    setStatus(`cannot open ${file.name}: ${error.message}`, 'off');
  }
});

slider.addEventListener('input', () => showReplayAt(Number(slider.value)));

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

for (const id of ['lane-filter', 'lane-side', 'lane-open', 'lane-window', 'log-filter']) $(id).addEventListener('input', requestDraw);

connect();
requestDraw();

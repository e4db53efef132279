// The page's model: applies inspector records (see inspector/records.ts) to plain data the views
// draw. Pure (no DOM), so replay can rebuild it for any moment and tests can run it in Node.

import { createStatelyTranslator, isStatelyMessage } from './stately.js';

export const STATES = ['delaying', 'connecting', 'connected', 'upgradingTls', 'flushing', 'closed', 'failed'];
const TERMINAL = new Set(['closed', 'failed']);
/** Event-log entries kept in memory; the view shows the newest that match its filter. */
export const LOG_KEEP = 5000;
/** Window for the bytes/s and events/s counters, in ms. */
const RATE_WINDOW = 2000;
/** The server's defaults (inspector/history.ts), used until a hello says otherwise (a recording without limits). */
export const DEFAULT_LIMITS = { keepFinished: 2000, stepsPerActor: 1000 };

/** How many of an actor's first steps are kept: a tenth of the cap, at most 100 (as the server does). */
function stepsHead(stepsPerActor) {
  return Math.min(100, Math.floor(stepsPerActor / 10));
}

export function createStore() {
  return {
    startedAt: undefined,
    /** Time of the newest record applied. */
    now: 0,
    showPayloadBytes: 0,
    showContext: false,
    /** What this page keeps (the server's limits, from its hello). */
    limits: DEFAULT_LIMITS,
    /** Finished connections and ended actors dropped (here, or by the server before this page joined). */
    droppedLanes: 0,
    droppedActors: 0,
    /** Lanes ever seen, dropped ones included. */
    lanesSeen: 0,
    /** Finished lanes and ended actors in the order they finished: the oldest are dropped first. */
    finishedOrder: [],
    endedOrder: [],
    /** session id → { id, parent, path, name, component, inboxes, outboxes, graph, ended, status } */
    actors: new Map(),
    /** lane id → { id, side, path, peer, segments: [{ state, t }], bytesIn, bytesOut, reason, openedAt, closedAt } */
    lanes: new Map(),
    /** Lanes in the order they opened. */
    laneOrder: [],
    openLanes: 0,
    /** Current state → number of lanes in it. */
    stateCounts: Object.fromEntries(STATES.map((s) => [s, 0])),
    log: [],
    logDropped: 0,
    /** [t, bytesIn delta, bytesOut delta] for the rate counters. */
    byteDeltas: [],
    /** [t, events] per batch of log records (including dropped ones). */
    eventCounts: [],
    /** Bumped whenever the set of components changes (the graph needs a new layout). */
    structureVersion: 0,
    /** machine key → definition (the machine's config, as XState keeps it) */
    machines: new Map(),
    /** Run-time links between components: [{ from, outbox, to, inbox }] */
    wires: [],
    /** Set when the inspected program is gone (live: the server closed; replay: the recording's end). */
    ended: false,
    /** Bumped by every record: views that cache per store redraw when it moves. */
    version: 0,
  };
}

export function applyRecords(store, records) {
  for (const record of records) applyRecord(store, record);
}

export function applyRecord(store, record) {
  if (typeof record.t === 'number' && record.t > store.now) store.now = record.t;
  store.version++;
  switch (record.k) {
    case 'hello':
      store.startedAt ??= record.t;
      store.showPayloadBytes = record.showPayloadBytes;
      store.showContext = record.showContext === true;
      if (record.limits) store.limits = record.limits;
      if (record.part !== undefined) store.part = record.part;
      break;
    case 'actor': {
      store.startedAt ??= record.t;
      const known = store.actors.get(record.id);
      store.actors.set(record.id, { ...record, ended: false, status: 'active', steps: known?.steps ?? [], stepsDropped: known?.stepsDropped ?? 0, gapAt: known?.gapAt });
      store.structureVersion++;
      break;
    }
    case 'machine':
      store.machines.set(record.machine, record.definition);
      if (record.truncated) (store.truncated ??= new Map()).set(record.machine, record.truncated);
      break;
    case 'step': {
      const actor = store.actors.get(record.id);
      if (actor) {
        actor.steps.push({ t: record.t, value: record.value, event: record.event });
        trimSteps(store, actor);
      }
      break;
    }
    case 'stepsDropped': {
      const actor = store.actors.get(record.id);
      if (actor) {
        // The server's gap: count it, and keep further trimming at the same place.
        actor.stepsDropped = Math.max(actor.stepsDropped, record.count);
        actor.gapAt = actor.steps.length;
      }
      break;
    }
    case 'trimmed':
      store.droppedLanes += record.lanes;
      store.droppedActors += record.actors;
      store.lanesSeen += record.lanes;
      break;
    case 'join': {
      const lane = store.lanes.get(record.lane);
      if (lane && !lane.feeders.includes(record.id)) lane.feeders.push(record.id);
      break;
    }
    case 'tls': {
      const lane = store.lanes.get(record.lane);
      if (lane) lane.tls = record.protocol;
      break;
    }
    case 'wire':
      store.wires.push(record);
      store.structureVersion++;
      break;
    case 'end': {
      const actor = store.actors.get(record.id);
      if (actor && !actor.ended) {
        actor.ended = true;
        actor.status = record.status;
        actor.endedAt = record.t;
        if (record.reason) actor.reason = record.reason;
        store.structureVersion++;
        store.endedOrder.push(record.id);
        trimActors(store);
      }
      break;
    }
    case 'lane':
      if (!store.lanes.has(record.lane)) {
        store.lanes.set(record.lane, {
          id: record.lane,
          side: record.side,
          path: record.path,
          peer: undefined,
          local: undefined,
          tls: undefined,
          feeders: [record.lane],
          segments: [],
          bytesIn: 0,
          bytesOut: 0,
          reason: undefined,
          openedAt: record.t,
          closedAt: undefined,
          /** When anything last happened on it (a state, bytes): the default order, newest first. */
          activeAt: record.t,
        });
        store.laneOrder.push(record.lane);
        store.openLanes++;
        store.lanesSeen++;
      }
      break;
    case 'state': {
      const lane = store.lanes.get(record.lane);
      if (!lane || lane.closedAt !== undefined) break;
      const previous = lane.segments.at(-1);
      if (previous) store.stateCounts[previous.state]--;
      lane.segments.push({ state: record.state, t: record.t });
      lane.activeAt = record.t;
      store.stateCounts[record.state] = (store.stateCounts[record.state] ?? 0) + 1;
      if (TERMINAL.has(record.state)) {
        lane.closedAt = record.t;
        lane.reason = record.reason;
        store.openLanes--;
        store.finishedOrder.push(lane.id);
        trimLanes(store);
      }
      break;
    }
    case 'peer': {
      const lane = store.lanes.get(record.lane);
      if (lane) {
        lane.peer = record.peer;
        if (record.local) lane.local = record.local;
      }
      break;
    }
    case 'bytes': {
      const lane = store.lanes.get(record.lane);
      if (!lane) break;
      const deltaIn = Math.max(0, record.in - lane.bytesIn);
      const deltaOut = Math.max(0, record.out - lane.bytesOut);
      lane.bytesIn = record.in;
      lane.bytesOut = record.out;
      if (lane.closedAt === undefined) lane.activeAt = Math.max(lane.activeAt, record.t);
      if (deltaIn > 0 || deltaOut > 0) store.byteDeltas.push([record.t, deltaIn, deltaOut]);
      break;
    }
    case 'log':
      store.log.push(record);
      if (store.log.length > LOG_KEEP * 2) store.log = store.log.slice(-LOG_KEEP);
      countEvents(store, record.t, 1);
      break;
    case 'dropped':
      store.logDropped += record.count;
      countEvents(store, record.t, record.count);
      break;
    default:
      break; // a newer record kind this page does not know
  }
}

/**
 * An actor past its step cap keeps its first steps and its latest, as the server does: the steps
 * after the gap are cut in batches (a third of the cap at a time), so this costs O(1) a step.
 */
function trimSteps(store, actor) {
  const cap = store.limits.stepsPerActor;
  const steps = actor.steps;
  if (steps.length <= cap + Math.max(1, Math.floor(cap / 3))) return;
  const gapAt = Math.min(actor.gapAt ?? stepsHead(cap), steps.length);
  const cut = steps.length - cap;
  steps.splice(gapAt, cut);
  actor.stepsDropped += cut;
  actor.gapAt = gapAt;
}

/** Past 1.5 × keepFinished finished lanes, the oldest go (with their ended actors), down to keepFinished. */
function trimLanes(store) {
  const keep = store.limits.keepFinished;
  if (store.finishedOrder.length <= keep * 1.5 + 10) return;
  const drop = new Set(store.finishedOrder.slice(0, store.finishedOrder.length - keep));
  store.finishedOrder = store.finishedOrder.slice(-keep);
  for (const id of drop) {
    const lane = store.lanes.get(id);
    if (!lane) continue;
    const state = lane.segments.at(-1)?.state;
    if (state) store.stateCounts[state]--;
    store.lanes.delete(id);
    for (const feeder of lane.feeders) {
      if (store.actors.get(feeder)?.ended) {
        store.actors.delete(feeder);
        store.droppedActors++;
      }
    }
  }
  store.laneOrder = store.laneOrder.filter((id) => !drop.has(id));
  store.droppedLanes += drop.size;
  store.structureVersion++;
}

/** Past 1.5 × keepFinished ended actors, the oldest go, down to keepFinished. */
function trimActors(store) {
  const keep = store.limits.keepFinished;
  if (store.endedOrder.length <= keep * 1.5 + 10) return;
  const drop = store.endedOrder.slice(0, store.endedOrder.length - keep);
  store.endedOrder = store.endedOrder.slice(-keep);
  for (const id of drop) if (store.actors.delete(id)) store.droppedActors++;
  store.structureVersion++;
}

function countEvents(store, t, n) {
  const last = store.eventCounts.at(-1);
  if (last && last[0] === t) last[1] += n;
  else store.eventCounts.push([t, n]);
}

/** Counters at time `at` (default: the newest record): open connections, bytes/s, events/s. */
export function counters(store, at = store.now) {
  const from = at - RATE_WINDOW;
  store.byteDeltas = trimBefore(store.byteDeltas, from - RATE_WINDOW);
  store.eventCounts = trimBefore(store.eventCounts, from - RATE_WINDOW);
  let bytesIn = 0;
  let bytesOut = 0;
  for (const [t, deltaIn, deltaOut] of store.byteDeltas) {
    if (t > from && t <= at) {
      bytesIn += deltaIn;
      bytesOut += deltaOut;
    }
  }
  let events = 0;
  for (const [t, n] of store.eventCounts) if (t > from && t <= at) events += n;
  const seconds = RATE_WINDOW / 1000;
  return {
    open: store.openLanes,
    total: store.lanesSeen,
    bytesInPerSecond: bytesIn / seconds,
    bytesOutPerSecond: bytesOut / seconds,
    eventsPerSecond: events / seconds,
  };
}

function trimBefore(samples, t) {
  let drop = 0;
  while (drop < samples.length && samples[drop][0] < t) drop++;
  return drop === 0 ? samples : samples.slice(drop);
}

/** The store as it was at time `at`, rebuilt from a recording's records (sorted by time). */
export function storeAt(records, at) {
  const store = createStore();
  for (const record of records) {
    if (record.t > at) break;
    applyRecord(store, record);
  }
  store.now = at;
  return store;
}

/**
 * Parses a JSON-lines recording — ours, or @statelyai/inspect's messages (`{ type: '@xstate.actor', … }`)
 * one a line — into records; skips blank lines, reports the first bad one.
 */
export function parseRecording(text) {
  const records = [];
  const stately = createStatelyTranslator({ prefix: '' });
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    let record;
    try {
      record = JSON.parse(line);
    } catch {
      throw new Error(`line ${i + 1} is not JSON: ${line.slice(0, 60)}`);
    }
    if (isStatelyMessage(record)) {
      records.push(...stately.translate(record));
      continue;
    }
    if (record === null || typeof record !== 'object' || typeof record.k !== 'string' || typeof record.t !== 'number') {
      throw new Error(`line ${i + 1} is not an inspector record (it needs "k" and "t") nor an @statelyai/inspect message`);
    }
    records.push(record);
  }
  // Batches are written in order, but be safe: replay needs time order (a stable sort keeps a
  // machine before its actor and an actor before its steps).
  records.sort((a, b) => a.t - b.t);
  return records;
}

/** The lane's states with how long each lasted: [{ state, t, until }] (until = closing time or `at`). */
export function laneSpans(lane, at) {
  return lane.segments.map((segment, i) => ({
    state: segment.state,
    t: segment.t,
    until: i + 1 < lane.segments.length ? lane.segments[i + 1].t : TERMINAL.has(segment.state) ? segment.t : at,
  }));
}

export function isTerminal(state) {
  return TERMINAL.has(state);
}

// One connection (or one actor) at a time: its lifecycle states with their times, both addresses,
// TLS, bytes, why it ended, the events its actors received and emitted, and the statechart of
// each machine in it with the current state highlighted and the path it took, step by step.
import { createChartView } from './chartView.js';
import { formatBytes, formatTime } from './lanes.js';
import { laneSpans } from './store.js';
import { valueText } from './statechart.js';
import { createVirtualList } from './virtualList.js';

/** Events listed for one connection, newest first. */
const EVENTS_SHOWN = 300;

function el(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

/** The actor ids that make up a connection or stand for a selected actor, machine actors first. */
function actorsOf(store, selection) {
  if (selection.lane) return store.lanes.get(selection.lane)?.feeders ?? [];
  return [selection.actor];
}

export function createDetailView({ panel, title, facts, machines, chart, steps, stepControls, events, internals, close, onClose }) {
  const chartView = createChartView(chart);
  let selection;
  /** Actor whose chart is shown, and the step pinned by the user (undefined: follow the latest). */
  let chartActor;
  let pinned;
  let lastRender = { store: undefined, version: -1, at: -1 };
  let store;
  let at;

  close.addEventListener('click', () => {
    select(undefined);
    onClose();
  });

  function select(next) {
    selection = next;
    chartActor = undefined;
    pinned = undefined;
    lastRender = { store: undefined, version: -1, at: -1 };
    panel.hidden = !next;
    panel.dataset.lane = next?.lane ?? '';
    panel.dataset.actor = next?.actor ?? '';
    // Nothing of the previous selection stays on screen (nor in the chart's data-active).
    chartView.clear('');
    tabs.clear();
    machines.replaceChildren();
  }

  const since = (t) => formatTime(t - (store.startedAt ?? t));

  function fact(name, value) {
    const row = el('div', 'fact');
    row.dataset.fact = name;
    row.append(el('span', 'fact-name', name), el('span', 'fact-value', value));
    return row;
  }

  function renderFacts(ids) {
    const rows = [];
    const lane = selection.lane ? store.lanes.get(selection.lane) : undefined;
    const own = store.actors.get(ids[0]);
    if (lane) {
      title.textContent = `${lane.side === 'client' ? '→' : '←'} ${lane.peer ?? lane.path} · ${lane.side} side`;
      const spans = laneSpans(lane, at);
      const ended = lane.closedAt !== undefined && lane.closedAt <= at;
      rows.push(fact('path', lane.path));
      rows.push(fact('state', spans.at(-1)?.state ?? '—'));
      rows.push(fact('peer', lane.peer ?? 'unknown'));
      rows.push(fact('local', lane.local ?? 'unknown'));
      rows.push(fact('TLS', lane.tls ?? 'none'));
      rows.push(fact('bytes in / out', `${formatBytes(lane.bytesIn)} / ${formatBytes(lane.bytesOut)}`));
      rows.push(fact('opened', `${since(lane.openedAt)} after the inspector started`));
      rows.push(fact(ended ? 'lasted' : 'open for', formatTime((ended ? lane.closedAt : at) - lane.openedAt)));
      rows.push(fact('ended because', lane.reason ? `${lane.reason.code ? `${lane.reason.code}: ` : ''}${lane.reason.message}` : ended ? 'it closed normally' : '—'));
      const table = el('table', 'lifecycle');
      table.append(el('caption', '', 'lifecycle states'));
      for (const span of spans) {
        const tr = el('tr', `state-row`);
        tr.dataset.state = span.state;
        const chip = el('td');
        chip.append(el('span', `chip state-${span.state}`, span.state));
        tr.append(chip, el('td', 'num', `at ${since(span.t)}`), el('td', 'num', span.until > span.t ? `for ${formatTime(span.until - span.t)}` : ''));
        table.append(tr);
      }
      facts.replaceChildren(...rows, table);
    } else if (own) {
      title.textContent = `${own.path}`;
      rows.push(fact('component', own.component ?? (own.parent === null ? '(a plain XState actor)' : '(internal actor)')));
      rows.push(fact('status', own.ended ? own.status : 'running'));
      rows.push(fact('started', `${since(own.t)} after the inspector started`));
      if (own.endedAt !== undefined) rows.push(fact('ended', since(own.endedAt)));
      if (own.reason) rows.push(fact('ended because', `${own.reason.code ? `${own.reason.code}: ` : ''}${own.reason.message}`));
      facts.replaceChildren(...rows);
    } else {
      title.textContent = 'gone';
      facts.replaceChildren(el('p', 'muted', 'this actor is not in the session (a page that joined late keeps only recent history)'));
    }
  }

  /** Machine tabs, keyed by actor: a tab stays the same element while the connection lives. */
  const tabs = new Map();
  function renderMachines(ids) {
    const withMachine = ids.filter((id) => store.actors.get(id)?.machine);
    if (chartActor === undefined || !withMachine.includes(chartActor)) chartActor = withMachine[0];
    const wanted = [];
    for (const id of withMachine) {
      const actor = store.actors.get(id);
      const machineId = store.machines.get(actor.machine)?.id;
      const name = actor.component ?? actor.name;
      let button = tabs.get(id);
      if (!button) {
        button = el('button', 'machine-tab');
        button.type = 'button';
        button.dataset.actor = id;
        button.addEventListener('click', () => {
          chartActor = id;
          pinned = undefined;
          render(true);
        });
        tabs.set(id, button);
      }
      const text = machineId && machineId !== name ? `${name} · machine ${machineId}` : name;
      if (button.textContent !== text) button.textContent = text;
      const className = id === chartActor ? 'machine-tab selected' : 'machine-tab';
      if (button.className !== className) button.className = className;
      button.setAttribute('aria-pressed', String(id === chartActor));
      wanted.push(button);
    }
    for (const [id, button] of tabs) {
      if (withMachine.includes(id)) continue;
      tabs.delete(id);
      button.remove();
    }
    wanted.forEach((button, i) => {
      if (machines.children[i] !== button) machines.insertBefore(button, machines.children[i] ?? null);
    });
    return chartActor ? store.actors.get(chartActor) : undefined;
  }

  // The steps: a virtual list (an actor may have made thousands), with one row for the steps the
  // per-actor cap dropped between the first ones and the latest.
  let stepCurrent = -1;
  const stepList = createVirtualList(steps, {
    rowHeight: 18,
    overscan: 4,
    key: (entry) => entry.key,
    createRow: () => {
      const row = el('div', 'step');
      row.addEventListener('click', () => {
        if (row.dataset.index === undefined || row.dataset.index === '') return;
        pinned = Number(row.dataset.index);
        render(true);
      });
      row.addEventListener('keydown', (event) => {
        if (event.key !== 'Enter' && event.key !== ' ') return;
        event.preventDefault();
        row.click();
      });
      row.append(el('span', 'step-number'), el('span', 'step-time'), el('span', 'step-value'), el('span', 'step-event'));
      return row;
    },
    updateRow: (row, entry) => {
      const [number, time, value, event] = row.children;
      if (entry.gap !== undefined) {
        row.className = 'step gap';
        row.dataset.index = '';
        row.removeAttribute('tabindex');
        row.removeAttribute('role');
        delete row.dataset.step;
        number.textContent = '';
        time.textContent = '';
        value.textContent = `… ${entry.gap} steps dropped (the first and the latest ${store.limits.stepsPerActor} are kept) …`;
        event.textContent = '';
        return;
      }
      row.className = entry.index === stepCurrent ? 'step current' : 'step';
      row.dataset.index = String(entry.index);
      row.dataset.step = String(entry.number);
      row.tabIndex = 0;
      row.setAttribute('role', 'button');
      number.textContent = `${entry.number}.`;
      time.textContent = since(entry.step.t);
      value.textContent = valueText(entry.step.value);
      event.textContent = entry.step.event ? `← ${entry.step.event}` : '';
      row.title = 'show the chart at this step';
    },
  });

  function renderSteps(actor) {
    let all = actor ? actor.steps : [];
    if (all.length > 0 && all[all.length - 1].t > at) all = all.filter((step) => step.t <= at);
    const dropped = actor?.stepsDropped ?? 0;
    const gapAt = dropped > 0 ? Math.min(actor.gapAt ?? all.length, all.length) : -1;
    const numberOf = (i) => (gapAt >= 0 && i >= gapAt ? i + 1 + dropped : i + 1);
    const current = pinned !== undefined ? Math.min(pinned, all.length - 1) : all.length - 1;
    stepCurrent = current;
    const entries = [];
    for (let i = 0; i < all.length; i++) {
      if (i === gapAt) entries.push({ key: `${actor.id}:gap`, gap: dropped });
      entries.push({ key: `${actor.id}:${i}`, index: i, number: numberOf(i), step: all[i] });
    }
    if (gapAt === all.length && dropped > 0) entries.push({ key: `${actor.id}:gap`, gap: dropped });
    stepList.setItems(entries);
    const currentEntry = entries.findIndex((entry) => entry.index === current);
    if (currentEntry >= 0 && !stepList.held) stepList.reveal(currentEntry);
    stepControls.dataset.steps = String(all.length);
    const total = all.length + (gapAt >= 0 ? dropped : 0);
    stepControls.querySelector('.step-label').textContent = all.length
      ? `step ${numberOf(current)} of ${total}${pinned === undefined ? ' (following)' : ''}${dropped > 0 ? ` · ${dropped} dropped` : ''}`
      : 'no steps yet';
    return { all, current, numberOf, gapAt, dropped };
  }

  stepControls.querySelector('.step-prev').addEventListener('click', () => {
    const count = Number(stepControls.dataset.steps ?? 0);
    pinned = Math.max(0, (pinned ?? count - 1) - 1);
    render(true);
  });
  stepControls.querySelector('.step-next').addEventListener('click', () => {
    const count = Number(stepControls.dataset.steps ?? 0);
    pinned = Math.min(count - 1, (pinned ?? count - 1) + 1);
    if (pinned === count - 1) pinned = undefined;
    render(true);
  });

  function renderEvents(ids) {
    const mine = new Set(ids);
    const rows = [];
    for (let i = store.log.length - 1; i >= 0 && rows.length < EVENTS_SHOWN; i--) {
      const record = store.log[i];
      if (record.t > at) continue;
      const received = mine.has(record.id);
      const emitted = record.from !== undefined && mine.has(record.from) && !received;
      if (!received && !emitted) continue;
      if (!internals.checked && record.type.startsWith('xstate.')) continue;
      const tr = el('tr', received ? 'received' : 'emitted');
      const parts = [];
      if (record.size !== undefined) parts.push(formatBytes(record.size));
      if (record.kind) parts.push(record.kind);
      if (record.head) parts.push(`0x${record.head}…`);
      const peer = store.actors.get(received ? record.from : record.id);
      tr.append(el('td', 'num', since(record.t)), el('td', '', received ? 'in' : 'out'), el('td', 'type', record.type), el('td', 'num', parts.join(' ')), el('td', 'muted', peer ? `${received ? 'from' : 'to'} ${peer.path}` : ''));
      rows.push(tr);
    }
    const head = el('tr');
    for (const name of ['time', 'in/out', 'event', store.showPayloadBytes > 0 ? 'size, first bytes' : 'size', 'other end']) head.append(el('th', '', name));
    events.replaceChildren(head, ...rows);
    if (rows.length === 0) {
      const none = el('tr');
      const td = el('td', 'muted', `no events logged for it${internals.checked ? '' : ' but XState internals'} (the log keeps a sample when the system is busy)`);
      td.colSpan = 5;
      none.append(td);
      events.append(none);
    }
  }

  /** What to say when there is no statechart to draw: what the selection is instead. */
  function noMachine(ids) {
    if (selection.lane) return 'no state machine in this connection';
    const actor = store.actors.get(ids[0]);
    if (!actor) return 'this actor is not in the session any more';
    if (actor.component !== null) {
      return `${actor.component} is a body component: its behaviour is a function run inside its actor, not a state machine, so it has no statechart. Its events are listed below; the connection it serves has its lifecycle in the connections list.`;
    }
    return `${actor.name} is not a state machine (a callback, promise or observable actor): no statechart to draw; its events are listed below.`;
  }

  function render(force = false) {
    if (!selection || !store) return;
    const now = performance.now();
    if (!force && lastRender.store === store && lastRender.version === store.version && lastRender.at === at) return;
    if (!force && lastRender.store === store && now - (lastRender.time ?? 0) < 250) return;
    lastRender = { store, version: store.version, at, time: now };
    const ids = actorsOf(store, selection);
    renderFacts(ids);
    const actor = renderMachines(ids);
    const { all, current, gapAt, dropped } = renderSteps(actor);
    if (actor) {
      void chartView.show(actor.machine, store.machines.get(actor.machine), all[current]?.value, all.slice(0, current + 1).map((step) => step.value), {
        truncated: store.truncated?.get(actor.machine),
        stepOffset: (i) => (gapAt >= 0 && i >= gapAt ? dropped : 0),
      });
    } else chartView.clear(noMachine(ids));
    renderEvents(ids);
  }

  return {
    select,
    /** Back to following the newest step (the replay moved to another moment). */
    followLatest() {
      pinned = undefined;
    },
    get selection() {
      return selection;
    },
    update(nextStore, nextAt) {
      if (store !== nextStore) lastRender = { store: undefined, version: -1, at: -1 };
      store = nextStore;
      at = nextAt;
      render();
    },
  };
}

// One connection (or one actor) at a time: its lifecycle states with their times, both addresses,
// TLS, bytes, why it ended, the events its actors received and emitted, and the statechart of
// each machine in it with the current state highlighted and the path it took, step by step.
import { createChartView } from './chartView.js';
import { formatBytes, formatTime } from './lanes.js';
import { laneSpans } from './store.js';
import { valueText } from './statechart.js';

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
      rows.push(fact('component', own.component ?? '(internal actor)'));
      rows.push(fact('status', own.ended ? own.status : 'running'));
      rows.push(fact('started', `${since(own.t)} after the inspector started`));
      if (own.endedAt !== undefined) rows.push(fact('ended', since(own.endedAt)));
      facts.replaceChildren(...rows);
    } else {
      title.textContent = 'gone';
      facts.replaceChildren(el('p', 'muted', 'this actor is not in the session (a page that joined late keeps only recent history)'));
    }
  }

  function renderMachines(ids) {
    const withMachine = ids.filter((id) => store.actors.get(id)?.machine);
    if (chartActor === undefined || !withMachine.includes(chartActor)) chartActor = withMachine[0];
    machines.replaceChildren(
      ...withMachine.map((id) => {
        const actor = store.actors.get(id);
        const machineId = store.machines.get(actor.machine)?.id;
        const name = actor.component ?? actor.name;
        const button = el('button', id === chartActor ? 'machine-tab selected' : 'machine-tab', machineId && machineId !== name ? `${name} · machine ${machineId}` : name);
        button.type = 'button';
        button.dataset.actor = id;
        button.addEventListener('click', () => {
          chartActor = id;
          pinned = undefined;
          render(true);
        });
        return button;
      }),
    );
    return chartActor ? store.actors.get(chartActor) : undefined;
  }

  function renderSteps(actor) {
    const all = actor ? actor.steps.filter((step) => step.t <= at) : [];
    const current = pinned !== undefined ? Math.min(pinned, all.length - 1) : all.length - 1;
    steps.replaceChildren(
      ...all.map((step, i) => {
        const row = el('li', i === current ? 'step current' : 'step');
        row.dataset.step = String(i + 1);
        row.append(el('span', 'step-time', since(step.t)), el('span', 'step-value', valueText(step.value)), el('span', 'step-event', step.event ? `← ${step.event}` : ''));
        row.addEventListener('click', () => {
          pinned = i;
          render(true);
        });
        return row;
      }),
    );
    steps.querySelector('.step.current')?.scrollIntoView({ block: 'nearest' });
    stepControls.dataset.steps = String(all.length);
    stepControls.querySelector('.step-label').textContent = all.length ? `step ${current + 1} of ${all.length}${pinned === undefined ? ' (following)' : ''}` : 'no steps yet';
    return { all, current };
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
    for (const name of ['time', '', 'event', store.showPayloadBytes > 0 ? 'size, first bytes' : 'size', 'other end']) head.append(el('th', '', name));
    events.replaceChildren(head, ...rows);
    if (rows.length === 0) {
      const none = el('tr');
      const td = el('td', 'muted', `no events logged for it${internals.checked ? '' : ' but XState internals'} (the log keeps a sample when the system is busy)`);
      td.colSpan = 5;
      none.append(td);
      events.append(none);
    }
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
    const { all, current } = renderSteps(actor);
    if (actor) void chartView.show(actor.machine, store.machines.get(actor.machine), all[current]?.value, all.slice(0, current + 1).map((step) => step.value));
    else chartView.clear(selection.lane ? 'no state machine in this connection' : 'this actor runs no state machine');
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

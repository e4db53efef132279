// Swimlanes: one row per connection with its states over time. Rows are virtualized (only the
// visible ones exist in the DOM), so thousands of connections cost what thirty do.
import { STATES, isTerminal, laneSpans } from './store.js';
import { createVirtualList, heldOrder } from './virtualList.js';

export function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export function formatTime(ms) {
  return `${(ms / 1000).toFixed(3)}s`;
}

function el(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

/** Orders of the list: the newest activity first (the default), oldest, longest, failed first. */
const SORTS = {
  newest: (a, b) => b.activeAt - a.activeAt || b.openedAt - a.openedAt,
  oldest: (a, b) => a.openedAt - b.openedAt,
  longest: (a, b, at) => (b.closedAt ?? at) - b.openedAt - ((a.closedAt ?? at) - a.openedAt),
  failed: (a, b) => Number(b.segments.at(-1)?.state === 'failed') - Number(a.segments.at(-1)?.state === 'failed') || b.activeAt - a.activeAt,
};

export function createLanesView({ scroller, summary, axis, empty, filterInput, sideSelect, openOnly, windowSelect, sortSelect, onSelect }) {
  let store;
  let at = 0;
  let visible = [];
  let selected;
  /** The order last shown, and the settings it was made with: kept while the list is held. */
  let shown = [];
  let shownSettings = '';
  // Always there (hidden when not held), so that showing it moves nothing on the page.
  const holdNote = el('span', 'muted hold-note', 'order held while the pointer or focus is on the list');
  holdNote.dataset.held = 'no';

  const matches = (lane, from) => {
    const side = sideSelect.value;
    if (side !== 'all' && lane.side !== side) return false;
    if (openOnly.checked && lane.closedAt !== undefined && lane.closedAt <= at) return false;
    // The time window shows the connections that were alive in it.
    if (lane.openedAt > at || (lane.closedAt ?? at) < from) return false;
    const text = filterInput.value.trim().toLowerCase();
    if (text === '') return true;
    const states = lane.segments.map((s) => s.state).join(' ');
    const haystack = `${lane.path} ${lane.peer ?? ''} ${lane.side} ${states} ${lane.reason?.code ?? ''} ${lane.reason?.message ?? ''}`.toLowerCase();
    return haystack.includes(text);
  };

  function renderSummary() {
    // The chips count the connections shown (the filters and the time window apply), by their state now.
    const counts = {};
    for (const lane of visible) {
      const state = lane.segments.at(-1)?.state;
      if (state) counts[state] = (counts[state] ?? 0) + 1;
    }
    const parts = STATES.filter((state) => counts[state] > 0).map((state) => {
      const chip = el('span', `chip state-${state}`, `${state} ${counts[state]}`);
      chip.dataset.state = state;
      chip.dataset.count = String(counts[state]);
      return chip;
    });
    const dropped = store.droppedLanes > 0 ? ` · ${store.droppedLanes} older finished connections dropped (the page keeps the latest ${store.limits.keepFinished}, as the server does)` : '';
    const note = el('span', 'muted', `${visible.length} of ${store.laneOrder.length} connections shown${dropped} · `);
    note.dataset.dropped = String(store.droppedLanes);
    summary.replaceChildren(note, ...parts, holdNote);
  }

  /** The time axis: the whole session, or the last few seconds (older parts scroll off the left). */
  function axisStart() {
    const sessionStart = store.startedAt ?? at;
    const windowMs = Number(windowSelect.value);
    return windowMs > 0 ? Math.max(sessionStart, at - windowMs) : sessionStart;
  }

  /** A row's elements, made once per lane while it is in view; `updateLane` fills them. */
  function createLane(lane) {
    const row = el('div', 'lane');
    row.dataset.lane = lane.id;
    row.tabIndex = 0;
    row.setAttribute('role', 'button');
    row.addEventListener('click', () => onSelect(row.dataset.lane));
    row.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        onSelect(row.dataset.lane);
      } else if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        event.preventDefault();
        const index = visible.findIndex((l) => l.id === row.dataset.lane) + (event.key === 'ArrowDown' ? 1 : -1);
        if (index < 0 || index >= visible.length) return;
        list.reveal(index);
        scroller.querySelector(`.lane[data-lane="${window.CSS.escape(visible[index].id)}"]`)?.focus();
      }
    });
    const name = el('div', 'lane-name');
    const label = el('span', 'lane-peer');
    const path = el('span', 'lane-path');
    name.append(label, path);
    row.append(name, el('div', 'lane-track'), el('div', 'lane-states'), el('div', 'lane-time'), el('div', 'lane-bytes'), el('div', 'lane-reason'));
    return row;
  }

  function setText(element, text) {
    if (element.textContent !== text) element.textContent = text;
  }

  function updateLane(row, lane) {
    const sessionStart = store.startedAt ?? at;
    const start0 = axisStart();
    const span = Math.max(1, at - start0);
    const spans = laneSpans(lane, at);
    const className = `lane ${lane.side}${lane.id === selected ? ' selected' : ''}`;
    if (row.className !== className) row.className = className;
    row.dataset.side = lane.side;
    row.dataset.states = spans.map((s) => s.state).join(' ');
    const last = spans.at(-1);
    row.dataset.current = last?.state ?? '';
    const [name, track, history, when, bytes, reason] = row.children;
    // Labelled by the peer (a server's side by who connected), the path only when no peer is known.
    setText(name.children[0], `${lane.side === 'client' ? '→' : '←'} ${lane.peer ?? ''}`);
    setText(name.children[1], ` ${lane.path}`);
    name.title = lane.path;
    // Segments: reused by position, as a lane only ever gains states.
    spans.forEach((s, i) => {
      let segment = track.children[i];
      if (!segment) {
        segment = el('div');
        track.append(segment);
      }
      segment.className = `segment state-${s.state}`;
      segment.dataset.state = s.state;
      const left = ((s.t - start0) / span) * 100;
      const width = isTerminal(s.state) ? 0 : ((s.until - s.t) / span) * 100;
      segment.style.left = `${left}%`;
      segment.style.width = `calc(${width}% + ${isTerminal(s.state) ? 3 : 2}px)`;
      segment.title = `${s.state} at ${formatTime(s.t - sessionStart)}${isTerminal(s.state) ? '' : ` for ${formatTime(s.until - s.t)}`}`;
    });
    while (track.children.length > spans.length) track.lastChild.remove();
    setText(history, spans.map((s) => s.state).join(' → '));
    history.title = spans.map((s) => `${s.state} @ ${formatTime(s.t - sessionStart)}`).join('\n');
    const lasted = (lane.closedAt ?? at) - lane.openedAt;
    setText(when, `+${formatTime(lane.openedAt - sessionStart)} · ${formatTime(lasted)}`);
    when.title = `opened ${formatTime(lane.openedAt - sessionStart)} after the inspector started; ${lane.closedAt === undefined ? 'open for' : 'lasted'} ${formatTime(lasted)}`;
    setText(bytes, `↓${formatBytes(lane.bytesIn)} ↑${formatBytes(lane.bytesOut)}`);
    const why = lane.reason ? `${lane.reason.code ? `${lane.reason.code}: ` : ''}${lane.reason.message}` : '';
    setText(reason, why);
    reason.title = why;
    row.title = 'show its details and statechart';
  }

  const list = createVirtualList(scroller, {
    rowHeight: 24,
    key: (lane) => lane.id,
    createRow: createLane,
    updateRow: updateLane,
    onHoldChange: (held) => {
      holdNote.dataset.held = held ? 'yes' : 'no';
      if (!held && store) update(store, at);
    },
  });

  function update(nextStore, nextAt) {
    store = nextStore;
    at = nextAt;
    const from = axisStart();
    const sorted = [];
    for (const id of store.laneOrder) {
      const lane = store.lanes.get(id);
      if (lane && matches(lane, from)) sorted.push(lane);
    }
    const order = SORTS[sortSelect.value] ?? SORTS.newest;
    sorted.sort((a, b) => order(a, b, at));
    const settings = [filterInput.value, sideSelect.value, openOnly.checked, windowSelect.value, sortSelect.value].join('|');
    // Held (pointer or focus on the list) and the same filters: rows stay where they are.
    visible = list.held && settings === shownSettings && shown.length > 0 ? heldOrder(shown, sorted, (lane) => lane.id).map((lane) => store.lanes.get(lane.id) ?? lane) : sorted;
    shown = visible;
    shownSettings = settings;
    renderSummary();
    list.setItems(visible);
    empty.hidden = visible.length > 0;
    empty.textContent = store.laneOrder.length === 0 ? 'no connections yet' : 'nothing matches: no connection fits these filters in this time window';
    const sessionStart = store.startedAt ?? at;
    axis.textContent = `time axis: ${formatTime(axisStart() - sessionStart)} – ${formatTime(Math.max(0, at - sessionStart))} since the inspector started`;
  }

  return {
    update,
    /** Marks a row as the one shown in the detail view. */
    select(id) {
      selected = id;
      list.render();
    },
  };
}

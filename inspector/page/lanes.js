// Swimlanes: one row per connection with its states over time. Rows are virtualized (only the
// visible ones exist in the DOM), so thousands of connections cost what thirty do.
import { STATES, isTerminal, laneSpans } from './store.js';
import { createVirtualList } from './virtualList.js';

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
    const parts = STATES.filter((state) => store.stateCounts[state] > 0).map((state) => {
      const chip = el('span', `chip state-${state}`, `${state} ${store.stateCounts[state]}`);
      chip.dataset.state = state;
      return chip;
    });
    summary.replaceChildren(el('span', 'muted', `${visible.length} of ${store.laneOrder.length} connections shown · `), ...parts);
  }

  /** The time axis: the whole session, or the last few seconds (older parts scroll off the left). */
  function axisStart() {
    const sessionStart = store.startedAt ?? at;
    const windowMs = Number(windowSelect.value);
    return windowMs > 0 ? Math.max(sessionStart, at - windowMs) : sessionStart;
  }

  function renderLane(lane) {
    const sessionStart = store.startedAt ?? at;
    const start0 = axisStart();
    const span = Math.max(1, at - start0);
    const spans = laneSpans(lane, at);
    const row = el('div', `lane ${lane.side}${lane.id === selected ? ' selected' : ''}`);
    row.dataset.lane = lane.id;
    row.addEventListener('click', () => onSelect(lane.id));
    row.dataset.side = lane.side;
    row.dataset.states = spans.map((s) => s.state).join(' ');
    const last = spans.at(-1);
    row.dataset.current = last?.state ?? '';
    // Labelled by the peer (a server's side by who connected), the path only when no peer is known.
    const name = el('div', 'lane-name', `${lane.side === 'client' ? '→' : '←'} ${lane.peer ?? ''}`);
    name.title = lane.path;
    name.append(el('span', 'lane-path', ` ${lane.path}`));
    const track = el('div', 'lane-track');
    for (const s of spans) {
      const segment = el('div', `segment state-${s.state}`);
      segment.dataset.state = s.state;
      const left = ((s.t - start0) / span) * 100;
      const width = isTerminal(s.state) ? 0 : ((s.until - s.t) / span) * 100;
      segment.style.left = `${left}%`;
      segment.style.width = `calc(${width}% + ${isTerminal(s.state) ? 3 : 2}px)`;
      segment.title = `${s.state} at ${formatTime(s.t - sessionStart)}${isTerminal(s.state) ? '' : ` for ${formatTime(s.until - s.t)}`}`;
      track.append(segment);
    }
    const history = el('div', 'lane-states', spans.map((s) => s.state).join(' → '));
    history.title = spans.map((s) => `${s.state} @ ${formatTime(s.t - sessionStart)}`).join('\n');
    const lasted = (lane.closedAt ?? at) - lane.openedAt;
    const when = el('div', 'lane-time', `+${formatTime(lane.openedAt - sessionStart)} · ${formatTime(lasted)}`);
    when.title = `opened ${formatTime(lane.openedAt - sessionStart)} after the inspector started; ${lane.closedAt === undefined ? 'open for' : 'lasted'} ${formatTime(lasted)}`;
    const bytes = el('div', 'lane-bytes', `↓${formatBytes(lane.bytesIn)} ↑${formatBytes(lane.bytesOut)}`);
    const reason = el('div', 'lane-reason', lane.reason ? `${lane.reason.code ? `${lane.reason.code}: ` : ''}${lane.reason.message}` : '');
    if (lane.reason) reason.title = reason.textContent;
    row.append(name, track, history, when, bytes, reason);
    return row;
  }

  const list = createVirtualList(scroller, { rowHeight: 24, renderRow: renderLane });

  function update(nextStore, nextAt) {
    store = nextStore;
    at = nextAt;
    visible = [];
    const from = axisStart();
    for (const id of store.laneOrder) {
      const lane = store.lanes.get(id);
      if (lane && matches(lane, from)) visible.push(lane);
    }
    const order = SORTS[sortSelect.value] ?? SORTS.newest;
    visible.sort((a, b) => order(a, b, at));
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

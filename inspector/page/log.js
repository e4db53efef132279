// The event log: the newest events that match a filter, virtualized like the swimlanes.
import { formatBytes, formatTime } from './lanes.js';

const ROW_HEIGHT = 20;
const OVERSCAN = 8;

function cell(className, text) {
  const element = document.createElement('span');
  element.className = className;
  element.textContent = text;
  return element;
}

export function createLogView({ scroller, filterInput, note }) {
  const spacer = document.createElement('div');
  spacer.className = 'log-spacer';
  scroller.append(spacer);
  let store;
  let rows = [];
  let at = Infinity;

  const pathOf = (id) => store.actors.get(id)?.path ?? id;

  function describe(record) {
    const parts = [];
    if (record.size !== undefined) parts.push(formatBytes(record.size));
    if (record.kind) parts.push(record.kind);
    if (record.head) parts.push(`0x${record.head}…`);
    return parts.join(' ');
  }

  function render() {
    const start0 = store.startedAt ?? 0;
    const first = Math.max(0, Math.floor(scroller.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(rows.length, Math.ceil((scroller.scrollTop + scroller.clientHeight) / ROW_HEIGHT) + OVERSCAN);
    spacer.style.height = `${rows.length * ROW_HEIGHT}px`;
    const elements = [];
    for (let i = first; i < last; i++) {
      const record = rows[i];
      const row = document.createElement('div');
      row.className = 'log-row';
      row.style.top = `${i * ROW_HEIGHT}px`;
      row.append(
        cell('log-time', formatTime(record.t - start0)),
        cell('log-actor', pathOf(record.id)),
        cell('log-type', record.type),
        cell('log-from', record.from ? `from ${pathOf(record.from)}` : ''),
        cell('log-data', describe(record)),
      );
      elements.push(row);
    }
    scroller.replaceChildren(spacer, ...elements);
  }

  function update(nextStore, nextAt = Infinity) {
    store = nextStore;
    at = nextAt;
    const text = filterInput.value.trim().toLowerCase();
    // Newest first.
    rows = [];
    for (let i = store.log.length - 1; i >= 0 && rows.length < 2000; i--) {
      const record = store.log[i];
      if (record.t > at) continue;
      if (text === '' || `${pathOf(record.id)} ${record.type} ${record.kind ?? ''}`.toLowerCase().includes(text)) rows.push(record);
    }
    note.textContent = store.logDropped > 0 ? `${store.logDropped} events were only counted (the log keeps a sample when busy)` : '';
    render();
  }

  scroller.addEventListener('scroll', () => {
    if (store) render();
  });
  return { update };
}

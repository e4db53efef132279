// The event log: the newest events that match a filter, virtualized like the swimlanes.
import { formatBytes, formatTime } from './lanes.js';
import { createVirtualList } from './virtualList.js';

function cell(className, text) {
  const element = document.createElement('span');
  element.className = className;
  element.textContent = text;
  return element;
}

export function createLogView({ scroller, filterInput, note }) {
  let store;

  const pathOf = (id) => store.actors.get(id)?.path ?? id;

  function describe(record) {
    const parts = [];
    if (record.size !== undefined) parts.push(formatBytes(record.size));
    if (record.kind) parts.push(record.kind);
    if (record.head) parts.push(`0x${record.head}…`);
    return parts.join(' ');
  }

  function renderRecord(record) {
    const row = document.createElement('div');
    row.className = 'log-row';
    row.append(
      cell('log-time', formatTime(record.t - (store.startedAt ?? 0))),
      cell('log-actor', pathOf(record.id)),
      cell('log-type', record.type),
      cell('log-from', record.from ? `from ${pathOf(record.from)}` : ''),
      cell('log-data', describe(record)),
    );
    return row;
  }

  const list = createVirtualList(scroller, { rowHeight: 20, overscan: 8, renderRow: renderRecord });

  function update(nextStore, at = Infinity) {
    store = nextStore;
    const text = filterInput.value.trim().toLowerCase();
    // Newest first.
    const rows = [];
    for (let i = store.log.length - 1; i >= 0 && rows.length < 2000; i--) {
      const record = store.log[i];
      if (record.t > at) continue;
      if (text === '' || `${pathOf(record.id)} ${record.type} ${record.kind ?? ''}`.toLowerCase().includes(text)) rows.push(record);
    }
    note.textContent = store.logDropped > 0 ? `${store.logDropped} events were only counted (the log keeps a sample when busy)` : '';
    list.setItems(rows);
  }

  return { update };
}

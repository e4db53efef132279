// The event log: the newest events that match a filter, virtualized like the swimlanes. By default
// it shows messages between components (a delivery to one of a component's inboxes); XState's and
// the components' internal events (xstate.*, snapshots of children, selector.*, socket.*) are one
// toggle away.
import { formatBytes, formatTime } from './lanes.js';
import { createVirtualList } from './virtualList.js';

function cell(className, text) {
  const element = document.createElement('span');
  element.className = className;
  element.textContent = text;
  return element;
}

/** Whether a logged event is a message to a component's inbox (not an XState or component internal). */
export function isComponentMessage(store, record) {
  const actor = store.actors.get(record.id);
  if (!actor || actor.component === null) return false;
  if (actor.inboxes && actor.inboxes.length > 0) return actor.inboxes.includes(record.type);
  return !record.type.startsWith('xstate.');
}

export function createLogView({ scroller, filterInput, note, internals, onSelect }) {
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
    row.dataset.actor = record.id;
    row.title = 'show this actor';
    row.addEventListener('click', () => onSelect(record.id));
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
    const everything = internals.checked;
    // Newest first.
    const rows = [];
    let hidden = 0;
    for (let i = store.log.length - 1; i >= 0 && rows.length < 2000; i--) {
      const record = store.log[i];
      if (record.t > at) continue;
      if (!everything && !isComponentMessage(store, record)) {
        hidden++;
        continue;
      }
      if (text === '' || `${pathOf(record.id)} ${record.type} ${record.kind ?? ''}`.toLowerCase().includes(text)) rows.push(record);
    }
    const notes = [];
    if (!everything && hidden > 0) notes.push(`${hidden} XState-internal events hidden`);
    if (store.logDropped > 0) notes.push(`${store.logDropped} events were only counted (the log keeps a sample when busy)`);
    note.textContent = notes.join(' · ');
    list.setItems(rows);
  }

  return { update };
}

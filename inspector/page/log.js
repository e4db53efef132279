// The event log: the newest events that match a filter, virtualized like the swimlanes. By default
// it shows messages between components (a delivery to one of a component's inboxes); XState's and
// the components' internal events (xstate.*, snapshots of children, selector.*, socket.*) are one
// toggle away.
import { formatBytes, formatTime } from './lanes.js';
import { createVirtualList, heldOrder } from './virtualList.js';

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

  function createRecordRow() {
    const row = document.createElement('div');
    row.className = 'log-row';
    row.tabIndex = 0;
    row.setAttribute('role', 'button');
    row.addEventListener('click', () => onSelect(row.dataset.actor));
    row.addEventListener('keydown', (event) => {
      if (event.key !== 'Enter' && event.key !== ' ') return;
      event.preventDefault();
      onSelect(row.dataset.actor);
    });
    row.append(cell('log-time', ''), cell('log-actor', ''), cell('log-type', ''), cell('log-from', ''), cell('log-data', ''));
    return row;
  }

  function updateRecordRow(row, record) {
    if (row.dataset.actor === record.id && row.dataset.t === String(record.t) && row.dataset.type === record.type) return;
    row.dataset.actor = record.id;
    row.dataset.t = String(record.t);
    row.dataset.type = record.type;
    const texts = [formatTime(record.t - (store.startedAt ?? 0)), pathOf(record.id), record.type, record.from ? `from ${pathOf(record.from)}` : '', describe(record)];
    texts.forEach((text, i) => (row.children[i].textContent = text));
    row.title = 'show this actor';
  }

  const list = createVirtualList(scroller, { rowHeight: 20, overscan: 8, key: (record) => record, createRow: createRecordRow, updateRow: updateRecordRow });
  let shown = [];
  let shownSettings = '';

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
    // Newest first: new events push rows down, unless the pointer or focus is on the list.
    const settings = `${text}|${everything}`;
    const items = list.held && settings === shownSettings && shown.length > 0 ? heldOrder(shown, rows, (record) => record).slice(0, 4000) : rows;
    shown = items;
    shownSettings = settings;
    list.setItems(items);
  }

  return { update };
}

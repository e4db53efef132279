// @statelyai/inspect's message format, both ways. `createWebSocketInspector({ url })` from that
// package sends `@xstate.actor` (with the machine's config as JSON in `definition`),
// `@xstate.event` and `@xstate.snapshot` messages; the translator turns them into inspector
// records, so any XState v5 program shows up on the page, recorded and replayable like ours.
// `toStatelyMessages` goes the other way, to save a session in that format. Shared by the server
// (live clients) and the page (opening a saved file); pure, so tests run it in Node.

/** Whether a parsed JSON value is one of @statelyai/inspect's inspection messages. */
export function isStatelyMessage(value) {
  return value !== null && typeof value === 'object' && typeof value.type === 'string' && value.type.startsWith('@xstate.') && typeof value.sessionId === 'string';
}

function timeOf(message, fallback) {
  const t = Number(message.createdAt);
  return Number.isFinite(t) && t > 0 ? t : fallback();
}

function sizeOf(data) {
  if (typeof data === 'string') return new TextEncoder().encode(data).length;
  if (data && typeof data === 'object' && data.type === 'Buffer' && Array.isArray(data.data)) return data.data.length;
  return undefined;
}

function typeOf(value) {
  if (value === null) return '(null)';
  if (Array.isArray(value)) return `(array of ${value.length})`;
  return `(${typeof value})`;
}

function redacted(value) {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    // A factory function arrives as { type: name } already: keep it.
    if (Object.keys(value).length === 1 && typeof value.type === 'string') return value;
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, typeOf(item)]));
  }
  return typeOf(value);
}

/**
 * A definition with its context values (the machine's `context`, invocations' `input`) replaced by
 * their types, as the inspector's own machines are sent unless `showContext` is set.
 */
export function redactDefinition(definition) {
  const walk = (value, depth) => {
    if (Array.isArray(value)) return value.map((item) => walk(item, depth + 1));
    if (!value || typeof value !== 'object') return value;
    const copy = {};
    for (const [key, item] of Object.entries(value)) {
      copy[key] = (key === 'context' && depth === 0) || (key === 'input' && depth > 0) ? redacted(item) : walk(item, depth + 1);
    }
    return copy;
  };
  return walk(definition, 0);
}

/**
 * Where a definition was cut short: @statelyai/inspect writes `"[Object]"` or `"[Array]"` for
 * whatever lies deeper than its `serializationDepthLimit` (10 by default), so a deep transition
 * loses its target. Returns the dotted paths of those values (empty when the definition is whole).
 */
export function truncatedPaths(definition) {
  const paths = [];
  const walk = (value, path) => {
    if (value === '[Object]' || value === '[Array]') paths.push(path.join('.'));
    else if (value && typeof value === 'object') for (const [key, item] of Object.entries(value)) walk(item, [...path, key]);
  };
  walk(definition, []);
  return paths;
}

/**
 * Turns one client's messages into records. `prefix` keeps session ids of different programs
 * apart (each numbers its actors `x:0`, `x:1`, …); `now` stamps messages without a time.
 */
export function createStatelyTranslator({ prefix = '', now = Date.now, showContext = false } = {}) {
  /** definition JSON → machine key */
  const machines = new Map();
  /** session id → { path, value JSON } */
  const actors = new Map();
  let machineCount = 0;

  const idOf = (sessionId) => `${prefix}${sessionId}`;

  function actorRecords(message, t) {
    const records = [];
    const id = idOf(message.sessionId);
    if (actors.has(id)) return records;
    let machine;
    let definition;
    if (typeof message.definition === 'string') {
      try {
        definition = JSON.parse(message.definition);
      } catch {
        definition = undefined;
      }
    }
    if (definition && typeof definition === 'object' && definition.states && typeof definition.states === 'object') {
      machine = machines.get(message.definition);
      if (machine === undefined) {
        machine = `${prefix}sm${++machineCount}`;
        machines.set(message.definition, machine);
        const truncated = truncatedPaths(definition);
        const sent = showContext ? definition : redactDefinition(definition);
        records.push(truncated.length > 0 ? { k: 'machine', t, machine, definition: sent, truncated } : { k: 'machine', t, machine, definition: sent });
      }
    }
    const parent = typeof message.parentId === 'string' && actors.has(idOf(message.parentId)) ? idOf(message.parentId) : null;
    const name = typeof message.name === 'string' && message.name !== '' ? message.name : message.sessionId;
    const path = parent ? `${actors.get(parent).path}/${name}` : name;
    actors.set(id, { path, valueKey: undefined });
    // Drawn as components without boxes: the page's graph shows the actor tree, folded by name.
    records.push({ k: 'actor', t, id, parent, path, name, component: definition?.id ?? name, inboxes: [], outboxes: [], ...(machine ? { machine } : {}) });
    // Its snapshot is left out: the package reads it when it sends (later), and the actor's first
    // @xstate.snapshot (xstate.init) follows with the state it started in.
    return records;
  }

  function snapshotRecords(id, snapshot, event, t) {
    const records = [];
    const actor = actors.get(id);
    if (!actor || !snapshot || typeof snapshot !== 'object') return records;
    if (snapshot.value !== undefined) {
      const key = JSON.stringify(snapshot.value);
      if (key !== actor.valueKey) {
        actor.valueKey = key;
        records.push({ k: 'step', t, id, value: snapshot.value, event: typeof event?.type === 'string' ? event.type : '' });
      }
    }
    if (snapshot.status === 'done' || snapshot.status === 'error' || snapshot.status === 'stopped') {
      const reason = snapshot.status === 'error' && snapshot.error !== undefined ? { message: typeof snapshot.error === 'string' ? snapshot.error : (snapshot.error?.message ?? JSON.stringify(snapshot.error)) } : undefined;
      records.push(reason ? { k: 'end', t, id, status: snapshot.status, reason } : { k: 'end', t, id, status: snapshot.status });
      actors.delete(id);
    }
    return records;
  }

  return {
    /** Records for one message (none for one it does not understand). */
    translate(message) {
      if (!isStatelyMessage(message)) return [];
      const t = timeOf(message, now);
      switch (message.type) {
        case '@xstate.actor':
          return actorRecords(message, t);
        case '@xstate.snapshot':
          return snapshotRecords(idOf(message.sessionId), message.snapshot, message.event, t);
        case '@xstate.event': {
          const event = message.event;
          if (!event || typeof event.type !== 'string') return [];
          const size = sizeOf(event.data);
          return [
            {
              k: 'log',
              t,
              id: idOf(message.sessionId),
              type: event.type,
              ...(typeof message.sourceId === 'string' ? { from: idOf(message.sourceId) } : {}),
              ...(size !== undefined ? { size } : {}),
            },
          ];
        }
        default:
          return [];
      }
    },
  };
}

/**
 * A session's records as @statelyai/inspect messages (one object each): actors with their
 * machine's definition, snapshots with their state value and status, and the logged events.
 */
export function toStatelyMessages(records) {
  const machines = new Map();
  const messages = [];
  const common = (t) => ({ _version: '0.7.2', createdAt: String(t), id: null, rootId: 'anonymous' });
  for (const record of records) {
    switch (record.k) {
      case 'machine':
        machines.set(record.machine, record.definition);
        break;
      case 'actor': {
        const definition = record.machine ? machines.get(record.machine) : undefined;
        messages.push({
          type: '@xstate.actor',
          name: record.name,
          sessionId: record.id,
          parentId: record.parent ?? undefined,
          definition: JSON.stringify(definition ?? { id: record.name }),
          snapshot: { status: 'active' },
          ...common(record.t),
        });
        break;
      }
      case 'step':
        messages.push({ type: '@xstate.snapshot', sessionId: record.id, snapshot: { status: 'active', value: record.value }, event: { type: record.event }, ...common(record.t) });
        break;
      case 'end':
        messages.push({ type: '@xstate.snapshot', sessionId: record.id, snapshot: { status: record.status, ...(record.reason ? { error: record.reason } : {}) }, event: { type: 'xstate.stop' }, ...common(record.t) });
        break;
      case 'log':
        messages.push({ type: '@xstate.event', sessionId: record.id, ...(record.from ? { sourceId: record.from } : {}), event: { type: record.type }, ...common(record.t) });
        break;
      default:
        break;
    }
  }
  return messages;
}

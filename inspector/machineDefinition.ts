// A state machine's definition as the page draws it: the config XState keeps on the machine
// (`machine.config`), made JSON-safe the way @statelyai/inspect does it (functions become
// `{ type: name }`), so our machines and any user's reach the page in one form. Context values
// (the machine's `context` defaults, an invocation's `input`) may be secrets: unless asked for,
// only their keys and types leave the process.

/** How deep a config is copied; deeper values (big context defaults) become `"…"`. */
const MAX_DEPTH = 24;

/** The JSON-safe config of a state machine's logic, or undefined for logic that is not a state machine. */
export function machineDefinitionOf(logic: object, showContext = false): unknown {
  const config = (logic as { config?: unknown }).config;
  if (typeof config !== 'object' || config === null || !('root' in logic)) return undefined;
  return jsonSafe(config, 0, new Set(), showContext);
}

/** A value's type as the page shows it in place of the value: `(string)`, `(array of 3)`. */
export function typeOf(value: unknown): string {
  if (value === null) return '(null)';
  if (Array.isArray(value)) return `(array of ${value.length})`;
  return `(${typeof value})`;
}

/** Keys and types of a context or input object; a factory function stays `{ type: name }`. */
export function redacted(value: unknown): unknown {
  if (typeof value === 'function') return { type: value.name || 'anonymous' };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return typeOf(value);
  const shape: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) shape[key] = typeOf(item);
  return shape;
}

function jsonSafe(value: unknown, depth: number, seen: Set<object>, showContext: boolean): unknown {
  if (typeof value === 'function') return { type: value.name || 'anonymous' };
  if (typeof value === 'bigint') return String(value);
  if (typeof value !== 'object' || value === null) return typeof value === 'symbol' || value === undefined ? undefined : value;
  if (depth >= MAX_DEPTH || seen.has(value)) return '…';
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => jsonSafe(item, depth + 1, seen, showContext) ?? null);
    const prototype = Object.getPrototypeOf(value) as unknown;
    // A machine or actor referenced by an invoke: its id says enough.
    if (prototype !== Object.prototype && prototype !== null) {
      const id = (value as { id?: unknown; config?: { id?: unknown } }).config?.id ?? (value as { id?: unknown }).id;
      return { type: typeof id === 'string' ? id : (value.constructor?.name ?? 'object') };
    }
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      // `context` of the machine (depth 0), `input` of an invocation or a spawn.
      const secret = !showContext && ((key === 'context' && depth === 0) || (key === 'input' && depth > 0));
      const safe = secret ? redacted(item) : jsonSafe(item, depth + 1, seen, showContext);
      if (safe !== undefined) copy[key] = safe;
    }
    return copy;
  } finally {
    seen.delete(value);
  }
}

// When two walked states are the same state. Counters would make the space infinite (every byte or
// refusal counted a new state), so by default a number counts only by its sign: 0, positive or
// negative - enough for guards like "no connections open" - except where a guard of the machine
// reads it (the walk records what guards read): there it is kept exactly ("three bad commands").
import type { AnyActorRef, AnyMachineSnapshot } from 'xstate';

function isActorRef(value: object): value is AnyActorRef {
  return typeof (value as { send?: unknown }).send === 'function' && typeof (value as { getSnapshot?: unknown }).getSnapshot === 'function';
}

/**
 * `value` made JSON-safe and abstracted: numbers by sign (but exactly at the dotted context paths in
 * `exact`, e.g. `badCommands`), actors by id, opaque values by label.
 */
export function abstractValue(value: unknown, depth = 0, seen = new Set<object>(), path = '', exact: ReadonlySet<string> = NONE): unknown {
  if (typeof value === 'number') {
    if (exact.has(path)) return Number.isNaN(value) ? 'NaN' : value;
    return value === 0 ? 0 : Number.isNaN(value) ? 'NaN' : value > 0 ? '+' : '-';
  }
  if (typeof value === 'bigint') return value === 0n ? 0 : value > 0n ? '+' : '-';
  if (typeof value === 'function') return '[function]';
  if (typeof value === 'symbol') return value.toString();
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value) || depth > 6) return '[…]';
  if (isActorRef(value)) return `[actor ${value.id}]`;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function' && !(value instanceof Date)) return (value as { toJSON(): unknown }).toJSON();
  if (ArrayBuffer.isView(value)) return `[${value.byteLength === 0 ? 'no' : 'some'} bytes]`;
  if (value instanceof Map || value instanceof Set) return `[${value.size === 0 ? 'empty' : 'non-empty'} ${value.constructor.name}]`;
  seen.add(value);
  try {
    const at = (key: string | number): string => (path ? `${path}.${key}` : String(key));
    if (Array.isArray(value)) return value.map((item, index) => abstractValue(item, depth + 1, seen, at(index), exact));
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = abstractValue((value as Record<string, unknown>)[key], depth + 1, seen, at(key), exact);
    return out;
  } finally {
    seen.delete(value);
  }
}

const NONE: ReadonlySet<string> = new Set();

/** A machine snapshot's identity for the walk: status, value, abstracted context, and its children's. */
export function defaultStateKey(snapshot: AnyMachineSnapshot, describeChild: (ref: AnyActorRef) => unknown, exact: ReadonlySet<string> = NONE): string {
  const children: Record<string, unknown> = {};
  for (const [id, ref] of Object.entries(snapshot.children as Record<string, AnyActorRef | undefined>).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (ref) children[id] = describeChild(ref);
  }
  return JSON.stringify({ status: snapshot.status, value: snapshot.value, context: abstractValue(snapshot.context, 0, new Set(), '', exact), children });
}

/** Options of {@link defaultSerializeState}. */
export interface SerializeStateOptions {
  /** Dotted context paths (`badCommands`, `counts.open`) whose numbers count exactly. Default: none. */
  readonly exactNumbers?: readonly string[];
}

/**
 * createTestModel's default state key, for a `serializeState` that extends it: status, state value,
 * context with numbers by sign (exactly at `exactNumbers`), and each child's status and value. (The
 * walk's own default also keeps exactly every number a guard of the machine reads.)
 * @example
 * ```ts
 * createTestModel(machine, { serializeState: (state) => defaultSerializeState(state, { exactNumbers: ['retries'] }) });
 * ```
 */
export function defaultSerializeState(snapshot: AnyMachineSnapshot, options: SerializeStateOptions = {}): string {
  const describe = (ref: AnyActorRef): unknown => {
    const child = ref.getSnapshot() as { status?: unknown; value?: unknown };
    return { status: child.status, value: child.value };
  };
  return defaultStateKey(snapshot, describe, new Set(options.exactNumbers ?? []));
}

// How path.test({ states }) keys name a state value. A value is named by every active state node's
// path (`open`, `open.auth`, `open.auth.authed`: a parent key matches its children, as
// xstate/graph's state.matches does), and as descriptions print it (`open.{auth.authed, proto.idle}`).

/** A state value as path descriptions print it: `open.connected`, `open.{auth.authed, proto.idle}`. */
export function valueName(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null) return String(value);
  return Object.entries(value)
    .map(([key, sub]) => {
      const inner = valueName(sub);
      return typeof sub === 'object' && sub !== null && Object.keys(sub).length > 1 ? `${key}.{${inner}}` : `${key}.${inner}`;
    })
    .join(', ');
}

/** The dotted paths of every active state node in `value`. */
function activePaths(value: unknown, prefix = ''): string[] {
  if (typeof value === 'string') return [prefix + value];
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, sub]) => [prefix + key, ...activePaths(sub, `${prefix}${key}.`)]);
}

/** Every key that names `value`: its active node paths and its printed form (and the compact form `a.b,c.d` of earlier releases). */
export function stateValueKeys(value: unknown): Set<string> {
  const compact = (v: unknown): string =>
    typeof v === 'object' && v !== null
      ? Object.entries(v)
          .map(([key, sub]) => `${key}.${compact(sub)}`)
          .join(',')
      : String(v);
  return new Set([...activePaths(value), valueName(value), compact(value)]);
}

/** Every node path of a machine's state tree (`open`, `open.connected`), for checking keys. */
export function nodePaths(root: { readonly states: Readonly<Record<string, unknown>> }, prefix = ''): string[] {
  return Object.entries(root.states).flatMap(([key, node]) => [prefix + key, ...nodePaths(node as typeof root, `${prefix}${key}.`)]);
}

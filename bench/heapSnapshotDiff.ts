// Diffing two V8 heap snapshots of one process (bench/heap-diff.ts): the objects new in the second,
// grouped by kind and name, with what holds them and which named class owns them.

/** The parts of a `.heapsnapshot` file this reads. */
export interface Snapshot {
  readonly snapshot: { readonly meta: { readonly node_fields: string[]; readonly node_types: [string[]]; readonly edge_fields: string[]; readonly edge_types: [string[]] } };
  readonly nodes: number[];
  readonly edges: number[];
  readonly strings: string[];
}

/** New objects of one kind and name: how many, their bytes, their bytes by holder. */
export interface Group {
  count: number;
  bytes: number;
  readonly holders: Map<string, number>;
}

/** New objects of `after` (ids absent from `before`), grouped, with their holders. */
export function diffSnapshots(before: Snapshot, after: Snapshot): { groups: Map<string, Group>; owners: Map<string, number>; bytes: number } {
  const meta = after.snapshot.meta;
  const nodeWidth = meta.node_fields.length;
  const edgeWidth = meta.edge_fields.length;
  const [typeAt, nameAt, idAt, sizeAt, edgeCountAt] = ['type', 'name', 'id', 'self_size', 'edge_count'].map((f) => meta.node_fields.indexOf(f)) as [number, number, number, number, number];
  const [edgeTypeAt, edgeNameAt, edgeToAt] = ['type', 'name_or_index', 'to_node'].map((f) => meta.edge_fields.indexOf(f)) as [number, number, number];
  const nodeTypes = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const beforeWidth = before.snapshot.meta.node_fields.length;
  const beforeIdAt = before.snapshot.meta.node_fields.indexOf('id');
  const old = new Set<number>();
  for (let i = 0; i < before.nodes.length; i += beforeWidth) old.add(before.nodes[i + beforeIdAt]!);

  // Plain objects are most of the count: name them by their keys, which says whose they are.
  const keysOf = new Map<number, string>();
  for (let node = 0, edge = 0; node < after.nodes.length; node += nodeWidth) {
    const edgeCount = after.nodes[node + edgeCountAt]!;
    const plain = nodeTypes[after.nodes[node + typeAt]!] === 'object' && after.strings[after.nodes[node + nameAt]!] === 'Object';
    const keys: string[] = [];
    for (let e = 0; e < edgeCount; e++, edge += edgeWidth) {
      if (plain && edgeTypes[after.edges[edge + edgeTypeAt]!] === 'property') {
        const key = after.strings[after.edges[edge + edgeNameAt]!]!;
        if (key !== '__proto__') keys.push(key);
      }
    }
    if (plain) keysOf.set(node, `{${keys.slice(0, 5).join(',')}${keys.length > 5 ? ',...' : ''}}`);
  }
  const label = (node: number): string => {
    const type = nodeTypes[after.nodes[node + typeAt]!]!;
    const name = after.strings[after.nodes[node + nameAt]!]! + (keysOf.get(node) ?? '');
    // Strings and numbers: the kind is enough (their text is the data, not the structure).
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string' || type === 'number' || type === 'heap number') return `(${type})`;
    const short = name.length > 80 ? `${name.slice(0, 77)}...` : name;
    return `${type} ${short}`;
  };
  // First strong holder of each node (node index and edge name): walk every edge once. The first
  // holder is not always the dominator, but for per-connection objects it is nearly always the owner.
  const holderNode = new Map<number, number>();
  const holderEdge = new Map<number, string>();
  let edge = 0;
  for (let node = 0; node < after.nodes.length; node += nodeWidth) {
    const edgeCount = after.nodes[node + edgeCountAt]!;
    for (let e = 0; e < edgeCount; e++, edge += edgeWidth) {
      const type = edgeTypes[after.edges[edge + edgeTypeAt]!]!;
      if (type === 'weak' || type === 'shortcut') continue;
      const to = after.edges[edge + edgeToAt]!;
      if (holderNode.has(to)) continue;
      const nameOrIndex = after.edges[edge + edgeNameAt]!;
      holderNode.set(to, node);
      holderEdge.set(to, type === 'element' || type === 'hidden' ? `[${nameOrIndex}]` : after.strings[nameOrIndex]!);
    }
  }
  // A holder that is itself plumbing (an elements store, an Array, a context, a property array) is
  // named with its own holder, so "Array .elements" reads "Object{...} .gates > Array .elements".
  const plumbing = /^(array |object Array$|object system \/ Context|hidden |object Set$|object Map$|closure native_bind)/;
  const holderText = (node: number, depth = 0): string => {
    const by = holderNode.get(node);
    if (by === undefined) return '(no strong holder)';
    const text = `${label(by)} .${holderEdge.get(node)}`;
    return depth < 2 && plumbing.test(label(by)) ? `${holderText(by, depth + 1)} > ${text}` : text;
  };
  // The owner: the nearest holder up the chain that is a named class (not a plain object, array,
  // closure, context, ...): which part of the program an object belongs to.
  const generic = /^(array|object Object\{|object Array$|object system|hidden|closure|object Set$|object Map$|object shape|code|synthetic|native|\()/;
  const ownerOf = (node: number): string => {
    let at: number | undefined = node;
    for (let depth = 0; at !== undefined && depth < 12; depth++, at = holderNode.get(at)) {
      const text = label(at);
      if (!generic.test(text)) return text;
    }
    return '(none found within 12 holders)';
  };
  const groups = new Map<string, Group>();
  const owners = new Map<string, number>();
  let bytes = 0;
  for (let node = 0; node < after.nodes.length; node += nodeWidth) {
    if (old.has(after.nodes[node + idAt]!)) continue;
    const size = after.nodes[node + sizeAt]!;
    bytes += size;
    const key = label(node);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { count: 0, bytes: 0, holders: new Map() }));
    group.count++;
    group.bytes += size;
    const by = holderText(node);
    group.holders.set(by, (group.holders.get(by) ?? 0) + size);
    const owner = ownerOf(node);
    owners.set(owner, (owners.get(owner) ?? 0) + size);
  }
  return { groups, owners, bytes };
}

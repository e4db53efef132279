import fs from 'node:fs';
const snap = JSON.parse(fs.readFileSync('/tmp/h1.heapsnapshot', 'utf8'));
const meta = snap.snapshot.meta; const nf = meta.node_fields.length; const ef = meta.edge_fields.length;
const types = meta.node_types[0]; const etypes = meta.edge_types[0];
const nodes = snap.nodes, edges = snap.edges, strings = snap.strings;
// build retainer: for each node, first parent (node index) and edge name
const n = nodes.length / nf;
const parent = new Int32Array(n).fill(-1); const pedge = new Array(n);
let e = 0;
for (let i = 0; i < n; i++) {
  const count = nodes[i * nf + 4];
  for (let j = 0; j < count; j++, e += ef) {
    const to = edges[e + 2] / nf; const et = etypes[edges[e]];
    if (parent[to] === -1 && et !== 'weak') { parent[to] = i; pedge[to] = et === 'element' || et === 'hidden' ? `[${edges[e + 1]}]` : strings[edges[e + 1]]; }
  }
}
const bySize = new Map<string, [number, number]>();
for (let i = 0; i < n; i++) {
  if (types[nodes[i * nf]] !== 'array') continue;
  const size = nodes[i * nf + 3];
  const p = parent[i]; const pname = p >= 0 ? `${types[nodes[p * nf]]}:${strings[nodes[p * nf + 1]]}.${pedge[i]}` : '?';
  const key = `${pname} (size ${size > 1000 ? Math.round(size / 1000) + 'k' : size})`;
  const v = bySize.get(key) ?? [0, 0]; v[0]++; v[1] += size; bySize.set(key, v);
}
for (const [k, [c, s]] of [...bySize].sort((a, b) => b[1][1] - a[1][1]).slice(0, 30)) console.log(String(c).padStart(6), String(s).padStart(10), k);
const closureNames = new Map<string, number>();
for (let i = 0; i < n; i++) {
  if (types[nodes[i * nf]] !== 'array' || nodes[i * nf + 3] !== 256) continue;
  const p = parent[i]; if (p < 0 || types[nodes[p * nf]] !== 'closure') continue;
  // find grandparent
  const gp = parent[p]; const gname = gp >= 0 ? `${types[nodes[gp * nf]]}:${strings[nodes[gp * nf + 1]]}.${pedge[p]}` : '?';
  const key = `${strings[nodes[p * nf + 1]]} <- ${gname}`;
  closureNames.set(key, (closureNames.get(key) ?? 0) + 1);
}
console.log([...closureNames].sort((a, b) => b[1] - a[1]).slice(0, 25));

// The lifecycle drawings in docs/reference/ are generated from the machines themselves (their
// StateNode tree, as XState builds it), so a drawing cannot drift from the code: `npm run
// docs:charts` rewrites them, `npm run docs:charts -- --check` (and test/docs-charts.test.ts) fails
// when a committed one differs. A development script: nothing in the package imports it.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { connectedSocketAdapterMachine, graphSupervisorMachine, selectorMachine, tcpClientMachine, tcpServerMachine } from '../machines/index.js';

/** Which machine is drawn in which page. A page holds one block per chart, between the markers. */
export const CHARTS: readonly { name: string; machine: AnyStateMachine; page: string }[] = [
  { name: 'tcpClientMachine', machine: tcpClientMachine, page: 'docs/reference/tcp-client.md' },
  { name: 'connectedSocketAdapterMachine', machine: connectedSocketAdapterMachine, page: 'docs/reference/connected-socket-adapter.md' },
  { name: 'selectorMachine', machine: selectorMachine, page: 'docs/reference/connected-socket-adapter.md' },
  { name: 'tcpServerMachine', machine: tcpServerMachine, page: 'docs/reference/tcp-server.md' },
  { name: 'graphSupervisorMachine', machine: graphSupervisorMachine, page: 'docs/reference/graphs.md' },
];

const root = fileURLToPath(new URL('..', import.meta.url));

/** A transition's label: its event (timers and actor outcomes said plainly) and its guard. */
function label(eventType: string, delay: unknown, guard: unknown): string {
  let event = eventType;
  if (eventType.startsWith('xstate.after.')) event = `after ${typeof delay === 'string' ? delay : `${String(delay)} ms`}`;
  else if (eventType === '') event = 'always';
  else event = eventType.replace(/^xstate\./, '');
  const guardName = guardLabel(guard);
  // Mermaid reads ';' and '#' in a label as syntax.
  return `${event}${guardName ? ` [${guardName}]` : ''}`.replace(/[;#]/g, ' ');
}

function guardLabel(guard: unknown): string | undefined {
  if (guard === undefined) return undefined;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') return guard.name && guard.name !== 'guard' ? guard.name : 'guard';
  if (guard && typeof guard === 'object' && 'type' in guard) return String((guard as { type: unknown }).type);
  return 'guard';
}

/** The Mermaid stateDiagram-v2 text of a machine. */
export function mermaidOf(machine: AnyStateMachine): string {
  const lines = ['stateDiagram-v2'];
  const keyCount = new Map<string, number>();
  const count = (node: AnyStateNode): void => {
    for (const child of Object.values(node.states) as AnyStateNode[]) {
      keyCount.set(child.key, (keyCount.get(child.key) ?? 0) + 1);
      count(child);
    }
  };
  count(machine.root);
  // A key used once is its own id; a repeated one is qualified by its path.
  const idOf = (node: AnyStateNode): string => ((keyCount.get(node.key) ?? 0) > 1 ? node.path.join('_') : node.key);
  const isDescendant = (node: AnyStateNode, of: AnyStateNode): boolean => node.path.length > of.path.length && of.path.every((key, i) => node.path[i] === key);
  const edges: string[] = [];

  const transitionsOf = (node: AnyStateNode): void => {
    const all = [...node.transitions.values()].flat();
    for (const transition of [...all, ...(node.always ?? [])]) {
      // An unguarded transition listed after guarded ones for the same event is their 'else'.
      const siblings = transition.eventType === '' ? (node.always ?? []) : (node.transitions.get(transition.eventType) ?? []);
      const otherwise = transition.guard === undefined && siblings.indexOf(transition) > 0;
      for (const target of transition.target ?? []) {
        const text = label(transition.eventType, (transition as { delay?: unknown }).delay, otherwise ? 'else' : transition.guard);
        // A transition on a state (or on the machine) is taken from any state inside it: drawn from
        // each of its children when it targets one of them, since a drawing cannot point a box at
        // its own contents.
        // A child that takes the same event unconditionally itself never lets it reach this state;
        // and a child re-entering itself through its parent's transition (a mirror of another
        // machine's state, say) is left out as noise.
        const sources = (node === machine.root || isDescendant(target, node) ? leavesUnder(node) : [node]).filter(
          (source) =>
            source === node || (source !== target && !source.transitions.get(transition.eventType)?.some((own) => own.guard === undefined)),
        );
        for (const source of sources) edges.push(`${idOf(source)} --> ${idOf(target)} : ${text}`);
      }
    }
    for (const child of Object.values(node.states) as AnyStateNode[]) transitionsOf(child);
  };
  // The children of a state, final ones excluded (nothing leaves a final state).
  const leavesUnder = (node: AnyStateNode): AnyStateNode[] => (Object.values(node.states) as AnyStateNode[]).filter((child) => child.type !== 'final');

  const draw = (node: AnyStateNode, indent: string): void => {
    const children = Object.values(node.states) as AnyStateNode[];
    if (node.type === 'compound') {
      const initial = node.initial?.target[0];
      if (initial) lines.push(`${indent}[*] --> ${idOf(initial)}`);
    }
    children.forEach((child, i) => {
      if (node.type === 'parallel' && i > 0) lines.push(`${indent}--`);
      const id = idOf(child);
      if (id !== child.key) lines.push(`${indent}state "${child.key}" as ${id}`);
      else if (child.type === 'atomic' || child.type === 'final') lines.push(`${indent}${id}`);
      if (child.type === 'compound' || child.type === 'parallel') {
        lines.push(`${indent}state ${id} {`);
        draw(child, `${indent}  `);
        lines.push(`${indent}}`);
      }
      if (child.type === 'final') lines.push(`${indent}${id} --> [*]`);
    });
  };
  draw(machine.root, '  ');
  transitionsOf(machine.root);
  return [...lines, ...edges.map((edge) => `  ${edge}`)].join('\n') + '\n';
}

const begin = (name: string) => `<!-- chart: ${name} (generated from the machine by npm run docs:charts; do not edit) -->`;
const END = '<!-- /chart -->';

/** The page with every chart block replaced by the machine's current drawing. Throws if a page lacks a marker. */
export function renderPage(page: string, text: string): string {
  let out = text;
  for (const chart of CHARTS.filter((c) => c.page === page)) {
    const start = out.indexOf(begin(chart.name));
    const end = start < 0 ? -1 : out.indexOf(END, start);
    if (start < 0 || end < 0) throw new Error(`${page}: no chart block for ${chart.name} (add "${begin(chart.name)}" and "${END}")`);
    const block = `${begin(chart.name)}\n\n\`\`\`mermaid\n${mermaidOf(chart.machine)}\`\`\`\n\n`;
    out = out.slice(0, start) + block + out.slice(end);
  }
  return out;
}

/** The pages whose committed drawing differs from their machine (after writing them unless `check`). */
export function updateCharts(check: boolean): string[] {
  const stale: string[] = [];
  for (const page of new Set(CHARTS.map((c) => c.page))) {
    const path = `${root}${page}`;
    const text = readFileSync(path, 'utf8');
    const next = renderPage(page, text);
    if (next === text) continue;
    stale.push(page);
    if (!check) writeFileSync(path, next);
  }
  return stale;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const check = process.argv.includes('--check');
  const stale = updateCharts(check);
  if (check && stale.length > 0) {
    console.error(`Charts differ from their machines in: ${stale.join(', ')}. Run npm run docs:charts.`);
    process.exit(1);
  }
  console.log(stale.length ? `${check ? 'stale' : 'rewrote'}: ${stale.join(', ')}` : 'charts are up to date');
}

// Which states and transitions of each machine the executed paths covered, as data and as a table.
import type { AnyStateMachine } from 'xstate';
import { transitionKey } from './walk.js';

type StateNode = AnyStateMachine['root'];

/** Coverage of one machine. */
export interface MachineCoverage {
  readonly machine: string;
  readonly states: { readonly covered: readonly string[]; readonly uncovered: readonly string[] };
  readonly transitions: { readonly covered: readonly string[]; readonly uncovered: readonly string[] };
}

/** Coverage of every machine the walk ran (the root first, then the machines it spawned or invoked). */
export interface Coverage {
  readonly machines: readonly MachineCoverage[];
}

function allNodes(node: StateNode): StateNode[] {
  return [node, ...Object.values(node.states).flatMap((child) => allNodes(child))];
}

/** Every state node id and transition key of `machine`, in document order. */
export function machineUniverse(machine: AnyStateMachine): { states: string[]; transitions: string[] } {
  const nodes = allNodes(machine.root);
  const transitions = nodes.flatMap((node) => [
    ...[...node.transitions.values()].flat().map((transition) => transitionKey(transition as never)),
    ...(node.always ?? []).map((transition) => transitionKey(transition as never)),
  ]);
  return { states: nodes.map((node) => node.id), transitions };
}

export function computeCoverage(machines: readonly AnyStateMachine[], states: ReadonlySet<string>, transitions: ReadonlySet<string>): Coverage {
  return {
    machines: machines.map((machine) => {
      const universe = machineUniverse(machine);
      return {
        machine: machine.id,
        states: { covered: universe.states.filter((id) => states.has(id)), uncovered: universe.states.filter((id) => !states.has(id)) },
        transitions: {
          covered: universe.transitions.filter((key) => transitions.has(key)),
          uncovered: universe.transitions.filter((key) => !transitions.has(key)),
        },
      };
    }),
  };
}

function percent(covered: number, total: number): string {
  return total === 0 ? '100.0%' : `${((100 * covered) / total).toFixed(1)}%`;
}

/**
 * Coverage as a printable table: one summary row per machine, then every uncovered state and
 * transition by name.
 */
export function formatCoverage(coverage: Coverage): string {
  const rows = [['machine', 'states', '', 'transitions', '']];
  for (const m of coverage.machines) {
    const states = m.states.covered.length + m.states.uncovered.length;
    const transitions = m.transitions.covered.length + m.transitions.uncovered.length;
    rows.push([
      m.machine,
      `${m.states.covered.length}/${states}`,
      percent(m.states.covered.length, states),
      `${m.transitions.covered.length}/${transitions}`,
      percent(m.transitions.covered.length, transitions),
    ]);
  }
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const lines = rows.map((row) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  '));
  lines.splice(1, 0, widths.map((width) => '-'.repeat(width)).join('  '));
  for (const m of coverage.machines) {
    for (const state of m.states.uncovered) lines.push(`  uncovered state       ${state}`);
    for (const transition of m.transitions.uncovered) lines.push(`  uncovered transition  ${transition}`);
  }
  return lines.join('\n');
}

/**
 * Throws, with the table, unless every state and transition of `machine` (default: every machine)
 * was covered; `except` names transitions or states (as the table prints them) left out on purpose.
 */
export function assertFullCoverage(coverage: Coverage, options: { machine?: string; except?: readonly string[] } = {}): void {
  const except = new Set(options.except ?? []);
  const missing: string[] = [];
  for (const m of coverage.machines) {
    if (options.machine !== undefined && m.machine !== options.machine) continue;
    missing.push(...m.states.uncovered.filter((id) => !except.has(id)), ...m.transitions.uncovered.filter((key) => !except.has(key)));
  }
  const unknown = [...except].filter(
    (name) => !coverage.machines.some((m) => [...m.states.covered, ...m.states.uncovered, ...m.transitions.covered, ...m.transitions.uncovered].includes(name)),
  );
  if (unknown.length > 0) throw new Error(`assertFullCoverage: except names nothing in the machines: ${unknown.join('; ')}`);
  // An exclusion that got covered is stale: say so, so the list stays honest.
  const stale = [...except].filter((name) => coverage.machines.some((m) => m.states.covered.includes(name) || m.transitions.covered.includes(name)));
  if (stale.length > 0) throw new Error(`assertFullCoverage: except names what was covered after all: ${stale.join('; ')}`);
  if (missing.length > 0) throw new Error(`coverage is not 100%: ${missing.length} not covered\n${formatCoverage(coverage)}`);
}

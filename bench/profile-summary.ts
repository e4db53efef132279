// Summarises a V8 CPU profile (.cpuprofile, from `npm run bench -- --only=accept --cpu-prof`):
// the busy time (idle excluded), the functions with the most self time, the functions with the most
// inclusive time (each counted once per sample however deep it recurses), and self time by where
// the code lives (this library, xstate, Node's own JavaScript, native/GC).
//   node dist-bench/bench/profile-summary.js bench/profiles/ours-*.cpuprofile [--top=25] [--connections=N]
// (--connections: how many the profiled server served, which the bench prints under --cpu-prof;
// --within=regex: the frame tables count only samples with a matching frame, e.g. '^accept actors')
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Where a frame's code lives, for the by-area shares. */
export function area(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(idle)' || functionName === '(program)' || functionName === '(root)') return functionName;
    return 'native (V8 builtins, C++)';
  }
  if (url.startsWith('node:')) return 'Node (node:*)';
  if (url.includes('/node_modules/xstate/')) return 'xstate';
  if (url.includes('/node_modules/')) return 'other packages';
  const match = /\/(src|actors|machines|bench)\/(.*)$/.exec(url);
  return match ? `library ${match[1]}/` : url;
}

function frameKey(frame: CallFrame): string {
  const match = /\/((?:src|actors|machines|bench|node_modules\/xstate)\/.*)$/.exec(frame.url);
  const where = match ? match[1] : frame.url.replace(/^file:\/\//, '');
  return `${frame.functionName || '(anonymous)'} ${where}${where ? `:${frame.lineNumber + 1}` : ''}`;
}

const startupPhase = 'module loading, startup';

/** A phase: its name and a pattern for any one frame key on the stack, or a test of the whole stack. */
export type PhaseRule = readonly [string, RegExp | ((stack: readonly string[]) => boolean)];

/** A frame of this library's code (frame keys name src/, actors/ or machines/ files). */
const libraryFrame = (key: string): boolean => / (src|actors|machines)\//.test(key);

/**
 * Phases of the accept workload (connect, 1-byte echo, reset): a sample counts in the first phase
 * that matches its stack, so the shares add up to 100%.
 */
export const acceptPhases: readonly PhaseRule[] = [
  ['GC', /^\(garbage collector\)/],
  ['write syscall (raw pays it too)', /^writeBuffer /],
  [startupPhase, /compileForInternalLoader|module_job|esm\/loader|cjs\/loader|run_main_module/],
  ['close: socket closed to actor stopped (library)', /^(onPlainClose|onClosed) actors\/socketBinding/],
  // The library's part of a new connection: anything of ours under node:net's onconnection.
  ['accept: CSA actor, handler, links (library)', (stack) => stack.some((key) => key.startsWith('onconnection node:net')) && stack.some(libraryFrame)],
  ['data: read to handler to write (library)', /^(pump|onReadiness) actors\/socketBinding/],
  ['ECONNRESET error objects', /^(ErrnoException|emitErrorNT|errnoException) /],
  ['Node: new socket (raw pays it too)', /^onconnection node:net/],
  ['Node: socket close (raw pays it too)', /^(\(anonymous\) node:net:341|close |Socket\._destroy|destroy )/],
  ['Node: read and echo (raw)', /^(onStreamRead|emitReadable_|Readable\.push|pipeOnData|ondata) /],
];

export interface ProfileSummary {
  readonly busyMicros: number;
  /** Busy time by the first of `phases` on each sample's stack ('other' if none). */
  readonly phases: ReadonlyMap<string, number>;
  readonly self: ReadonlyMap<string, number>;
  readonly inclusive: ReadonlyMap<string, number>;
  readonly areas: ReadonlyMap<string, number>;
}

export function summarise(profile: Profile, phaseRules: readonly PhaseRule[] = acceptPhases, within?: RegExp): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const areas = new Map<string, number>();
  const phases = new Map<string, number>();
  const add = (map: Map<string, number>, key: string, micros: number): void => void map.set(key, (map.get(key) ?? 0) + micros);
  let busyMicros = 0;
  profile.samples.forEach((id, index) => {
    // timeDeltas[i] is the time before sample i; it is the best estimate of the sample's weight.
    const micros = profile.timeDeltas[index] ?? 0;
    const node = byId.get(id);
    if (!node || node.callFrame.functionName === '(idle)') return;
    busyMicros += micros;
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame;
      if (frame.functionName !== '(root)') seen.add(frameKey(frame));
    }
    const stack = [...seen];
    if (within && !stack.some((key) => within.test(key))) return;
    add(self, frameKey(node.callFrame), micros);
    add(areas, area(node.callFrame), micros);
    for (const key of stack) add(inclusive, key, micros);
    const phase = phaseRules.find(([, rule]) => (rule instanceof RegExp ? stack.some((key) => rule.test(key)) : rule(stack)));
    add(phases, phase?.[0] ?? 'other', micros);
  });
  return { busyMicros, phases, self, inclusive, areas };
}

/** Shares of `total`, and µs per operation when the operation count is known. */
function top(map: ReadonlyMap<string, number>, total: number, count: number, operations?: number): string {
  return [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([key, micros]) => `${((100 * micros) / total).toFixed(1).padStart(5)}%  ${operations ? `${(micros / operations).toFixed(1).padStart(6)} µs  ` : ''}${key}`)
    .join('\n');
}

if (process.argv[1]?.includes('profile-summary')) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' }, connections: { type: 'string' }, within: { type: 'string' } } });
  if (positionals.length === 0) {
    console.error('usage: profile-summary <file.cpuprofile> [--top=25]');
    process.exit(2);
  }
  const count = Number(values.top);
  const connections = values.connections === undefined ? undefined : Number(values.connections);
  for (const file of positionals) {
    const within = values.within === undefined ? undefined : new RegExp(values.within);
    const summary = summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile, acceptPhases, within);
    if (within) console.log(`(self, inclusive and area tables: only samples with a frame matching /${values.within}/ on the stack)`);
    const total = summary.busyMicros;
    // Sample weights are wall time: on a loaded machine a descheduled process's time lands on
    // whatever it was running, so µs from a profile are above the bench's CPU figures; prefer shares.
    const perConnection = connections ? `, ${(total / connections).toFixed(1)} µs (wall) per connection over ${connections}` : '';
    console.log(`${file}: busy ${(total / 1e6).toFixed(2)} s (idle excluded)${perConnection}; shares of busy time\n`);
    // Startup happens before any workload: the phases are shares of the rest.
    const startup = summary.phases.get(startupPhase) ?? 0;
    const working = new Map([...summary.phases].filter(([phase]) => phase !== startupPhase));
    console.log(`accept phases (first match on the stack; shares of busy time after startup, ${((100 * startup) / total).toFixed(1)}% startup left out):`);
    console.log(`${top(working, total - startup, 20, connections)}\n`);
    console.log(`by area (self time):\n${top(summary.areas, total, 20)}\n`);
    console.log(`self time:\n${top(summary.self, total, count)}\n`);
    console.log(`inclusive time:\n${top(summary.inclusive, total, count)}\n`);
  }
}

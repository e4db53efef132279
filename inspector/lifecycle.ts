// Turns XState inspection events into inspector records: which components exist, which actors are
// connections (their machine is in a lifecycle state: connecting, connected, ...), each connection's
// states over time, its bytes and why it ended, and a capped log of events.
//
// `observe` runs synchronously inside every transition of the inspected system, so it only notes
// what it must see at that moment (a state value, a payload size) and leaves names, paths and
// JSON to `drain`, which the server calls off the hot path.
import type { ActorRefLike, AnyActorRef, AnyEventObject, InspectionEvent, Snapshot } from 'xstate';
import { componentInfo, componentPath } from '../src/kernel/registry.js';
import { linksFrom } from '../src/kernel/routing.js';
import { parentOf } from '../src/kernel/childActors.js';
import { machineDefinitionOf } from './machineDefinition.js';
import { messageKind, payloadHead, payloadSize, toReason } from './payload.js';
import {
  LIFECYCLE_STATES,
  TERMINAL_STATES,
  type ActorRecord,
  type EndRecord,
  type InspectorRecord,
  type LogRecord,
  type LifecycleState,
  type ReasonRecord,
} from './records.js';

/** Options of {@link LifecycleTracker}. */
export interface LifecycleTrackerOptions {
  /** Leading payload bytes to put in log records (hex); 0 sends sizes only. @defaultValue 0 */
  readonly showPayloadBytes?: number;
  /** Sends context values in machine definitions; by default keys and types only. @defaultValue false */
  readonly showContext?: boolean;
  /** Log records kept per drain; more are counted in a `dropped` record. @defaultValue 500 */
  readonly logLimit?: number;
  /** Clock for record timestamps (ms since the epoch). @defaultValue Date.now */
  readonly now?: () => number;
}

const LIFECYCLE: ReadonlySet<string> = new Set(LIFECYCLE_STATES);
/** Snapshots of a connection in which its addresses are looked for (a client's socket adapter joins later: it counts anew). */
const ADDRESS_TRIES = 6;
const CLIENT_OPENING: ReadonlySet<string> = new Set(['delaying', 'connecting']);

interface Lane {
  readonly id: string;
  state: LifecycleState | undefined;
  terminal: boolean;
  /** Actors whose lifecycle feeds this lane, oldest first; the last one still running drives it. */
  readonly feeders: string[];
  /** Byte totals each feeder keeps in its context (bytesIn/bytesOut), by session id. */
  readonly contextBytes: Map<string, { in: number; out: number }>;
  /** Bytes delivered to feeders' `inbox` (to be written), for machines that keep no totals. */
  inboxBytes: number;
  bytesDirty: boolean;
  /** When the byte totals last changed: the time their record carries. */
  bytesAt: number;
  peer: string | undefined;
  local: string | undefined;
  tls: string | undefined;
  /** Snapshots in which the addresses were looked for: a socket's getters make system calls, so a few tries only. */
  addressTries: number;
}

interface ActorEntry {
  readonly ref: ActorRefLike;
  lane: Lane | undefined;
  /** The last state value a step record was made for. */
  value: unknown;
}

/** Both ends of a connection, as far as known. */
interface Addresses {
  readonly peer: string | undefined;
  readonly local: string | undefined;
}

/** Work noted by `observe` whose record is built in `drain`. */
type Pending =
  | InspectorRecord
  | { readonly k: 'actor?'; readonly t: number; readonly ref: ActorRefLike }
  | { readonly k: 'lane?'; readonly t: number; readonly ref: ActorRefLike; readonly lane: string; readonly side: 'client' | 'server' }
  ;

type MachineLikeSnapshot = Snapshot<unknown> & { value?: unknown; context?: unknown };

/**
 * The lifecycle state named by a machine's state value: the value itself, or the outermost
 * lifecycle name in a compound value (`{ open: 'connected' }` is `connected`).
 */
export function lifecycleStateOf(value: unknown, depth = 0): LifecycleState | undefined {
  if (typeof value === 'string') return LIFECYCLE.has(value) ? (value as LifecycleState) : undefined;
  if (value === null || typeof value !== 'object' || depth > 8) return undefined;
  for (const key in value) if (LIFECYCLE.has(key)) return key as LifecycleState;
  for (const key in value) {
    const inner = lifecycleStateOf((value as Record<string, unknown>)[key], depth + 1);
    if (inner !== undefined) return inner;
  }
  return undefined;
}

/**
 * The peer named in a machine's context (`host`/`port`, `peer`/`peerPort`, `remoteAddress`/
 * `remotePort`), else both ends of a socket it holds in a field (directly or in an Opaque's
 * `value`, as a socket adapter's `binding` does).
 */
function addressesOf(context: unknown): Addresses | undefined {
  if (context === null || typeof context !== 'object') return undefined;
  const peer = peerOf(context as Record<string, unknown>);
  const socket = socketIn(context as Record<string, unknown>);
  const local = socket && typeof socket.localAddress === 'string' ? hostPort(socket.localAddress, socket.localPort) : undefined;
  const socketPeer = socket && typeof socket.remoteAddress === 'string' ? hostPort(socket.remoteAddress, socket.remotePort) : undefined;
  if (peer === undefined && socketPeer === undefined && local === undefined) return undefined;
  return { peer: peer ?? socketPeer, local };
}

interface SocketLike {
  readonly remoteAddress?: unknown;
  readonly remotePort?: unknown;
  readonly localAddress?: unknown;
  readonly localPort?: unknown;
}

function socketIn(context: Record<string, unknown>): SocketLike | undefined {
  for (const key in context) {
    const field = context[key];
    if (field === null || typeof field !== 'object') continue;
    const inner = (field as { value?: unknown }).value ?? field;
    const socket = (inner as { socket?: unknown }).socket ?? inner;
    if (socket !== null && typeof socket === 'object' && typeof (socket as SocketLike).remoteAddress === 'string') return socket as SocketLike;
  }
  return undefined;
}

function peerOf(c: Record<string, unknown>): string | undefined {
  const pairs: [unknown, unknown][] = [
    [c.peer, c.peerPort],
    [c.remoteAddress, c.remotePort],
    [c.host, c.port],
  ];
  for (const [host, port] of pairs) {
    if (typeof host === 'string' && host !== '') return hostPort(host, port);
  }
  return undefined;
}

function reasonFrom(snapshot: MachineLikeSnapshot, event: AnyEventObject | undefined): ReasonRecord | undefined {
  const context = snapshot.context as Record<string, unknown> | undefined;
  const eventData = (event as { data?: unknown } | undefined)?.data;
  return (
    toReason(context?.reason) ??
    toReason(context?.error) ??
    toReason(snapshot.error) ??
    toReason((event as { error?: unknown } | undefined)?.error) ??
    toReason((eventData as { reason?: unknown } | undefined)?.reason)
  );
}

/** Whether two state values are the same (`'a'`, `{ a: 'b' }`, ...), without building strings: runs on every snapshot. */
function sameValue(a: unknown, b: unknown, depth = 0): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || depth > 16) return false;
  let count = 0;
  for (const key in a) {
    if (!Object.hasOwn(a, key)) continue;
    if (!Object.hasOwn(b, key) || !sameValue((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], depth + 1)) return false;
    count++;
  }
  for (const key in b) if (Object.hasOwn(b, key)) count--;
  return count === 0;
}

/**
 * Turns XState inspection events into inspector records (actors, graphs, steps, connection lanes,
 * byte counts): pass `tracker.observe` as `inspect`, and `drain()` the records. createInspector uses one.
 */
export class LifecycleTracker {
  private readonly showPayloadBytes: number;
  private readonly showContext: boolean;
  private readonly logLimit: number;
  private readonly now: () => number;
  private readonly actors = new Map<string, ActorEntry>();
  private readonly lanes = new Map<string, Lane>();
  private pending: Pending[] = [];
  /** Machine definitions already sent, by logic. */
  private readonly machines = new WeakMap<object, string>();
  private machineCount = 0;
  /** Run-time links already sent, one per kind of link under a parent (a server's thousands of connections share one). */
  private readonly wiresSent = new Set<string>();
  private logCount = 0;
  private dropped = 0;

  constructor(options: LifecycleTrackerOptions = {}) {
    this.showPayloadBytes = Math.max(0, Math.floor(options.showPayloadBytes ?? 0));
    this.showContext = options.showContext === true;
    this.logLimit = options.logLimit ?? 500;
    this.now = options.now ?? Date.now;
  }

  /** The inspection observer: pass it (bound) to createActor / run as `inspect`. */
  readonly observe = (event: InspectionEvent): void => {
    switch (event.type) {
      case '@xstate.actor':
        this.noteActor(event.actorRef);
        return;
      case '@xstate.event':
        this.noteEvent(event.actorRef, event.sourceRef, event.event);
        return;
      case '@xstate.snapshot':
        this.noteSnapshot(event.actorRef, event.snapshot as MachineLikeSnapshot, event.event);
        return;
      default:
        return; // microsteps and actions say nothing about lifecycles
    }
  };

  /** Notes every actor already running under `root`, and its current state (for an inspector attached late). */
  noteExisting(root: AnyActorRef): void {
    this.noteActor(root);
    this.noteSnapshot(root, root.getSnapshot() as MachineLikeSnapshot, { type: 'inspector.attached' });
    const snapshot = root.getSnapshot() as { children?: Record<string, AnyActorRef | undefined> };
    for (const child of Object.values(snapshot.children ?? {})) if (child) this.noteExisting(child);
  }

  /** Connections currently known and not yet closed. */
  get openLanes(): number {
    let open = 0;
    for (const lane of this.lanes.values()) if (!lane.terminal) open++;
    return open;
  }

  /** The records noted since the last drain, in the order things happened. */
  drain(): InspectorRecord[] {
    const pending = this.pending;
    this.pending = [];
    const records: InspectorRecord[] = [];
    for (const item of pending) {
      switch (item.k) {
        case 'actor?':
          this.pushActor(records, item.t, item.ref);
          break;
        case 'lane?':
          records.push({ k: 'lane', t: item.t, lane: item.lane, side: item.side, path: pathOf(item.ref) });
          break;
        default:
          records.push(item);
      }
    }
    const t = this.now();
    for (const lane of this.lanes.values()) {
      if (lane.bytesDirty) {
        lane.bytesDirty = false;
        records.push({ k: 'bytes', t: lane.bytesAt, lane: lane.id, ...laneBytes(lane) });
      }
      // A closed lane keeps no further state; its last bytes were just sent.
      if (lane.terminal) this.lanes.delete(lane.id);
    }
    if (this.dropped > 0) records.push({ k: 'dropped', t, count: this.dropped });
    this.logCount = 0;
    this.dropped = 0;
    return records;
  }

  private entryOf(ref: ActorRefLike): ActorEntry {
    let entry = this.actors.get(ref.sessionId);
    if (!entry) this.actors.set(ref.sessionId, (entry = { ref, lane: undefined, value: undefined }));
    return entry;
  }

  private noteActor(ref: ActorRefLike): void {
    this.entryOf(ref);
    this.pending.push({ k: 'actor?', t: this.now(), ref });
  }

  private noteEvent(ref: ActorRefLike, source: ActorRefLike | undefined, event: AnyEventObject): void {
    const type = event.type;
    if (source && type.startsWith('xstate.error.actor.')) {
      // A machine that throws reports no snapshot; its parent is told, with the failed child as source.
      this.noteEnd(source, 'error', toReason((event as { error?: unknown }).error));
    }
    const data = (event as { data?: unknown }).data;
    // A finished TLS handshake says its protocol (a socket adapter's socket.secure, an sslReady message).
    const protocol = (event as { protocol?: unknown }).protocol ?? (data as { protocol?: unknown } | null | undefined)?.protocol;
    if (typeof protocol === 'string') this.noteTls(ref, protocol);
    if (type === 'inbox') {
      const lane = this.actors.get(ref.sessionId)?.lane;
      if (lane && !lane.terminal) {
        const size = payloadSize((event as { data?: unknown }).data);
        if (size !== undefined) {
          lane.inboxBytes += size;
          this.bytesChanged(lane);
        }
      }
    }
    if (this.logCount >= this.logLimit) {
      this.dropped++;
      return;
    }
    this.logCount++;
    // Hex is taken now: a sender may reuse its buffer once the event is delivered.
    const head = this.showPayloadBytes > 0 ? payloadHead((event as { data?: unknown }).data, this.showPayloadBytes) : undefined;
    this.pending.push(logRecord(this.now(), ref, source, event, head));
  }

  private noteSnapshot(ref: ActorRefLike, snapshot: MachineLikeSnapshot, event: AnyEventObject): void {
    const state = lifecycleStateOf(snapshot.value);
    let entry = this.actors.get(ref.sessionId);
    if (entry && snapshot.value !== undefined) this.noteValue(entry, snapshot.value, event);
    const hadLane = entry?.lane !== undefined;
    // A new lane first, so its opening bytes and peer count; an existing one's bytes before a
    // terminal state closes it.
    if (state !== undefined && !hadLane) {
      entry ??= this.entryOf(ref);
      this.noteState(entry, state, snapshot, event);
    }
    if (entry?.lane && !entry.lane.terminal) this.noteContext(entry.lane, ref.sessionId, snapshot.context);
    if (state !== undefined && hadLane && entry) this.noteState(entry, state, snapshot, event);
    if (snapshot.status !== 'active' && entry) {
      this.noteEnd(ref, snapshot.status, snapshot.status === 'error' ? toReason(snapshot.error) : undefined);
    }
  }

  /** A step record when a machine's state value is not the one last sent. */
  private noteValue(entry: ActorEntry, value: unknown, event: AnyEventObject): void {
    if (value === entry.value) return;
    const same = sameValue(value, entry.value);
    entry.value = value;
    if (same) return;
    // The record itself (no intermediate): a busy machine makes one per transition.
    this.pending.push({ k: 'step', t: this.now(), id: entry.ref.sessionId, value, event: event.type });
  }

  private noteTls(ref: ActorRefLike, protocol: string): void {
    const lane = this.actors.get(ref.sessionId)?.lane;
    if (lane && !lane.terminal && lane.tls !== protocol) {
      lane.tls = protocol;
      this.pending.push({ k: 'tls', t: this.now(), lane: lane.id, protocol });
    }
  }

  /** A peer record when the lane learns its peer or, later, our end of it. */
  private notePeer(lane: Lane, addresses: Addresses): void {
    if (lane.terminal) return;
    const peer = lane.peer ?? addresses.peer;
    const local = lane.local ?? addresses.local;
    if (peer === undefined || (peer === lane.peer && local === lane.local)) return;
    lane.peer = peer;
    lane.local = local;
    this.pending.push(local ? { k: 'peer', t: this.now(), lane: lane.id, peer, local } : { k: 'peer', t: this.now(), lane: lane.id, peer });
  }

  private noteContext(lane: Lane, sessionId: string, context: unknown): void {
    if (context === null || typeof context !== 'object') return;
    // Runs on every snapshot of a connection: read the totals without building anything.
    const { bytesIn, bytesOut } = context as { bytesIn?: unknown; bytesOut?: unknown };
    if (typeof bytesIn === 'number' || typeof bytesOut === 'number') {
      const nextIn = typeof bytesIn === 'number' ? bytesIn : 0;
      const nextOut = typeof bytesOut === 'number' ? bytesOut : 0;
      const before = lane.contextBytes.get(sessionId);
      if (!before) {
        lane.contextBytes.set(sessionId, { in: nextIn, out: nextOut });
        this.bytesChanged(lane);
      } else if (before.in !== nextIn || before.out !== nextOut) {
        before.in = nextIn;
        before.out = nextOut;
        this.bytesChanged(lane);
      }
    }
    if ((lane.peer === undefined || lane.local === undefined) && lane.addressTries++ < ADDRESS_TRIES) {
      const addresses = addressesOf(context);
      if (addresses !== undefined) this.notePeer(lane, addresses);
    }
  }

  private noteState(entry: ActorEntry, state: LifecycleState, snapshot: MachineLikeSnapshot, event: AnyEventObject): void {
    const id = entry.ref.sessionId;
    let lane = entry.lane;
    if (!lane) {
      if (TERMINAL_STATES.has(state)) return; // e.g. a listener's `closed`: it never was a connection
      lane = this.ancestorLane(entry.ref);
      if (lane) {
        lane.feeders.push(id);
        lane.addressTries = 0;
        this.pending.push({ k: 'join', t: this.now(), lane: lane.id, id });
      } else {
        lane = { id, state: undefined, terminal: false, feeders: [id], contextBytes: new Map(), inboxBytes: 0, bytesDirty: false, bytesAt: 0, peer: undefined, local: undefined, tls: undefined, addressTries: 0 };
        this.lanes.set(id, lane);
        this.pending.push({ k: 'lane?', t: this.now(), ref: entry.ref, lane: id, side: CLIENT_OPENING.has(state) ? 'client' : 'server' });
      }
      entry.lane = lane;
    }
    if (lane.terminal || lane.state === state) return;
    const terminal = TERMINAL_STATES.has(state);
    // The newest running feeder (a client's socket adapter, once connected) drives the lane; any
    // feeder may end it.
    if (!terminal && lane.feeders[lane.feeders.length - 1] !== id) return;
    this.setState(lane, state, terminal ? reasonFrom(snapshot, event) : undefined);
  }

  private bytesChanged(lane: Lane): void {
    lane.bytesDirty = true;
    lane.bytesAt = this.now();
  }

  private setState(lane: Lane, state: LifecycleState, reason: ReasonRecord | undefined): void {
    lane.state = state;
    lane.terminal = TERMINAL_STATES.has(state);
    this.pending.push(reason ? { k: 'state', t: this.now(), lane: lane.id, state, reason } : { k: 'state', t: this.now(), lane: lane.id, state });
  }

  private ancestorLane(ref: ActorRefLike): Lane | undefined {
    for (let parent = parentOf(ref as AnyActorRef); parent; parent = parentOf(parent)) {
      const lane = this.actors.get(parent.sessionId)?.lane;
      if (lane && !lane.terminal) return lane;
    }
    return undefined;
  }

  private noteEnd(ref: ActorRefLike, status: EndRecord['status'], reason: ReasonRecord | undefined): void {
    const entry = this.actors.get(ref.sessionId);
    if (!entry) return;
    this.actors.delete(ref.sessionId);
    this.pending.push(reason ? { k: 'end', t: this.now(), id: ref.sessionId, status, reason } : { k: 'end', t: this.now(), id: ref.sessionId, status });
    const lane = entry.lane;
    if (!lane || lane.terminal) return;
    const index = lane.feeders.indexOf(ref.sessionId);
    if (index >= 0) lane.feeders.splice(index, 1);
    if (lane.feeders.length > 0) return;
    // The last actor of a connection ended without saying closed: it failed or was stopped.
    if (status === 'error') this.setState(lane, 'failed', reason ?? { message: 'the connection actor failed' });
    else this.setState(lane, 'closed', status === 'stopped' ? { code: 'stopped', message: 'stopped before it closed' } : undefined);
  }

  /** The actor's record, after its machine's definition the first time that machine is seen, and before its run-time links. */
  private pushActor(records: InspectorRecord[], t: number, ref: ActorRefLike): void {
    const actorRef = ref as AnyActorRef;
    const logic = (actorRef as { logic?: unknown }).logic;
    let machine: string | undefined;
    if (typeof logic === 'object' && logic !== null) {
      machine = this.machines.get(logic);
      if (machine === undefined) {
        const definition = machineDefinitionOf(logic, this.showContext);
        if (definition !== undefined) {
          machine = `m${++this.machineCount}`;
          this.machines.set(logic, machine);
          records.push({ k: 'machine', t, machine, definition });
        }
      }
    }
    const record = this.actorRecord(t, actorRef);
    records.push(machine ? { ...record, machine } : record);
    if (record.component !== null) this.pushWires(records, t, actorRef);
  }

  /** Links made at run time between components (a server's socket adapter and its handler), once per kind. */
  private pushWires(records: InspectorRecord[], t: number, ref: AnyActorRef): void {
    const from = componentInfo(ref);
    if (!from) return;
    for (const link of linksFrom(ref)) {
      const to = componentInfo(link.target);
      // A graph's links to and between its declared children are in its graph record already.
      if (!to || to.parent === ref || from.parent === link.target || (from.parent === to.parent && isDeclared(from) && isDeclared(to))) continue;
      const key = `${from.parent?.sessionId}|${from.component.name}.${link.outbox}|${to.parent?.sessionId}|${to.component.name}.${link.inbox}`;
      if (this.wiresSent.has(key)) continue;
      this.wiresSent.add(key);
      records.push({ k: 'wire', t, from: ref.sessionId, outbox: link.outbox, to: link.target.sessionId, inbox: link.inbox });
    }
  }

  private actorRecord(t: number, actorRef: AnyActorRef): ActorRecord {
    const ref = actorRef;
    const parent = parentOf(actorRef)?.sessionId ?? null;
    const info = componentInfo(actorRef);
    if (!info) return { k: 'actor', t, id: ref.sessionId, parent, path: pathOf(ref), name: parent === null ? rootName(actorRef) : actorRef.id, component: null };
    const { component } = info;
    const graph = component.graph
      ? {
          children: component.graph.children.map((child) => ({ name: child.name, component: child.component.name })),
          links: component.graph.links.map((link) => ({ from: { ...link.from }, to: { ...link.to } })),
        }
      : undefined;
    return {
      k: 'actor',
      t,
      id: ref.sessionId,
      parent,
      path: pathOf(ref),
      name: info.name,
      component: component.name,
      ...boxesOf(component),
      ...(graph ? { graph } : {}),
    };
  }


}

/** A log record, built at once from what the event holds (sizes and kinds only; sessions ids are strings). */
function logRecord(t: number, ref: ActorRefLike, source: ActorRefLike | undefined, event: AnyEventObject, head: string | undefined): LogRecord {
  const data = (event as { data?: unknown }).data;
  const size = payloadSize(data);
  const kind = messageKind(data);
  const record: { -readonly [K in keyof LogRecord]: LogRecord[K] } = { k: 'log', t, id: ref.sessionId, type: event.type };
  if (source) record.from = source.sessionId;
  if (size !== undefined) record.size = size;
  if (head !== undefined) record.head = head;
  if (kind !== undefined) record.kind = kind;
  return record;
}

/** Component boxes as records carry them: one frozen copy per component definition, not one per actor. */
const boxLists = new WeakMap<object, { inboxes: readonly string[]; outboxes: readonly string[] }>();
function boxesOf(component: { readonly inboxes: Iterable<string>; readonly outboxes: Iterable<string> }): { inboxes: readonly string[]; outboxes: readonly string[] } {
  let lists = boxLists.get(component);
  if (!lists) boxLists.set(component, (lists = { inboxes: Object.freeze([...component.inboxes]), outboxes: Object.freeze([...component.outboxes]) }));
  return lists;
}

/** Whether a component is one its graph declares (not one spawned at run time, like a connection's handler). */
function isDeclared(info: NonNullable<ReturnType<typeof componentInfo>>): boolean {
  const graph = info.parent ? componentInfo(info.parent)?.component.graph : undefined;
  if (!graph) return false;
  const colon = info.name.indexOf(':');
  return graph.children[Number(info.name.slice(0, colon))]?.name === info.name.slice(colon + 1);
}

/** A component's path, or for an internal actor its parent's path and its own id. */
function pathOf(ref: ActorRefLike): string {
  const actorRef = ref as AnyActorRef;
  if (componentInfo(actorRef)) return componentPath(actorRef);
  const parent = parentOf(actorRef);
  return parent ? `${pathOf(parent)}/${actorRef.id}` : rootName(actorRef);
}

/**
 * A plain root actor's name: the id it was given (`createActor(logic, { id })`), else its machine's
 * id (`door`), else its session id.
 */
function rootName(ref: AnyActorRef): string {
  if (ref.id !== ref.sessionId) return ref.id;
  const id = (ref as { logic?: { id?: unknown } }).logic?.id;
  return typeof id === 'string' && id !== '' ? id : ref.id;
}

function hostPort(host: string, port: unknown): string {
  if (typeof port !== 'number' && typeof port !== 'string') return host;
  return `${host.includes(':') ? `[${host}]` : host}:${String(port)}`;
}

function laneBytes(lane: Lane): { in: number; out: number } {
  if (lane.contextBytes.size === 0) return { in: 0, out: lane.inboxBytes };
  // A client and its socket adapter may both keep totals of the same bytes: take the largest.
  let bytesIn = 0;
  let bytesOut = 0;
  for (const bytes of lane.contextBytes.values()) {
    bytesIn = Math.max(bytesIn, bytes.in);
    bytesOut = Math.max(bytesOut, bytes.out);
  }
  return { in: bytesIn, out: bytesOut };
}

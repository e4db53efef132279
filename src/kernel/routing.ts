// The post office: how a message on one component's outbox reaches another's inbox, and how a
// consumer tells its producers to hold back. As in Axon, a message goes straight to its final inbox:
// the emitting actor's listener walks the graphs' passthrough records (a few array entries) at
// delivery time, so passthroughs can be added later (TCPClient does once its CSA exists). The graph
// supervisor decides routes but is not on the hot path.
import type { AnyActorRef } from 'xstate';
import type { ComponentRef } from './componentRef.js';
import { findRecord, recordOf, type ActorRecord, type Receiver } from './actorRecord.js';
import { emitFrom } from './xstateInternals.js';

declare module './actorRecord.js' {
  interface ActorRecord {
    /** The one way a message skips the actor's XState mailbox (routing.ts). */
    receiver?: Receiver;
    /** Its own inboxes that pass straight through to a child's (routing.ts). */
    passthroughs?: readonly Passthrough[];
    /** Where its outboxes lead, by box (routing.ts). */
    routes?: PerBox<OutboxRoute>;
    /** Its inboxes' flow-control gates, by box (routing.ts). */
    gates?: PerBox<InboxGate>;
    /** Bumped whenever its links or passthroughs change: a cached gate list that went through it is stale. */
    linkVersion?: number;
  }
}

export type { Receiver };

/** Where a graph's own inbox passes straight through to: a record, not a closure (one per connection box). */
interface Passthrough {
  /** The graph's own inbox. */
  readonly from: string;
  readonly ref: ComponentRef;
  readonly box: string;
}

/**
 * A component's entries by box name: the entry itself, or an array of them once a second box has
 * one. A component has a few boxes, so a scan is as quick as a lookup, and a Map is ~240 bytes
 * where a two-entry array is ~32 (every connection has several).
 */
type PerBox<T extends { readonly box: string }> = T | T[];

function lookup<T extends { readonly box: string }>(entry: PerBox<T> | undefined, box: string): T | undefined {
  if (entry === undefined) return undefined;
  if (!Array.isArray(entry)) return entry.box === box ? entry : undefined;
  for (const item of entry) if (item.box === box) return item;
  return undefined;
}

/** Adds `item` for its box to `entry`; the caller has checked that the box has no entry yet. */
function insert<T extends { readonly box: string }>(entry: PerBox<T> | undefined, item: T): PerBox<T> {
  if (entry === undefined) return item;
  if (Array.isArray(entry)) {
    entry.push(item);
    return entry;
  }
  return [entry, item];
}

function routeOf(ref: ComponentRef, outbox: string): OutboxRoute | undefined {
  const record = findRecord(ref);
  return record && lookup(record.routes, outbox);
}

/** Links or passthroughs of `record` changed: gate lists cached through it are stale. */
function changed(record: ActorRecord): void {
  record.linkVersion = (record.linkVersion ?? 0) + 1;
}

/**
 * An outbox's destinations and, cached, the gates of the final inboxes they lead to: a producer
 * asks canSend for every chunk, and the answer's shape changes only when links do.
 */
interface OutboxRoute {
  /** The outbox. */
  readonly box: string;
  readonly destinations: Destination[];
  /** Every consumer it fed has ended (closeLinksInto): nothing will take more, canSend is false for good. */
  closed: boolean;
  gates: InboxGate[] | undefined;
  /**
   * The records the cached gate list went through, each followed by its linkVersion then (one flat
   * array, not two: an array is ~50 B a connection): stale if any changed.
   */
  gatesTrail: (ActorRecord | number)[] | undefined;
}

/** A final inbox, or a graph's own outbox (whose destinations are looked up in turn). */
export type Destination =
  | { readonly ref: ComponentRef; readonly box: string; readonly outward: false }
  | { readonly ref: AnyActorRef; readonly box: string; readonly outward: true };

/** The receiver that takes `ref`'s messages at once, if it has one. */
export function receiverOf(ref: ComponentRef): Receiver | undefined {
  return findRecord(ref)?.receiver;
}

/** Makes `receiver` take `ref`'s inbox messages it accepts; undefined removes it. */
export function setReceiver(ref: ComponentRef, receiver: Receiver | undefined): void {
  recordOf(ref).receiver = receiver;
}

/**
 * Puts `message` into `box` of `ref` now, through any passthrough `ref` has for that box when the
 * message is sent (a component may add one later, as TCPClient does once its CSA exists). The one
 * way a message enters an inbox.
 */
export function deliverToInbox(ref: ComponentRef, box: string, message: unknown): void {
  const record = findRecord(ref);
  const passthroughs = record?.passthroughs;
  if (passthroughs) {
    let found: Passthrough | undefined;
    for (const passthrough of passthroughs) {
      if (passthrough.from !== box) continue;
      if (found) {
        // More than one target for this box: deliver to each, on a copy (a delivery may change them).
        for (const target of passthroughs.filter((p) => p.from === box)) deliverToInbox(target.ref, target.box, message);
        return;
      }
      found = passthrough;
    }
    if (found) {
      deliverToInbox(found.ref, found.box, message);
      return;
    }
  }
  // One way around XState's mailbox: the actor's receiver (a body, a hosted body, a socket binding).
  if (record?.receiver?.receive(box, message)) return;
  ref.send({ type: box, data: message });
}

/**
 * Delivers `message` to everything `source`'s `outbox` is linked to, as if `source` had sent it:
 * what an outbox listener does, and how one speaks for a component that failed (XState has dropped
 * its listeners by then).
 */
export function deliverFromOutbox(source: ComponentRef, outbox: string, message: unknown): void {
  const route = routeOf(source, outbox);
  if (!route) return;
  const destinations = route.destinations;
  // One inbox, the usual case (a connection and its handler): straight there, two frames fewer.
  if (destinations.length === 1 && !destinations[0]!.outward) deliverToInbox(destinations[0]!.ref, destinations[0]!.box, message);
  else deliverToDestinations(destinations, message);
}

function deliverToDestinations(destinations: readonly Destination[], message: unknown): void {
  if (destinations.length === 1) deliverToDestination(destinations[0]!, message);
  else if (destinations.length > 1) for (const destination of [...destinations]) deliverToDestination(destination, message); // a delivery may unlink
}

function deliverToDestination(destination: Destination, message: unknown): void {
  if (destination.outward) emitFrom(destination.ref, { type: destination.box, data: message });
  else deliverToInbox(destination.ref, destination.box, message);
}

/** Makes messages for `graph`'s inbox `box` go straight to `target`'s inbox `targetBox`; `removeInboxPassthroughsTo` undoes it. */
export function addInboxPassthrough(graph: ComponentRef, box: string, target: ComponentRef, targetBox: string): void {
  const passthrough: Passthrough = { from: box, ref: target, box: targetBox };
  const record = recordOf(graph);
  record.passthroughs = [...(record.passthroughs ?? []), passthrough];
  changed(record);
}

/** Removes every passthrough from `graph`'s inboxes to `target`. */
export function removeInboxPassthroughsTo(graph: ComponentRef, target: ComponentRef): void {
  const record = findRecord(graph);
  const list = record?.passthroughs;
  if (!record || !list) return;
  const remaining = list.filter((p) => p.ref !== target);
  record.passthroughs = remaining.length > 0 ? remaining : undefined;
  changed(record);
}

// Links return nothing: per-connection wiring would otherwise pay for an undo closure per link.
// `removeLinksBetween` undoes them.

/** Links `source.outbox` to `target.inbox`. */
export function linkToInbox(source: ComponentRef, outbox: string, target: ComponentRef, inbox: string): void {
  addDestination(source, outbox, { ref: target, box: inbox, outward: false });
}

/** Links a child's outbox to an outbox of its graph: the graph re-emits what the child sends. */
export function linkToOwnOutbox(child: ComponentRef, outbox: string, graph: AnyActorRef, graphOutbox: string): void {
  addDestination(child, outbox, { ref: graph, box: graphOutbox, outward: true });
}

/**
 * Removes the links from `source`'s outboxes to `target` (to its inboxes or, for its child, its
 * outboxes). With `endedOnly`, `target` has ended: only links into its inboxes go, and an outbox
 * left with no link at all is closed for good (canSend false, whenCanSend never wakes), as nothing
 * will take what it sends. Returns the outboxes of `source` closed that way.
 */
function unlink(source: ComponentRef, target: ComponentRef, endedOnly: boolean): string[] {
  const record = findRecord(source);
  const entry = record?.routes;
  if (!record || !entry) return [];
  const closed: string[] = [];
  for (const route of Array.isArray(entry) ? [...entry] : [entry]) {
    const destinations = route.destinations;
    const before = destinations.length;
    for (let i = destinations.length - 1; i >= 0; i--) {
      const destination = destinations[i]!;
      if (destination.ref === target && !(endedOnly && destination.outward)) destinations.splice(i, 1);
    }
    if (endedOnly && destinations.length < before && destinations.length === 0) {
      route.closed = true;
      closed.push(route.box);
    }
  }
  changed(record);
  return closed;
}

/** Removes every link from an outbox of `source` to `target` (to its inboxes or, for its child, its outboxes). */
export function removeLinksBetween(source: ComponentRef, target: ComponentRef): void {
  unlink(source, target, false);
}

/**
 * `target` has ended: the links from `source`'s outboxes into it close. An outbox left with no link
 * at all is closed for good (canSend false, whenCanSend never wakes): nothing will take what it
 * sends. Returns the outboxes of `source` closed that way.
 */
export function closeLinksInto(source: ComponentRef, target: ComponentRef): string[] {
  return unlink(source, target, true);
}

/**
 * Marks a source that delivers along its links itself (deliverFromOutbox) what it sends on some
 * outboxes, so those links need no listener on it: `true` for every outbox, or the list. Set on a
 * prototype or on an actor's logic, it costs an instance nothing; a listener costs ~0.5 KB a
 * connection (XState's listener Map and Set, a bound function, a closure).
 */
export const ROUTES_ITS_OUTBOXES = Symbol('kamaelia.routesItsOutboxes');

type RoutingMark = true | readonly string[] | undefined;

function routesItself(source: ComponentRef, outbox: string): boolean {
  const mark = ((source as { [ROUTES_ITS_OUTBOXES]?: RoutingMark })[ROUTES_ITS_OUTBOXES] ??
    (source as { logic?: { [ROUTES_ITS_OUTBOXES]?: RoutingMark } }).logic?.[ROUTES_ITS_OUTBOXES]) as RoutingMark;
  return mark === true || (mark !== undefined && mark.includes(outbox));
}

function addDestination(source: ComponentRef, outbox: string, destination: Destination): void {
  const record = recordOf(source);
  const route = lookup(record.routes, outbox);
  if (route) {
    route.destinations.push(destination);
    route.closed = false;
  } else {
    // One XState listener per outbox, not per link, and no closure per link.
    const created: OutboxRoute = { box: outbox, destinations: [destination], closed: false, gates: undefined, gatesTrail: undefined };
    record.routes = insert(record.routes, created);
    if (!routesItself(source, outbox)) source.on(outbox, (event: { data?: unknown }) => deliverToDestinations(created.destinations, event.data));
  }
  changed(record);
}

/** The inboxes `source`'s outboxes are linked to now (not its graph's own outboxes): for the inspector. */
export function linksFrom(source: ComponentRef): { readonly outbox: string; readonly target: ComponentRef; readonly inbox: string }[] {
  const entry = findRecord(source)?.routes;
  if (!entry) return [];
  const links: { outbox: string; target: ComponentRef; inbox: string }[] = [];
  for (const route of Array.isArray(entry) ? entry : [entry]) {
    for (const destination of route.destinations) if (!destination.outward) links.push({ outbox: route.box, target: destination.ref, inbox: destination.box });
  }
  return links;
}

export function isOutboxLinked(source: ComponentRef, outbox: string): boolean {
  return (routeOf(source, outbox)?.destinations.length ?? 0) > 0;
}

// ---- flow control -------------------------------------------------------------------------------
// A consumer closes the gate of an inbox when it cannot take more (a socket over its high-water
// mark, a slow sink). Producers ask whether every final inbox their outbox feeds is open and wait
// for it to open. Messages sent anyway are still delivered: the gate is advice, as in Node streams.

class InboxGate {
  closed = false;
  /** Producers waiting for it to open; made when the first one waits. */
  waiters: Set<() => void> | undefined;
  constructor(readonly box: string) {}
}

function gateOf(ref: ComponentRef, box: string): InboxGate {
  const record = recordOf(ref);
  let gate = lookup(record.gates, box);
  if (!gate) record.gates = insert(record.gates, (gate = new InboxGate(box)));
  return gate;
}

/**
 * The consumer side: close or open the gate of `ref`'s inbox `box`. Producers waiting on it are
 * woken in a microtask, not inside this call: a consumer that reopens from its own handler would
 * otherwise take a whole burst into that handler before it returns.
 */
export function setInboxOpen(ref: ComponentRef, box: string, open: boolean): void {
  const gate = gateOf(ref, box);
  if (gate.closed === !open) return;
  gate.closed = !open;
  if (open && gate.waiters && gate.waiters.size > 0) {
    const pending = gate.waiters;
    queueMicrotask(() => {
      if (gate.closed) return; // closed again before the wake-up: waiters stay registered
      const waiters = [...pending];
      pending.clear();
      for (const wake of waiters) wake();
    });
  }
}

/** Where a gate search went: each record it read, followed by its linkVersion then. */
type Trail = (ActorRecord | number)[];

function visit(ref: ComponentRef, trail: Trail | undefined): ActorRecord | undefined {
  // Made if missing: a passthrough added to it later must find this trail stale.
  const record = trail ? recordOf(ref) : findRecord(ref);
  if (record && trail) trail.push(record, record.linkVersion ?? 0);
  return record;
}

function finalGates(ref: ComponentRef, outbox: string, out: InboxGate[], trail: Trail | undefined, depth = 0): void {
  if (depth > 64) return; // a cycle of self passthroughs; nothing sane to gate on
  const record = visit(ref, trail);
  for (const destination of lookup(record?.routes, outbox)?.destinations ?? []) {
    if (destination.outward) {
      finalGates(destination.ref, destination.box, out, trail, depth + 1);
    } else {
      inboxGates(destination.ref, destination.box, out, trail, depth + 1);
    }
  }
}

/** The gates of the final inboxes a message to `ref`'s inbox `box` reaches, through passthroughs. */
function inboxGates(ref: ComponentRef, box: string, out: InboxGate[], trail: Trail | undefined, depth: number): void {
  const targets = visit(ref, trail)?.passthroughs?.filter((p) => p.from === box);
  if (!targets || targets.length === 0 || depth > 64) {
    out.push(gateOf(ref, box));
    return;
  }
  for (const target of targets) inboxGates(target.ref, target.box, out, trail, depth + 1);
}

const noGates: readonly InboxGate[] = [];

function isFresh(route: OutboxRoute): boolean {
  const trail = route.gatesTrail;
  if (!trail) return false;
  for (let i = 0; i < trail.length; i += 2) if (((trail[i] as ActorRecord).linkVersion ?? 0) !== trail[i + 1]) return false;
  return true;
}

/** The gates of every final inbox `ref`'s `outbox` feeds, recomputed only after links on its way changed. */
function gatesOf(ref: ComponentRef, outbox: string): readonly InboxGate[] {
  const route = routeOf(ref, outbox);
  if (!route) return noGates;
  if (!route.gates || !isFresh(route)) {
    const found: InboxGate[] = [];
    const trail: Trail = [];
    finalGates(ref, outbox, found, trail);
    // Copied to size: arrays grown by push keep a 17-slot store for one or two entries (~600 B a
    // connection, measured by heap diff).
    route.gates = found.slice();
    route.gatesTrail = trail.slice();
  }
  return route.gates;
}

/** The producer side: may `ref` send more on `outbox` without overfilling a consumer? */
export function canSend(ref: ComponentRef, outbox: string): boolean {
  if (routeOf(ref, outbox)?.closed) return false; // its consumers have ended
  for (const gate of gatesOf(ref, outbox)) if (gate.closed) return false;
  return true;
}

/**
 * Calls `wake` once every consumer fed by `outbox` is open again (at once if they are); never, if
 * they have all ended (closeLinksInto), so a producer waiting on them stops instead of spinning.
 */
export function whenCanSend(ref: ComponentRef, outbox: string, wake: () => void): () => void {
  if (routeOf(ref, outbox)?.closed) return () => {};
  return whenAllOpen(() => gatesOf(ref, outbox), wake);
}

/** Calls `wake` once none of `currentGates()` is closed, asking again on each wake-up (links may change). */
function whenAllOpen(currentGates: () => readonly InboxGate[], wake: () => void): () => void {
  const closed = currentGates().find((gate) => gate.closed);
  if (!closed) {
    wake();
    return () => {};
  }
  let cancelled = false;
  const retry = (): void => {
    if (!cancelled) cancel = whenAllOpen(currentGates, wake);
  };
  (closed.waiters ??= new Set()).add(retry);
  let cancel = (): void => {
    closed.waiters?.delete(retry);
  };
  return () => {
    cancelled = true;
    cancel();
  };
}

/** The gates of the final inboxes that a message sent to `ref`'s inbox `box` reaches. */
function gatesOfInbox(ref: ComponentRef, box: string): InboxGate[] {
  const found: InboxGate[] = [];
  inboxGates(ref, box, found, undefined, 0);
  return found;
}

/** A producer outside the graph (run()'s handle, toDuplex): can `ref`'s inbox `box` take more now? */
export function isInboxOpen(ref: ComponentRef, box: string): boolean {
  for (const gate of gatesOfInbox(ref, box)) if (gate.closed) return false;
  return true;
}

/** Calls `wake` once `ref`'s inbox `box` (through its passthroughs) is open (at once if it is). */
export function whenInboxOpen(ref: ComponentRef, box: string, wake: () => void): () => void {
  return whenAllOpen(() => gatesOfInbox(ref, box), wake);
}

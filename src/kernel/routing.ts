// The post office: how a message on one component's outbox reaches another's inbox, and how a
// consumer tells its producers to hold back. As in Axon, a message goes straight to its final inbox:
// the emitting actor's listener walks the graphs' passthrough records (a few array entries) at
// delivery time, so passthroughs can be added later (TCPClient does once its CSA exists). The graph
// supervisor decides routes but is not on the hot path.
import type { AnyActorRef } from 'xstate';
import { emitFrom } from './xstateInternals.js';

/** Where a graph's own inbox passes straight through to: a record, not a closure (one per connection box). */
interface Passthrough {
  /** The graph's own inbox. */
  readonly from: string;
  readonly ref: AnyActorRef;
  readonly box: string;
}

/** A graph's own inboxes that pass straight through to a child's inbox. */
// One exact-size array per graph, scanned by box: a CSA has four, and a Map plus a list per box
// cost ~0.4 KB a connection.
/**
 * Runs `ref`'s handler for `box` now if `ref` can take a message without XState's mailbox; false if
 * not. Set by componentLogic.ts (a body component's fast path): the post office knows only that
 * some actors can take a message at once, not how, so componentLogic sits above it, not beside it.
 */
type ImmediateReceiver = (ref: AnyActorRef, box: string, message: unknown) => boolean;
let receiveNow: ImmediateReceiver = () => false;

export function setImmediateReceiver(receiver: ImmediateReceiver): void {
  receiveNow = receiver;
}

const inboxPassthroughs = new WeakMap<AnyActorRef, readonly Passthrough[]>();
/** Where each outbox of a component leads, for flow-control questions. */
const outboxDestinations = new WeakMap<AnyActorRef, PerBox<OutboxRoute>>();

/**
 * A component's entries by box name: the entry itself, or an array of them once a second box has
 * one. A component has a few boxes, so a scan is as quick as a lookup, and a Map is ~240 bytes
 * where a two-entry array is ~32 (every connection has several).
 */
type PerBox<T extends { readonly box: string }> = T | T[];

function lookup<T extends { readonly box: string }>(table: WeakMap<AnyActorRef, PerBox<T>>, ref: AnyActorRef, box: string): T | undefined {
  const entry = table.get(ref);
  if (entry === undefined) return undefined;
  if (!Array.isArray(entry)) return entry.box === box ? entry : undefined;
  for (const item of entry) if (item.box === box) return item;
  return undefined;
}

/** Adds `item` for its box; the caller has checked that the box has no entry yet. */
function insert<T extends { readonly box: string }>(table: WeakMap<AnyActorRef, PerBox<T>>, ref: AnyActorRef, item: T): void {
  const entry = table.get(ref);
  if (entry === undefined) table.set(ref, item);
  else if (Array.isArray(entry)) entry.push(item);
  else table.set(ref, [entry, item]);
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
  /** The value of `topologyVersion` when `gates` was computed. */
  gatesVersion: number;
}

/** Bumped by every change to links or passthroughs; invalidates every cached gate list. */
let topologyVersion = 0;
const gates = new WeakMap<AnyActorRef, PerBox<InboxGate>>();

/** A final inbox, or a graph's own outbox (whose destinations are looked up in turn). */
export interface Destination {
  readonly ref: AnyActorRef;
  readonly box: string;
  readonly outward: boolean;
}

/**
 * Code that takes some of an actor's inbox messages as they are delivered, outside XState's mailbox
 * (a CSA's socket binding takes its data boxes so a chunk costs no machine transition).
 */
export interface DirectReceiver {
  /** Takes `data` for `box`, or returns false to leave it to the actor. */
  receive(box: string, data: unknown): boolean;
}

const directReceivers = new WeakMap<AnyActorRef, DirectReceiver>();

/** A ref that is its own direct receiver (a hosted body) says so on its prototype: no table entry. */
export const RECEIVES_DIRECTLY = Symbol('kamaelia.receivesDirectly');

export function directReceiverOf(ref: AnyActorRef): DirectReceiver | undefined {
  return directReceivers.get(ref);
}

/** Makes `receiver` take `ref`'s inbox messages it accepts; undefined removes it. */
export function setDirectReceiver(ref: AnyActorRef, receiver: DirectReceiver | undefined): void {
  if (receiver) directReceivers.set(ref, receiver);
  else directReceivers.delete(ref);
}

/**
 * Puts `message` into `box` of `ref` now, through any passthrough `ref` has for that box when the
 * message is sent (a component may add one later, as TCPClient does once its CSA exists). The one
 * way a message enters an inbox.
 */
export function deliverToInbox(ref: AnyActorRef, box: string, message: unknown): void {
  const passthroughs = inboxPassthroughs.get(ref);
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
  const direct = (ref as { [RECEIVES_DIRECTLY]?: DirectReceiver })[RECEIVES_DIRECTLY] ?? directReceivers.get(ref);
  if (direct?.receive(box, message)) return;
  if (!receiveNow(ref, box, message)) ref.send({ type: box, data: message });
}

/**
 * Delivers `message` to everything `source`'s `outbox` is linked to, as if `source` had sent it:
 * what an outbox listener does, and how one speaks for a component that failed (XState has dropped
 * its listeners by then).
 */
export function deliverFromOutbox(source: AnyActorRef, outbox: string, message: unknown): void {
  const route = lookup(outboxDestinations, source, outbox);
  if (route) deliverToDestinations(route.destinations, message);
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
export function addInboxPassthrough(graph: AnyActorRef, box: string, target: AnyActorRef, targetBox: string): void {
  const passthrough: Passthrough = { from: box, ref: target, box: targetBox };
  inboxPassthroughs.set(graph, [...(inboxPassthroughs.get(graph) ?? []), passthrough]);
  topologyVersion++;
}

/** Removes every passthrough from `graph`'s inboxes to `target`. */
export function removeInboxPassthroughsTo(graph: AnyActorRef, target: AnyActorRef): void {
  removePassthroughs(graph, (p) => p.ref === target);
}

function removePassthroughs(graph: AnyActorRef, matches: (passthrough: Passthrough) => boolean): void {
  const list = inboxPassthroughs.get(graph);
  if (!list) return;
  const remaining = list.filter((p) => !matches(p));
  if (remaining.length > 0) inboxPassthroughs.set(graph, remaining);
  else inboxPassthroughs.delete(graph);
  topologyVersion++;
}

// Links return nothing: per-connection wiring would otherwise pay for an undo closure per link.
// `removeLinksBetween` undoes them.

/** Links `source.outbox` to `target.inbox`. */
export function linkToInbox(source: AnyActorRef, outbox: string, target: AnyActorRef, inbox: string): void {
  addDestination(source, outbox, { ref: target, box: inbox, outward: false });
}

/** Links a child's outbox to an outbox of its graph: the graph re-emits what the child sends. */
export function linkToOwnOutbox(child: AnyActorRef, outbox: string, graph: AnyActorRef, graphOutbox: string): void {
  addDestination(child, outbox, { ref: graph, box: graphOutbox, outward: true });
}

/** Removes every link from an outbox of `source` to `target` (to its inboxes or, for its child, its outboxes). */
export function removeLinksBetween(source: AnyActorRef, target: AnyActorRef): void {
  const entry = outboxDestinations.get(source);
  if (!entry) return;
  for (const route of Array.isArray(entry) ? entry : [entry]) {
    const destinations = route.destinations;
    for (let i = destinations.length - 1; i >= 0; i--) {
      if (destinations[i]!.ref === target) destinations.splice(i, 1);
    }
  }
  topologyVersion++;
}

/**
 * `target` has ended: the links from `source`'s outboxes into it close. An outbox left with no link
 * at all is closed for good (canSend false, whenCanSend never wakes): nothing will take what it
 * sends. Returns the outboxes of `source` closed that way.
 */
export function closeLinksInto(source: AnyActorRef, target: AnyActorRef): string[] {
  const entry = outboxDestinations.get(source);
  if (!entry) return [];
  const closed: string[] = [];
  for (const route of Array.isArray(entry) ? [...entry] : [entry]) {
    const destinations = route.destinations;
    const before = destinations.length;
    for (let i = destinations.length - 1; i >= 0; i--) {
      if (destinations[i]!.ref === target && !destinations[i]!.outward) destinations.splice(i, 1);
    }
    if (destinations.length < before && destinations.length === 0) {
      route.closed = true;
      closed.push(route.box);
    }
  }
  topologyVersion++;
  return closed;
}

/**
 * Marks a source that delivers along its links itself (deliverFromOutbox) what it sends on some
 * outboxes, so those links need no listener on it: `true` for every outbox, or the list. Set on a
 * prototype or on an actor's logic, it costs an instance nothing; a listener costs ~0.5 KB a
 * connection (XState's listener Map and Set, a bound function, a closure).
 */
export const ROUTES_ITS_OUTBOXES = Symbol('kamaelia.routesItsOutboxes');

type RoutingMark = true | readonly string[] | undefined;

function routesItself(source: AnyActorRef, outbox: string): boolean {
  const mark = ((source as { [ROUTES_ITS_OUTBOXES]?: RoutingMark })[ROUTES_ITS_OUTBOXES] ??
    (source as { logic?: { [ROUTES_ITS_OUTBOXES]?: RoutingMark } }).logic?.[ROUTES_ITS_OUTBOXES]) as RoutingMark;
  return mark === true || (mark !== undefined && mark.includes(outbox));
}

function addDestination(source: AnyActorRef, outbox: string, destination: Destination): void {
  const route = lookup(outboxDestinations, source, outbox);
  if (route) {
    route.destinations.push(destination);
    route.closed = false;
  } else {
    // One XState listener per outbox, not per link, and no closure per link.
    const created: OutboxRoute = { box: outbox, destinations: [destination], closed: false, gates: undefined, gatesVersion: -1 };
    insert(outboxDestinations, source, created);
    if (!routesItself(source, outbox)) source.on(outbox, (event: { data?: unknown }) => deliverToDestinations(created.destinations, event.data));
  }
  topologyVersion++;
}

/** The inboxes `source`'s outboxes are linked to now (not its graph's own outboxes): for the inspector. */
export function linksFrom(source: AnyActorRef): { readonly outbox: string; readonly target: AnyActorRef; readonly inbox: string }[] {
  const entry = outboxDestinations.get(source);
  if (!entry) return [];
  const links: { outbox: string; target: AnyActorRef; inbox: string }[] = [];
  for (const route of Array.isArray(entry) ? entry : [entry]) {
    for (const destination of route.destinations) if (!destination.outward) links.push({ outbox: route.box, target: destination.ref, inbox: destination.box });
  }
  return links;
}

export function isOutboxLinked(source: AnyActorRef, outbox: string): boolean {
  return (lookup(outboxDestinations, source, outbox)?.destinations.length ?? 0) > 0;
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

function gateOf(ref: AnyActorRef, box: string): InboxGate {
  let gate = lookup(gates, ref, box);
  if (!gate) insert(gates, ref, (gate = new InboxGate(box)));
  return gate;
}

/**
 * The consumer side: close or open the gate of `ref`'s inbox `box`. Producers waiting on it are
 * woken in a microtask, not inside this call: a consumer that reopens from its own handler would
 * otherwise take a whole burst into that handler before it returns.
 */
export function setInboxOpen(ref: AnyActorRef, box: string, open: boolean): void {
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

function finalGates(ref: AnyActorRef, outbox: string, out: InboxGate[], depth = 0): void {
  if (depth > 64) return; // a cycle of self passthroughs; nothing sane to gate on
  for (const destination of lookup(outboxDestinations, ref, outbox)?.destinations ?? []) {
    if (destination.outward) {
      finalGates(destination.ref, destination.box, out, depth + 1);
    } else {
      inboxGates(destination.ref, destination.box, out, depth + 1);
    }
  }
}

/** The gates of the final inboxes a message to `ref`'s inbox `box` reaches, through passthroughs. */
function inboxGates(ref: AnyActorRef, box: string, out: InboxGate[], depth: number): void {
  const targets = inboxPassthroughs.get(ref)?.filter((p) => p.from === box);
  if (!targets || targets.length === 0 || depth > 64) {
    out.push(gateOf(ref, box));
    return;
  }
  for (const target of targets) inboxGates(target.ref, target.box, out, depth + 1);
}

const noGates: readonly InboxGate[] = [];

/** The gates of every final inbox `ref`'s `outbox` feeds, recomputed only after links changed. */
function gatesOf(ref: AnyActorRef, outbox: string): readonly InboxGate[] {
  const route = lookup(outboxDestinations, ref, outbox);
  if (!route) return noGates;
  if (route.gatesVersion !== topologyVersion || !route.gates) {
    const found: InboxGate[] = [];
    finalGates(ref, outbox, found);
    route.gates = found;
    route.gatesVersion = topologyVersion;
  }
  return route.gates;
}

/** The producer side: may `ref` send more on `outbox` without overfilling a consumer? */
export function canSend(ref: AnyActorRef, outbox: string): boolean {
  if (lookup(outboxDestinations, ref, outbox)?.closed) return false; // its consumers have ended
  for (const gate of gatesOf(ref, outbox)) if (gate.closed) return false;
  return true;
}

/**
 * Calls `wake` once every consumer fed by `outbox` is open again (at once if they are); never, if
 * they have all ended (closeLinksInto), so a producer waiting on them stops instead of spinning.
 */
export function whenCanSend(ref: AnyActorRef, outbox: string, wake: () => void): () => void {
  if (lookup(outboxDestinations, ref, outbox)?.closed) return () => {};
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
function gatesOfInbox(ref: AnyActorRef, box: string): InboxGate[] {
  const found: InboxGate[] = [];
  inboxGates(ref, box, found, 0);
  return found;
}

/** A producer outside the graph (run()'s handle, toDuplex): can `ref`'s inbox `box` take more now? */
export function isInboxOpen(ref: AnyActorRef, box: string): boolean {
  for (const gate of gatesOfInbox(ref, box)) if (gate.closed) return false;
  return true;
}

/** Calls `wake` once `ref`'s inbox `box` (through its passthroughs) is open (at once if it is). */
export function whenInboxOpen(ref: AnyActorRef, box: string, wake: () => void): () => void {
  return whenAllOpen(() => gatesOfInbox(ref, box), wake);
}

// The Selector's lifecycle and protocol (Kamaelia's Internet/Selector.py). In Node, libuv already
// is the select loop, so the Selector does not poll: its readiness service listens to each
// registered socket's 'readable', 'end', 'error', 'close' and 'drain' events and delivers them as
// ReadReady / SendReady messages to the box the registrant named. Registrations arrive on `notify`
// as in Kamaelia (newReader/newWriter/removeReader/removeWriter); unlike Kamaelia a registration
// is not one-shot, so nobody re-registers after every EAGAIN.
// Pure: the readiness service is provided by actors/selector.ts.
import type { EventEmitter } from 'node:events';
import { assign, sendTo, setup, type AnyActorRef } from 'xstate';
import { unboundActor } from './unbound.js';

/** Anything whose readiness the Selector can watch: a net.Socket, a tls.TLSSocket, a net.Server. */
export type Selectable = EventEmitter;

/** Registers `target`'s inbox `box` to be told when `socket` is readable (newReader) or writable (newWriter). */
export interface SelectorRegistration {
  readonly kind: 'newReader' | 'newWriter';
  readonly target: AnyActorRef;
  readonly box: string;
  readonly socket: Selectable;
}

/** Forgets a registration. Unknown sockets are ignored. */
export interface SelectorRemoval {
  readonly kind: 'removeReader' | 'removeWriter';
  readonly socket: Selectable;
}

/** What a CSA tells the Selector: watch a socket for a box, or stop. */
export type SelectorNotice = SelectorRegistration | SelectorRemoval;

/** What a reader's box receives. `end` is the peer's FIN after every byte it sent was read. */
export type ReadReadiness =
  | { readonly readiness: 'readable' }
  | { readonly readiness: 'end' }
  | { readonly readiness: 'error'; readonly error: Error }
  | { readonly readiness: 'close'; readonly hadError: boolean };

/** What a writer's box receives: the socket's write buffer fell below its high-water mark. */
export interface SendReadiness {
  readonly readiness: 'drain';
}

/**
 * Asks the Selector to tell `target`'s `box` when `socket` is readable (Kamaelia's newReader).
 * @param target - the actor to tell
 * @param box - its inbox for ReadReady
 * @param socket - the socket to watch
 */
export function newReader(target: AnyActorRef, box: string, socket: Selectable): SelectorRegistration {
  return { kind: 'newReader', target, box, socket };
}

/**
 * Asks the Selector to tell `target`'s `box` when `socket` can take more writes (Kamaelia's newWriter).
 * @param target - the actor to tell
 * @param box - its inbox for SendReady
 * @param socket - the socket to watch
 */
export function newWriter(target: AnyActorRef, box: string, socket: Selectable): SelectorRegistration {
  return { kind: 'newWriter', target, box, socket };
}

/**
 * Stops watching `socket` for reads.
 * @param socket - the watched socket
 */
export function removeReader(socket: Selectable): SelectorRemoval {
  return { kind: 'removeReader', socket };
}

/**
 * Stops watching `socket` for writes.
 * @param socket - the watched socket
 */
export function removeWriter(socket: Selectable): SelectorRemoval {
  return { kind: 'removeWriter', socket };
}

/** The events selectorMachine takes. */
export type SelectorEvent =
  | { type: 'notify'; data: SelectorNotice }
  | { type: 'control'; data: unknown }
  | { type: 'selector.busy'; registrations: number }
  | { type: 'selector.idle' };

/** selectorMachine's context. */
export interface SelectorContext {
  /** Live registrations (reader and writer count separately), updated when the count crosses zero. */
  readonly registrations: number;
}

/** The Selector's system id: components find it with `system.get(SELECTOR_SYSTEM_ID)`. */
export const SELECTOR_SYSTEM_ID = 'selector';

/** The Selector's lifecycle (`idle` ⇄ `serving`): the one place socket readiness becomes ReadReady/SendReady for the CSA that registered it. */
export const selectorMachine = setup({
  types: {} as { context: SelectorContext; events: SelectorEvent },
  actors: {
    // actors/selector.ts provides the node:net listener.
    readiness: unboundActor<{ type: 'notify'; data: SelectorNotice }>('selectorMachine', 'readiness', 'use the Selector from actors/selector.ts'),
  },
}).createMachine({
  id: 'selector',
  context: { registrations: 0 },
  invoke: { id: 'readiness', src: 'readiness' },
  initial: 'idle',
  on: {
    notify: { actions: sendTo('readiness', ({ event }) => event) },
  },
  states: {
    // Nothing registered. Kamaelia's Selector exits after ~3.5 s idle and a caller can find a dying
    // one; this one holds no resources when idle and lives as long as its actor system.
    idle: {
      on: { 'selector.busy': { target: 'serving', actions: assign({ registrations: ({ event }) => event.registrations }) } },
    },
    serving: {
      on: { 'selector.idle': { target: 'idle', actions: assign({ registrations: 0 }) } },
    },
  },
});

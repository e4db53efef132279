// The ref of a running component, as a body sees its `self` and as routing, links and gates take
// one: the members both an XState Actor and a body hosted inside a connection's actor have. The
// compiler checks both against it (hostedBody.ts `implements ComponentRef`; an Actor is assignable),
// so a body cannot call what only one of them has.
import type { AnyActorRef, Snapshot, Subscription } from 'xstate';
import type { AnyActorSystem } from './events.js';

/** A running component: an XState actor, or a body hosted inside a connection's actor. */
export interface ComponentRef {
  /** Its id within its parent (a graph child's index, a server connection's number). */
  readonly id: string;
  /** Unique within its actor system. */
  readonly sessionId: string;
  /** The actor system it runs in. */
  readonly system: AnyActorSystem;
  /** The actor it was made under; absent for a root. */
  readonly _parent?: AnyActorRef;
  /** Delivers `event` to it: `{ type: <inbox>, data }` puts `data` into that inbox. */
  send(event: { readonly type: string; readonly [key: string]: unknown }): void;
  /** Its current snapshot: `status` is `'active'`, `'done'`, `'error'` or `'stopped'`. */
  getSnapshot(): Snapshot<unknown>;
  /** Listens to what it sends out of outbox `type` (`{ type, data }`). */
  on(type: string, handler: (event: { type: string; data?: unknown }) => void): Subscription;
}

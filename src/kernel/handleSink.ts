// Where run()'s handle takes a component's outboxes: a link target like any inbox (so flow control
// gates it), whose receiver buffers each message in that outbox's queue. It runs no logic, so it is
// a small ComponentRef of its own rather than an actor.
import type { Snapshot, Subscription } from 'xstate';
import { recordOf, type Receiver } from './actorRecord.js';
import type { ComponentRef } from './componentRef.js';
import type { AnyActorSystem } from './events.js';
import type { MessageQueue } from './MessageQueue.js';

const ACTIVE: Snapshot<unknown> = Object.freeze({ status: 'active', output: undefined, error: undefined });
const NO_SUBSCRIPTION: Subscription = Object.freeze({ unsubscribe() {} });
let nextSink = 0;

export class HandleSink implements ComponentRef, Receiver {
  readonly sessionId = `run:${nextSink++}`;

  constructor(
    readonly id: string,
    readonly system: AnyActorSystem,
    private readonly queues: ReadonlyMap<string, MessageQueue<unknown>>,
  ) {
    recordOf(this).receiver = this;
  }

  receive(box: string, data: unknown): boolean {
    this.queues.get(box)?.push(data);
    return true;
  }

  send(event: { readonly type: string; readonly data?: unknown }): void {
    this.receive(event.type, event.data);
  }

  getSnapshot(): Snapshot<unknown> {
    return ACTIVE;
  }

  /** It sends nothing. */
  on(): Subscription {
    return NO_SUBSCRIPTION;
  }
}

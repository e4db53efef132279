// run(component): start a component as the root of an actor system and talk to its boxes.
import { createActor, type Actor, type AnyActorLogic, type InspectionEvent, type Observer } from 'xstate';
import { assertComponent, type Component } from './component.js';
import { componentFailed, reasonFromError, type Reason } from './messages.js';
import { MessageQueue } from './MessageQueue.js';
import { registerComponent, deliverToInbox } from './routing.js';
import { stopTree } from './childActors.js';

export interface RunOptions {
  /** Passed to XState's createActor: observes every actor in the system (see createInspector). */
  readonly inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /** The root actor's id (defaults to the component's name). */
  readonly id?: string;
}

export interface RunResult {
  /** `done`: the component finished; `error`: it threw (see reason); `stopped`: stop() was called. */
  readonly status: 'done' | 'error' | 'stopped';
  readonly reason?: Reason;
}

export interface NextOptions {
  /** Reject if no message arrives within this many milliseconds. */
  readonly timeoutMs?: number;
}

export interface RunHandle<In extends object, Out extends object> {
  /** Puts `message` into the component's inbox `box`. Ignored once the component has terminated. */
  send<K extends keyof In & string>(box: K, message: In[K]): void;
  /** The next message on outbox `box`; everything since start is buffered, so nothing is missed. */
  next<K extends keyof Out & string>(box: K, options?: NextOptions): Promise<Out[K]>;
  /** Every message on outbox `box`, from the start; ends when the component has terminated. */
  messages<K extends keyof Out & string>(box: K): AsyncIterable<Out[K]>;
  /** Settles once the component has terminated. */
  readonly done: Promise<RunResult>;
  /** Stops the component and everything under it at once. */
  stop(): void;
  /** The root XState actor. */
  readonly actor: Actor<AnyActorLogic>;
}

export function run<In extends object, Out extends object>(component: Component<In, Out>, options: RunOptions = {}): RunHandle<In, Out> {
  assertComponent(component, 'run');
  const actor = createActor(component.logic, {
    input: component.input,
    id: options.id ?? component.name,
    ...(options.inspect ? { inspect: options.inspect } : {}),
  }) as Actor<AnyActorLogic>;
  registerComponent(actor, { component, name: options.id ?? component.name });

  const queues = new Map<string, MessageQueue<unknown>>();
  for (const outbox of component.outboxes) {
    const queue = new MessageQueue<unknown>(outbox);
    queues.set(outbox, queue);
    actor.on(outbox, (event: { data?: unknown }) => queue.push(event.data));
  }
  const queueOf = (box: string): MessageQueue<unknown> => {
    const queue = queues.get(box);
    if (!queue) throw new TypeError(`${component.name} has no outbox "${box}" (it has ${component.outboxes.join(', ')})`);
    return queue;
  };

  let settle: (result: RunResult) => void = () => {};
  const done = new Promise<RunResult>((resolve) => (settle = resolve));
  let ended = false;
  let stopping = false;
  const finish = (result: RunResult): void => {
    if (ended) return;
    ended = true;
    for (const queue of queues.values()) queue.close();
    settle(result);
  };

  actor.subscribe({
    complete: () => finish({ status: stopping ? 'stopped' : 'done' }),
    error: (error) => {
      // XState leaves a failed root's children running; stop them so their sockets close.
      stopTree(actor);
      const why = reasonFromError(error);
      queues.get('signal')?.push(componentFailed(component.name, { code: why.code, message: `${component.name} failed: ${why.message}` }));
      finish({ status: 'error', reason: why });
    },
  });
  actor.start();
  const inboxes = new Set<string>(component.inboxes);

  return {
    send(box, message) {
      if (!inboxes.has(box)) throw new TypeError(`${component.name} has no inbox "${box}" (it has ${component.inboxes.join(', ')})`);
      if (ended) return;
      deliverToInbox(actor, box, message);
    },
    next(box, nextOptions = {}) {
      return queueOf(box).next(nextOptions.timeoutMs) as Promise<Out[typeof box]>;
    },
    messages(box) {
      return queueOf(box) as AsyncIterable<Out[typeof box]>;
    },
    done,
    stop() {
      if (ended) return;
      stopping = true;
      actor.stop();
      finish({ status: 'stopped' });
    },
    actor,
  };
}

// run(component): start a component as the root of an actor system and talk to its boxes.
import { createActor, type Actor, type ActorLogic, type AnyActorLogic, type EventObject, type InspectionEvent, type Observer, type Snapshot, type StateValue, type Subscription } from 'xstate';
import type { AnyActorSystem, OutboxEvent } from './events.js';
import { assertComponent, type Component } from './component.js';
import { abortError } from './abort.js';
import { componentFailed, isShutdownRequest, reasonFromError, type Reason } from './messages.js';
import { MessageQueue } from './MessageQueue.js';
import { registerComponent } from './registry.js';
import { deliverToInbox, linkToInbox, setInboxOpen } from './routing.js';
import { stopTree } from './childActors.js';
import { HandleSink } from './handleSink.js';

/** Options of {@link run}. */
export interface RunOptions {
  /** Passed to XState's createActor: observes every actor in the system (see createInspector). @defaultValue none */
  readonly inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /** The root actor's id. @defaultValue the component's name */
  readonly id?: string;
  /** Aborting it stops the component, as `stop()` does; `done` then resolves `{ status: 'stopped', reason }` with code `ABORT_ERR`. */
  readonly signal?: AbortSignal;
  /**
   * How much each outbox may hold that `next()`/`messages()` have not taken yet before the
   * component is told it cannot send more there, exactly as a full consumer inside a graph would
   * tell it (a CSA then stops reading its socket, a DataSource stops producing). Byte messages
   * (`Uint8Array`, `Buffer`) count their bytes against `bytes`; every other message counts one
   * against `messages`. Messages sent regardless are still kept: the mark is flow control, not a cap.
   */
  readonly highWaterMark?: HighWaterMark;
}

/** Limits of what run()'s handle holds per outbox before it holds the component back. */
export interface HighWaterMark {
  /** Bytes of byte messages. @defaultValue {@link DEFAULT_HANDLE_HIGH_WATER_BYTES} (1 MiB) */
  readonly bytes?: number;
  /** Messages that are not bytes. @defaultValue {@link DEFAULT_HANDLE_HIGH_WATER_MESSAGES} (1024) */
  readonly messages?: number;
}

/** Default {@link HighWaterMark.bytes}: 1 MiB per outbox. */
export const DEFAULT_HANDLE_HIGH_WATER_BYTES = 1024 * 1024;
/** Default {@link HighWaterMark.messages}: 1024 per outbox. */
export const DEFAULT_HANDLE_HIGH_WATER_MESSAGES = 1024;

function positiveLimit(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0)) throw new RangeError(`run: highWaterMark.${name} must be a positive number, got ${String(value)}`);
  return value;
}

/** How a run ended: what `done` resolves with. */
export interface RunResult {
  /**
   * `done`: the component finished cleanly; `error`: an error ended it, either thrown or reported in
   * its last terminal message on `signal` (a refused or reset connection, a failed bind, a failed
   * child); `stopped`: `stop()` was called or the run's AbortSignal aborted.
   */
  readonly status: 'done' | 'error' | 'stopped';
  /** Why, when status is `error` (and `ABORT_ERR` when an abort stopped it). */
  readonly reason?: Reason;
}

/** Options of `next()`. */
export interface NextOptions {
  /**
   * Reject if no message arrives within this many milliseconds: an integer from 0 to
   * MAX_DURATION_MS (2^31 - 1); anything else rejects at once with a RangeError naming it. @defaultValue no timeout
   */
  readonly timeoutMs?: number;
  /** Reject with an `AbortError` (code `ABORT_ERR`) when this aborts; the message, if one comes later, stays buffered. */
  readonly signal?: AbortSignal;
}

/**
 * What the root actor of a run reports (its `getSnapshot()`): XState's `status` (`active`, `done`,
 * `error`, `stopped`) with `output` or `error`, and, when the component's logic is a state machine
 * (TCPClient, TCPServer, a `logic` component), its state `value` and `context`. A component does not
 * declare its logic's type, so `context` is `unknown`: narrow it where you know the machine.
 */
export type RunSnapshot = Snapshot<unknown> & {
  /** The machine's state value; undefined for a body or logic that is not a machine. */
  readonly value?: StateValue;
  /** The machine's context; undefined for a body or logic that is not a machine. */
  readonly context?: unknown;
};

/**
 * The root XState actor of a run, as {@link RunHandle.actor} gives it: its snapshot is a
 * {@link RunSnapshot}; it takes any event (a machine component may take more than its inbox events);
 * `on(box, handler)` hears each message the component sends out of outbox `box`, as `{ type: box, data }`
 * with `data` typed by `Out`. Pass it to serverStats, suspendAccepting, childrenOf, componentInfo and the like.
 */
export type RunActor<Out extends object = Record<string, unknown>> = {
  /**
   * Calls `handler` with each message the component sends out of outbox `box`, as `{ type: box, data }`;
   * returns the subscription to end it. (A method beside Actor's own `on`, so that the handle of any
   * component is still a plain `RunHandle`: an Actor typed by `Out` would not be assignable to one typed by the default.)
   */
  on<K extends keyof Out & string>(box: K, handler: (event: { readonly type: K; readonly data: Out[K] }) => void): Subscription;
} & Actor<ActorLogic<RunSnapshot, RunEvent, unknown, AnyActorSystem, OutboxEvent<Record<string, unknown>>>>;

/** What `handle.actor.send` takes: a machine's own events, or `{ type: <inbox>, data }` straight to an inbox. */
export type RunEvent = EventObject & { readonly [key: string]: unknown };

/**
 * A running component, as {@link run} returns it. `In` and `Out` are the message types of its
 * inboxes and outboxes; both default to `Record<string, unknown>`, so `RunHandle` alone holds the
 * handle of any component.
 */
export interface RunHandle<In extends object = Record<string, unknown>, Out extends object = Record<string, unknown>> {
  /**
   * Puts `message` into the component's inbox `box`. Returns `false`, and drops the message, when the
   * component has already ended (it cannot be delivered); `true` otherwise. Throws a TypeError for a
   * box the component does not have.
   */
  send<K extends keyof In & string>(box: K, message: In[K]): boolean;
  /** The next message on outbox `box`; everything since start is buffered, so nothing is missed. */
  next<K extends keyof Out & string>(box: K, options?: NextOptions): Promise<Out[K]>;
  /** Every message on outbox `box`, from the start; ends when the component has terminated. */
  messages<K extends keyof Out & string>(box: K): AsyncIterable<Out[K]>;
  /** Settles once the component has terminated. */
  readonly done: Promise<RunResult>;
  /** Stops the component and everything under it at once. */
  stop(): void;
  /** The root XState actor (see {@link RunActor}). */
  readonly actor: RunActor<Out>;
}

/**
 * Starts `component` as the root of an actor system and returns a handle to talk to its boxes:
 * `send`, `next`, `messages`, `done`, `stop`. What its outboxes send is buffered from the start,
 * bounded by `highWaterMark` (past it the component is held back, as by any full consumer).
 *
 * @param component - the component to run
 * @param options - see {@link RunOptions}
 * @example
 * ```ts
 * const client = run(TCPClient('127.0.0.1', 7000), { signal: AbortSignal.timeout(10_000) });
 * client.send('inbox', 'hello\n');
 * console.log(String(await client.next('outbox', { timeoutMs: 5000 })));
 * client.send('control', producerFinished());
 * console.log(await client.done); // { status: 'done' } or { status: 'error', reason }
 * ```
 */
export function run<In extends object, Out extends object>(component: Component<In, Out>, options: RunOptions = {}): RunHandle<In, Out> {
  assertComponent(component, 'run');
  const actor = createActor(component.logic, {
    input: component.input,
    id: options.id ?? component.name,
    ...(options.inspect ? { inspect: options.inspect } : {}),
  }) as Actor<AnyActorLogic>;
  registerComponent(actor, { component, name: options.id ?? component.name });

  // The handle is a consumer like any other: each root outbox is linked to an inbox of `sink` (a
  // stand-in actor that only routing sees), whose gate closes while the handle holds too much.
  const highWaterBytes = positiveLimit(options.highWaterMark?.bytes, DEFAULT_HANDLE_HIGH_WATER_BYTES, 'bytes');
  const highWaterMessages = positiveLimit(options.highWaterMark?.messages, DEFAULT_HANDLE_HIGH_WATER_MESSAGES, 'messages');
  const queues = new Map<string, MessageQueue<unknown>>();
  const sink = new HandleSink(`${options.id ?? component.name} (run handle)`, actor.system as AnyActorSystem, queues);
  for (const outbox of component.outboxes) {
    const queue = new MessageQueue<unknown>(outbox, (q) => setInboxOpen(sink, outbox, q.bufferedBytes < highWaterBytes && q.bufferedMessages < highWaterMessages));
    queues.set(outbox, queue);
    linkToInbox(actor, outbox, sink, outbox);
  }
  const queueOf = (box: string): MessageQueue<unknown> => {
    const queue = queues.get(box);
    if (!queue) throw new TypeError(`${component.name} has no outbox "${box}" (it has ${component.outboxes.join(', ')})`);
    return queue;
  };

  // The last terminal message the root sent on `signal`: if it carries a reason, an error ended the run.
  let terminalReason: Reason | undefined;
  if (component.outboxes.includes('signal')) {
    actor.on('signal', (event: { data?: unknown }) => {
      if (isShutdownRequest(event.data)) terminalReason = event.data.reason;
    });
  }

  let resolveDone: (result: RunResult) => void = () => {};
  const done = new Promise<RunResult>((resolve) => (resolveDone = resolve));
  let ended = false;
  /** Set by stop() or an abort, before the actor stops (its completion is reported synchronously). */
  let stopResult: RunResult | undefined;
  const end = (result: RunResult): void => {
    if (ended) return;
    ended = true;
    for (const queue of queues.values()) queue.close(result.status === 'error' ? result.reason : undefined);
    resolveDone(result);
  };

  actor.subscribe({
    complete: () => {
      if (stopResult) end(stopResult);
      else end(terminalReason ? { status: 'error', reason: terminalReason } : { status: 'done' });
    },
    error: (error) => {
      // XState leaves a failed root's children running; stop them so their sockets close.
      stopTree(actor);
      const why = reasonFromError(error);
      queues.get('signal')?.push(componentFailed(component.name, { code: why.code, message: `${component.name} failed: ${why.message}` }));
      end({ status: 'error', reason: why });
    },
  });
  const stopFor = (result: RunResult): void => {
    if (ended) return;
    stopResult = result;
    actor.stop();
    end(result);
  };
  const abortSignal = options.signal;
  const abortResult = (): RunResult => ({ status: 'stopped', reason: { code: 'ABORT_ERR', message: abortError(abortSignal!, `running ${component.name}`).message } });
  if (abortSignal?.aborted) {
    // Never started: nothing was opened, nothing needs closing.
    end(abortResult());
  } else {
    if (abortSignal) {
      const onAbort = (): void => stopFor(abortResult());
      abortSignal.addEventListener('abort', onAbort, { once: true });
      void done.then(() => abortSignal.removeEventListener('abort', onAbort));
    }
    actor.start();
  }
  const inboxes = new Set<string>(component.inboxes);

  return {
    send(box, message) {
      if (!inboxes.has(box)) throw new TypeError(`${component.name} has no inbox "${box}" (it has ${component.inboxes.join(', ')})`);
      if (ended) return false;
      deliverToInbox(actor, box, message);
      return true;
    },
    next(box, nextOptions = {}) {
      return queueOf(box).next(nextOptions) as Promise<Out[typeof box]>;
    },
    messages(box) {
      return queueOf(box) as AsyncIterable<Out[typeof box]>;
    },
    done,
    stop() {
      stopFor({ status: 'stopped' });
    },
    actor,
  };
}

// A component is a definition, not yet running: its named inboxes and outboxes, the message type of
// each, and the XState actor logic that runs it. Inside the logic an inbox delivery is the event
// `{ type: <inbox>, data }` and an outbox send is the emitted event `{ type: <outbox>, data }`.
import type { ActorLogic, AnyActorLogic, EventObject, Snapshot } from 'xstate';
import { componentLogic, type ComponentBody } from './componentLogic.js';
import { describeValue } from './messages.js';
import type { AnyActorSystem, InboxEvent, OutboxEvent } from './events.js';

/** Phantom marker carrying a box's message type. Only its type matters. */
export interface Box<T> {
  readonly __message?: T;
}

/** Declares a box that carries messages of type `T`: `inboxes: { inbox: box<Uint8Array>() }`. */
export function box<T>(): Box<T> {
  return {};
}

/** A component's boxes: box name → `box<T>()`. */
export type BoxSpec = Record<string, Box<unknown>>;
/** The message type of each box in a {@link BoxSpec}. */
export type MessagesOf<S> = { [K in keyof S]: S[K] extends Box<infer T> ? T : never };

/** How a graph describes its insides, for routing and for the inspector. */
export interface GraphLayout {
  readonly children: readonly { readonly name: string; readonly component: AnyComponent }[];
  readonly links: readonly Link[];
}

/** One linkage. `child` is an index into the graph's children or `'self'` for the graph's own box. */
export interface Link {
  readonly from: { readonly child: number | 'self'; readonly box: string };
  readonly to: { readonly child: number | 'self'; readonly box: string };
}

/** A component: a definition, not yet running (start it with `run`, or put it in a Pipeline, Graphline or server). `In`/`Out` map each inbox/outbox to its message type. */
export interface Component<In extends object, Out extends object> {
  readonly kind: 'kamaelia.component';
  readonly name: string;
  /** Inbox names (their message types are in `In`). */
  readonly inboxes: readonly string[];
  readonly outboxes: readonly string[];
  readonly logic: AnyActorLogic;
  readonly input?: unknown;
  /** Present on Pipeline/Graphline. */
  readonly graph?: GraphLayout;
  /** Type-only: the message types of the boxes. */
  readonly __types?: { readonly in: In; readonly out: Out };
}

/** Any component, whatever its boxes. */
export type AnyComponent = Component<object, object>;
/** The inbox message types of component type `C`. */
export type InboxesOf<C> = C extends Component<infer In, object> ? In : never;
/** The outbox message types of component type `C`. */
export type OutboxesOf<C> = C extends Component<object, infer Out> ? Out : never;

type LogicFor<In, Out> = ActorLogic<Snapshot<unknown>, InboxEvent<In> & EventObject, never, AnyActorSystem, OutboxEvent<Out> & EventObject>;

interface CommonOptions<IS extends BoxSpec, OS extends BoxSpec> {
  readonly name: string;
  readonly inboxes: IS;
  readonly outboxes: OS;
}

/** What {@link defineComponent} takes: a name, the boxes, and either a `body` or actor `logic`. */
export type ComponentOptions<IS extends BoxSpec, OS extends BoxSpec> = CommonOptions<IS, OS> &
  (
    | {
        /**
         * The actor logic: an XState machine (or any actor logic) whose events are the inbox events
         * and whose emitted events are the outbox events. It ends the component by finishing.
         */
        readonly logic: AnyActorLogic;
        readonly input?: unknown;
        readonly body?: never;
      }
    | {
        /** A plain body: register inbox handlers with `on`, send with `send`, end with `finish`. */
        readonly body: ComponentBody<MessagesOf<IS>, MessagesOf<OS>, undefined>;
        readonly logic?: never;
        readonly input?: never;
      }
  );

/**
 * Defines a component. The box specs give names and message types; `body` or `logic` runs it.
 * Checks that the names are sane, because a typo here is otherwise a silent unlinked box.
 *
 * @param options - the name, `inboxes`, `outboxes`, and a `body` (plain handlers) or `logic` (any XState actor logic)
 * @example
 * ```ts
 * const Upper = defineComponent({
 *   name: 'Upper',
 *   inboxes: { inbox: box<string>(), control: box<SignalMessage>() },
 *   outboxes: { outbox: box<string>(), signal: box<SignalMessage>() },
 *   body: ({ on, send, finish }) => {
 *     on('inbox', (text) => send('outbox', text.toUpperCase()));
 *     on('control', (message) => {
 *       send('signal', message);
 *       finish();
 *     });
 *   },
 * });
 * ```
 */
export function defineComponent<IS extends BoxSpec, OS extends BoxSpec>(
  options: ComponentOptions<IS, OS>,
): Component<MessagesOf<IS>, MessagesOf<OS>> {
  const inboxes = Object.keys(options.inboxes);
  const outboxes = Object.keys(options.outboxes);
  for (const name of [...inboxes, ...outboxes]) {
    if (!/^[A-Za-z_][\w-]*$/.test(name)) {
      throw new TypeError(`${options.name}: box name ${JSON.stringify(name)} must start with a letter or _ and hold only letters, digits, _ or -`);
    }
  }
  return {
    kind: 'kamaelia.component',
    name: options.name,
    inboxes,
    outboxes,
    logic: options.body ? componentLogic(options.body) : options.logic,
    input: options.input,
  };
}

/** Type-level check that a machine fits a component's boxes; returns the logic unchanged. */
export function checkedLogic<In, Out>(logic: LogicFor<In, Out>): LogicFor<In, Out> {
  return logic;
}

/**
 * True for a component made by defineComponent, Pipeline, Graphline or a factory of this package.
 * @param value - any value
 */
export function isComponent(value: unknown): value is AnyComponent {
  return value !== null && typeof value === 'object' && (value as { kind?: unknown }).kind === 'kamaelia.component';
}

export function assertComponent(value: unknown, where: string): asserts value is AnyComponent {
  if (!isComponent(value)) {
    throw new TypeError(`${where}: expected a component (made by defineComponent, Pipeline, Graphline, ...), got ${describeValue(value)}`);
  }
}

// What a server's `protocol` may return, checked by the compiler the way Pipeline and Graphline
// linkages are: the handler is wired to its connection's CSA, so its boxes must fit the CSA's.
import type { Component } from '../kernel/component.js';
import type { ProducerFinished, SignalMessage, SocketShutdown } from '../kernel/messages.js';
import type { SslReady } from '../../machines/connectedSocketAdapter.js';

/** Where a connection handler's box does not fit its connection, this stands in for the handler. */
export interface HandlerMismatch<Box extends string, Needs, Declared> {
  readonly handlerError: `the handler's "${Box}" box does not fit its connection`;
  /** What the connection sends to, or takes from, this box. */
  readonly needs: Needs;
  /** What the handler declares for it. */
  readonly declared: Declared;
}

/** The handler's inbox `Box` must accept `Sent` (when the handler has that inbox). */
type InboxFits<In, Box extends string, Sent> = Box extends keyof In ? ([Sent] extends [In[Box]] ? true : HandlerMismatch<Box, Sent, In[Box]>) : true;
/** The handler's outbox `Box` must send only what the connection takes, `Taken` (when it has that outbox). */
type OutboxFits<Out, Box extends string, Taken> = Box extends keyof Out ? ([Out[Box]] extends [Taken] ? true : HandlerMismatch<Box, Taken, Out[Box]>) : true;

/** The first problem in a list of checks, or true. */
type FirstProblem<Checks extends readonly unknown[]> = Checks extends readonly [infer Head, ...infer Rest] ? (Head extends true ? FirstProblem<Rest> : Head) : true;

/**
 * `H` itself if it can handle a connection, else a {@link HandlerMismatch} naming the box:
 * `inbox` takes the bytes the client sent (`Buffer`); `outbox` sends bytes or strings; `control`
 * takes `producerFinished`/`socketShutdown`; `signal` sends control messages; optionally `sslready`
 * takes `SslReady`, `makessl` sends anything, `serversignal` sends control messages (to stop the
 * server). Boxes a handler does not declare are not checked (a component typed `AnyComponent`
 * passes, as its types are unknown).
 */
export type CheckedHandler<H> =
  H extends Component<infer In, infer Out>
    ? FirstProblem<
        [
          InboxFits<In, 'inbox', Buffer>,
          InboxFits<In, 'control', ProducerFinished | SocketShutdown>,
          InboxFits<In, 'sslready', SslReady>,
          OutboxFits<Out, 'outbox', Uint8Array | string>,
          OutboxFits<Out, 'signal', SignalMessage>,
          OutboxFits<Out, 'serversignal', SignalMessage>,
        ]
      > extends infer Problem
      ? Problem extends true
        ? H
        : Problem
      : never
    : H;

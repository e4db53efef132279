// Typed servers: `npm run typecheck` fails if any @ts-expect-error below stops being an error, so
// each proves the compiler refuses a connection handler whose boxes do not fit its connection
// (bytes in; bytes or strings out; control messages on control/signal; the optional STARTTLS and
// serversignal boxes). The handlers that fit are built too, and must compile without complaint.
import { describe, expect, it } from 'vitest';
import {
  ChatRoom,
  ConnectedServer,
  EchoProtocol,
  FastRestartServer,
  Lines,
  Pipeline,
  SimpleServer,
  SingleServer,
  box,
  defineComponent,
  type AnyComponent,
  type ShutdownMicroprocess,
  type SignalMessage,
  type SslReady,
} from 'kamaelia-xstate';

/** A handler with the given box types; its body does nothing (these servers are never started). */
const handler = <In extends Record<string, unknown>, Out extends Record<string, unknown>>(inboxes: { [K in keyof In]: ReturnType<typeof box<In[K]>> }, outboxes: { [K in keyof Out]: ReturnType<typeof box<Out[K]>> }) =>
  defineComponent({ name: 'Handler', inboxes, outboxes, body: () => {} });

const bytesIn = { inbox: box<Uint8Array>(), control: box<SignalMessage>() };
const bytesOut = { outbox: box<Uint8Array>(), signal: box<SignalMessage>() };

describe('typed servers', () => {
  it('accepts handlers that fit a connection', () => {
    const servers = [
      ConnectedServer({ port: 0, protocol: () => EchoProtocol() }),
      ConnectedServer({ port: 0, protocol: new ChatRoom().member }),
      ConnectedServer({ port: 0, protocol: (info) => (info.peer ? EchoProtocol() : EchoProtocol()) }),
      // strings out, a Pipeline, STARTTLS boxes and serversignal
      ConnectedServer({ port: 0, protocol: () => handler({ ...bytesIn }, { outbox: box<string>(), signal: box<SignalMessage>() }) }),
      ConnectedServer({ port: 0, protocol: () => Pipeline(Lines(), handler({ inbox: box<string>(), control: box<SignalMessage>() }, bytesOut)) }),
      ConnectedServer({ port: 0, protocol: () => handler({ ...bytesIn, sslready: box<SslReady>() }, { ...bytesOut, makessl: box<string>(), serversignal: box<ShutdownMicroprocess>() }) }),
      // an inbox that takes more than bytes is fine; a factory typed AnyComponent is not checked
      ConnectedServer({ port: 0, protocol: () => handler({ inbox: box<unknown>(), control: box<unknown>() }, bytesOut) }),
      ConnectedServer({ port: 0, protocol: (): AnyComponent => EchoProtocol() }),
      SimpleServer({ port: 0, protocol: () => EchoProtocol() }),
      FastRestartServer({ port: 0, protocol: () => EchoProtocol() }),
    ];
    expect(servers.map((server) => server.outboxes)).toEqual(servers.map(() => expect.arrayContaining(['listening', 'signal'])));
  });

  it('refuses handlers that do not fit, naming the box', () => {
    const Numbers = () => handler({ inbox: box<number>(), control: box<SignalMessage>() }, bytesOut);
    // @ts-expect-error -- the handler's inbox takes numbers, the connection sends bytes
    ConnectedServer({ port: 0, protocol: () => Numbers() });
    // @ts-expect-error -- the handler's inbox takes strings (Lines would turn bytes into strings)
    ConnectedServer({ port: 0, protocol: () => handler({ inbox: box<string>(), control: box<SignalMessage>() }, bytesOut) });
    // @ts-expect-error -- the handler's outbox sends numbers, the connection writes bytes or strings
    ConnectedServer({ port: 0, protocol: () => handler(bytesIn, { outbox: box<number>(), signal: box<SignalMessage>() }) });
    // @ts-expect-error -- its control cannot take the socketShutdown the connection sends when it closes
    ConnectedServer({ port: 0, protocol: () => handler({ inbox: box<Uint8Array>(), control: box<ShutdownMicroprocess>() }, bytesOut) });
    // @ts-expect-error -- its signal sends numbers to the connection's control
    ConnectedServer({ port: 0, protocol: () => handler(bytesIn, { outbox: box<Uint8Array>(), signal: box<number>() }) });
    // @ts-expect-error -- its sslready inbox takes strings, the connection sends SslReady
    ConnectedServer({ port: 0, protocol: () => handler({ ...bytesIn, sslready: box<string>() }, bytesOut) });
    // @ts-expect-error -- its serversignal sends strings to the server's control
    ConnectedServer({ port: 0, protocol: () => handler(bytesIn, { ...bytesOut, serversignal: box<string>() }) });
    // @ts-expect-error -- a Pipeline whose first stage takes numbers
    ConnectedServer({ port: 0, protocol: () => Pipeline(Numbers(), EchoProtocol()) });
    // @ts-expect-error -- SimpleServer checks the same
    SimpleServer({ port: 0, protocol: () => Numbers() });
    // @ts-expect-error -- and FastRestartServer
    FastRestartServer({ port: 0, protocol: () => Numbers() });
    const NumberSink = () => handler({ inbox: box<number>(), control: box<SignalMessage>() }, bytesOut);
    // @ts-expect-error -- SingleServer's outbox sends bytes: a consumer of numbers cannot follow it
    Pipeline(SingleServer({ port: 0 }), NumberSink());
    expect(true).toBe(true);
  });
});

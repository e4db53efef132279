// A handler that passes the client's end on and finishes (EchoProtocol does) closes its connection
// once: the CSA is told producerFinished by the handler's signal, not again by the server when the
// handler ends. Real loopback sockets; what the CSA was sent is read from XState's inspection.
import * as net from 'node:net';
import { describe, expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { ConnectedServer, EchoProtocol, box, defineComponent, isProducerFinished, run, serverStats, type Listening, type SignalMessage } from 'kamaelia-xstate';
import { cleanupsAfterEach } from './helpers/cleanups.js';
import { until } from './server-helpers.js';

const cleanups = cleanupsAfterEach();

/** Connects, sends `text`, half-closes, and resolves with everything read until the server's FIN. */
function sendAndHalfClose(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(text));
    let got = '';
    socket.on('data', (chunk: Buffer) => (got += chunk.toString()));
    socket.on('end', () => resolve(got));
    socket.on('error', reject);
    cleanups.push(() => void socket.destroy());
  });
}

/** Records the control messages the server's CSAs are sent, from XState's inspection. */
function csaControl(): { readonly messages: unknown[]; readonly inspect: (event: InspectionEvent) => void } {
  const messages: unknown[] = [];
  return {
    messages,
    inspect: (event) => {
      if (event.type !== '@xstate.event' || event.event.type !== 'control') return;
      const snapshot = event.actorRef.getSnapshot() as { machine?: { id?: string } };
      if (snapshot.machine?.id === 'ConnectedSocketAdapter') messages.push((event.event as { data?: unknown }).data);
    },
  };
}

/** Answers the first chunk and finishes, without a word on its signal. */
const AnswerOnce = defineComponent({
  name: 'AnswerOnce',
  inboxes: { inbox: box<Uint8Array>(), control: box<SignalMessage>() },
  outboxes: { outbox: box<string>(), signal: box<SignalMessage>() },
  body: ({ on, send, finish }) => {
    on('inbox', (data) => {
      send('outbox', `got ${Buffer.from(data).toString()}`);
      finish();
    });
  },
});

describe('a handler that ends', () => {
  it('without a signal: the server closes its connection (producerFinished to the CSA, once); the client reads the answer, then EOF', async () => {
    const control = csaControl();
    const server = run(ConnectedServer({ host: '127.0.0.1', port: 0, protocol: () => AnswerOnce }), { inspect: control.inspect });
    cleanups.push(() => server.stop());
    const { port } = (await server.next('listening', { timeoutMs: 5000 })) as Listening;
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.write('x'));
      let got = '';
      socket.on('data', (chunk: Buffer) => (got += chunk.toString()));
      socket.on('end', () => resolve(got));
      socket.on('error', reject);
      cleanups.push(() => void socket.destroy());
    });
    expect(answer).toBe('got x');
    await until(() => serverStats(server.actor)?.open === 0, 'the connection to be closed');
    expect(control.messages.filter(isProducerFinished)).toHaveLength(1);
  });

  it('EchoProtocol after the client half-closed: the client gets its bytes back, then EOF; the CSA is sent producerFinished once', async () => {
    const control = csaControl();
    const server = run(ConnectedServer({ host: '127.0.0.1', port: 0, protocol: () => EchoProtocol() }), { inspect: control.inspect });
    cleanups.push(() => server.stop());
    const { port } = (await server.next('listening', { timeoutMs: 5000 })) as Listening;
    expect(await sendAndHalfClose(port, 'hello')).toBe('hello');
    // A second delivery, if there were one, would come before the connection's end is counted.
    await until(() => serverStats(server.actor)?.accepted === 1 && serverStats(server.actor)?.open === 0, 'the connection to be closed');
    expect(control.messages.filter(isProducerFinished)).toHaveLength(1);
  });
});

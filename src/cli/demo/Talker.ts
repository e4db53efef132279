// A demo client's conversation, linked to a TCPClient: sends each line and waits for its echo;
// with `startTls` it first asks the server to upgrade, sends makessl on `READY`, and talks on
// once `sslready` says the handshake is done. Then it says producerFinished, so the client
// flushes and closes, and it ends when the client's signal says the connection is gone.
import { box, defineComponent, isProducerFinished, isShutdownRequest, producerFinished, type SignalMessage } from '../../index.js';
import { lineSplitter } from './lines.js';

export interface TalkerOptions {
  readonly lines: readonly string[];
  readonly startTls?: boolean;
  /** Called with what happened, for the demo's console. */
  readonly report?: (text: string) => void;
}

export function Talker({ lines, startTls = false, report = () => {} }: TalkerOptions) {
  return defineComponent({
    name: startTls ? 'StartTlsTalker' : 'Talker',
    inboxes: { inbox: box<Uint8Array>(), control: box<SignalMessage>(), sslready: box<unknown>() },
    outboxes: { outbox: box<string>(), signal: box<SignalMessage>(), makessl: box<string>() },
    body: ({ on, send, finish }) => {
      const split = lineSplitter();
      const queue = [...lines];
      let said = false;
      const sayNext = (): void => {
        const line = queue.shift();
        if (line !== undefined) {
          send('outbox', `${line}\n`);
        } else if (!said) {
          said = true;
          send('signal', producerFinished(undefined, { source: 'Talker' }));
        }
      };
      on('inbox', (chunk) => {
        for (const line of split(chunk)) {
          if (line === 'READY') send('makessl', 'upgrade');
          else if (line.startsWith('echo: ')) sayNext();
          // `secure: yes` is the server's own note after its handshake; ours is sslready.
        }
      });
      on('sslready', () => {
        report('TLS is up');
        sayNext();
      });
      on('control', (message) => {
        if (!isProducerFinished(message) && !isShutdownRequest(message)) return;
        const why = (message as { reason?: { code?: string; message: string } }).reason;
        report(why ? `ended: ${why.code ?? ''} ${why.message}` : 'closed');
        finish();
      });
      // Speak once the graph has wired us up and started.
      const start = setImmediate(() => (startTls ? send('outbox', 'STARTTLS\n') : sayNext()));
      return () => clearImmediate(start);
    },
  });
}

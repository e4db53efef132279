// The demo server's per-connection handler: answers every line with `echo: <line>`, and on
// `STARTTLS` answers `READY` and upgrades the connection (server-side makessl), as SMTP does.
import { box, defineComponent, isShutdownRequest, isProducerFinished, type SignalMessage } from '../../index.js';
import { lineSplitter } from './lines.js';

export function EchoChat() {
  return defineComponent({
    name: 'EchoChat',
    inboxes: { inbox: box<Uint8Array>(), control: box<SignalMessage>(), sslready: box<unknown>() },
    outboxes: { outbox: box<string>(), signal: box<SignalMessage>(), makessl: box<string>() },
    body: ({ on, send, finish }) => {
      const lines = lineSplitter();
      on('inbox', (chunk) => {
        for (const line of lines(chunk)) {
          if (line === 'STARTTLS') {
            send('outbox', 'READY\n');
            send('makessl', 'upgrade');
          } else {
            send('outbox', `echo: ${line}\n`);
          }
        }
      });
      on('sslready', () => send('outbox', 'secure: yes\n'));
      on('control', (message) => {
        // The connection is gone (socketShutdown) or the server is stopping.
        if (!isShutdownRequest(message) && !isProducerFinished(message)) return;
        send('signal', message);
        finish();
      });
    },
  });
}

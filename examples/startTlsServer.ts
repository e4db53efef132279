// Server-side STARTTLS: a line protocol that starts in plain text. The client sends "STARTTLS\n",
// the server answers "GO\n" and upgrades the same connection (its handler sends makessl to its
// CSA); after sslready everything is echoed over TLS.
//   npx tsx examples/startTlsServer.ts [port]
//   then: openssl s_client -connect 127.0.0.1:1604 -starttls ... is protocol-specific, so use a
//   small node client: see test/server-tls.test.ts ('server-side STARTTLS').
import { pathToFileURL } from 'node:url';
import { generate } from 'selfsigned';
import { ConnectedServer, box, defineComponent, isShutdownRequest, run, serverShutdown, type SignalMessage } from 'kamaelia-xstate';

/** The per-connection handler: plain until STARTTLS, then TLS. */
export const StartTlsProtocol = () =>
  defineComponent({
    name: 'StartTlsProtocol',
    inboxes: { inbox: box<Uint8Array>(), control: box<SignalMessage>(), sslready: box<unknown>() },
    outboxes: { outbox: box<Uint8Array | string>(), signal: box<SignalMessage>(), makessl: box<string>() },
    body: ({ on, send, finish }) => {
      let secure = false;
      on('inbox', (data) => {
        if (!secure && Buffer.from(data).toString().trim() === 'STARTTLS') {
          send('outbox', 'GO\n'); // written in plain text before the handshake starts
          send('makessl', 'makessl');
          return;
        }
        send('outbox', secure ? data : `plain: ${Buffer.from(data).toString()}`);
      });
      on('sslready', () => (secure = true));
      on('control', (message) => {
        if (isShutdownRequest(message)) finish();
      });
    },
  });

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { private: key, cert } = await generate([{ name: 'commonName', value: 'localhost' }], { keyType: 'ec', algorithm: 'sha256' });
  const server = run(
    ConnectedServer({ host: '127.0.0.1', port: Number(process.argv[2] ?? 1604), protocol: () => StartTlsProtocol(), tls: { key, cert } }),
  );
  const { address, port } = await server.next('listening');
  console.log(`STARTTLS server on ${address}:${port}`);
  process.once('SIGINT', () => server.send('control', serverShutdown()));
  await server.done;
}

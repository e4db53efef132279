// examples/csaServer.ts: a ConnectedSocketAdapter for each socket of your own net.Server; each
// connection is a Graphline of the CSA and an EchoProtocol, so what a client sends comes back.
// npx tsx examples/csaServer.ts [port]    then: nc 127.0.0.1 1606
import { createServer } from 'node:net';
import { pathToFileURL } from 'node:url';
import { ConnectedSocketAdapter, EchoProtocol, Graphline, run } from 'kamaelia-xstate';

export const server = createServer({ allowHalfOpen: true }, (socket) => {
  const connection = run(
    Graphline(
      { csa: ConnectedSocketAdapter(socket), echo: EchoProtocol() },
      { 'csa.outbox': 'echo.inbox', 'echo.outbox': 'csa.inbox', 'csa.CreatorFeedback': 'echo.control', 'echo.signal': 'csa.control' },
    ),
  );
  void connection.done.then(({ status, reason }) => console.log(`connection ended: ${status}`, reason ?? ''));
});

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  server.listen(Number(process.argv[2] ?? 1606), '127.0.0.1', () => console.log('listening on', server.address()));
}

// `kamaelia-xstate serve port`: an echo or chat server (ConnectedServer) until Ctrl-C / SIGTERM,
// which stops it gracefully. Prints where it listens; exit 1 with the reason when it cannot bind.
import { readFileSync } from 'node:fs';
import { ConnectedServer } from '../chassis/ConnectedServer.js';
import { ChatRoom } from '../components/ChatRoom.js';
import { EchoProtocol } from '../components/EchoProtocol.js';
import { serverShutdown } from '../kernel/messages.js';
import { run } from '../kernel/run.js';
import { createInspector, type Inspector } from '../../inspector/index.js';
import { fail, parseCommand, portArgument, UsageError } from './command.js';

export const serveUsage = `usage: kamaelia-xstate serve <port> [options]
  Runs a server on <port> (0: any free port) until Ctrl-C.
  --echo              send back what each client sends (the default)
  --chat              each line a client sends goes to every other client
  --host <addr>       address to listen on (default 127.0.0.1; 0.0.0.0 or :: for every interface)
  --tls-key <file>    with --tls-cert: TLS from the first byte, with this private key (PEM)
  --tls-cert <file>   and this certificate (PEM)
  --inspect           start the inspector and print its URL
  -h, --help          this help
Prints "listening on <address>:<port>" once bound. Exit code: 0 after Ctrl-C/SIGTERM, 1 when it
cannot listen (reason on stderr), 2 bad arguments.`;

function readPem(option: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    fail('serve', { code: (error as { code?: string }).code, message: `cannot read ${option} ${file}: ${(error as Error).message}` });
  }
}

export async function serve(args: string[]): Promise<void> {
  const { values, positionals } = parseCommand(
    args,
    {
      echo: { type: 'boolean' },
      chat: { type: 'boolean' },
      host: { type: 'string', default: '127.0.0.1' },
      'tls-key': { type: 'string' },
      'tls-cert': { type: 'string' },
      inspect: { type: 'boolean' },
    },
    serveUsage,
  );
  const [portText, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
  const port = portArgument(portText, true);
  if (values.echo && values.chat) throw new UsageError('choose one of --echo and --chat');
  const keyFile = values['tls-key'];
  const certFile = values['tls-cert'];
  if ((keyFile === undefined) !== (certFile === undefined)) throw new UsageError('--tls-key and --tls-cert go together');
  const tls = typeof keyFile === 'string' && typeof certFile === 'string' ? { secure: true, key: readPem('--tls-key', keyFile), cert: readPem('--tls-cert', certFile) } : undefined;
  const room = values.chat ? new ChatRoom() : undefined;

  let inspector: Inspector | undefined;
  if (values.inspect) {
    inspector = await createInspector();
    console.log(`inspector: ${inspector.url}`);
  }
  let server;
  try {
    server = run(
      ConnectedServer({ host: values.host as string, port, protocol: room ? room.member : () => EchoProtocol(), ...(tls ? { tls } : {}) }),
      inspector ? { inspect: inspector.inspect, id: 'server' } : { id: 'server' },
    );
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const stop = (): void => void server.send('control', serverShutdown());
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  void server.next('listening').then(
    ({ address, port: bound }) => console.log(`${room ? 'chat' : 'echo'} server${tls ? ' (TLS)' : ''} listening on ${address.includes(':') ? `[${address}]` : address}:${bound}`),
    () => {},
  );
  const result = await server.done;
  if (inspector) await inspector.close();
  if (result.status === 'error') fail('serve', result.reason ?? { message: 'the server failed' });
  process.exit(0);
}

// `kamaelia-xstate connect host port`: netcat over a TCPClient. stdin goes to the server, what the
// server sends goes to stdout; end of stdin closes our side gracefully. Exit 0 when the connection
// ends cleanly, 1 with the reason on stderr when it fails (refused, reset, TLS, timeout).
import { readFileSync } from 'node:fs';
import { TCPClient } from '../internet/TCPClient.js';
import { toDuplex } from '../components/toDuplex.js';
import { createInspector, type Inspector } from '../../inspector/index.js';
import { fail, parseCommand, portArgument, UsageError } from './command.js';

export const connectUsage = `usage: kamaelia-xstate connect <host> <port> [options]
  Copies stdin to a TCP connection and the connection to stdout (like netcat).
  --tls             TLS from the start; the server's certificate is verified
  --ca <file>       trust this CA certificate (PEM) for --tls, e.g. a self-signed server's
  --servername <n>  the name to verify the certificate against (default: host)
  --inspect         start the inspector and print its URL on stderr
  -h, --help        this help
Exit code: 0 when the connection ends cleanly, 1 when it fails (reason on stderr), 2 bad arguments.`;

export async function connect(args: string[]): Promise<void> {
  const { values, positionals } = parseCommand(
    args,
    { tls: { type: 'boolean' }, ca: { type: 'string' }, servername: { type: 'string' }, inspect: { type: 'boolean' } },
    connectUsage,
  );
  const [host, portText, ...extra] = positionals;
  if (host === undefined) throw new UsageError('missing host');
  if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
  const port = portArgument(portText, false);
  if (values.ca && !values.tls) throw new UsageError('--ca goes with --tls');
  let ca: string | undefined;
  if (typeof values.ca === 'string') {
    try {
      ca = readFileSync(values.ca, 'utf8');
    } catch (error) {
      fail('connect', { code: (error as { code?: string }).code, message: `cannot read --ca ${values.ca}: ${(error as Error).message}` });
    }
  }
  let client;
  try {
    client = TCPClient(host, port, {
      ...(values.tls ? { secure: true, tls: { ...(ca ? { ca } : {}), ...(typeof values.servername === 'string' ? { servername: values.servername } : {}) } } : {}),
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  let inspector: Inspector | undefined;
  if (values.inspect) {
    inspector = await createInspector();
    process.stderr.write(`inspector: ${inspector.url}\n`);
  }
  const connection = toDuplex(client, inspector ? { inspect: inspector.inspect } : {});
  const finish = async (code: number, reason?: { code?: string; message: string }): Promise<never> => {
    process.stdin.unpipe(connection);
    if (inspector) await inspector.close();
    if (reason) fail('connect', reason);
    process.exit(code);
  };
  connection.on('end', () => void finish(0));
  connection.on('error', (error: Error & { code?: string }) => void finish(1, { code: error.code, message: error.message }));
  connection.pipe(process.stdout, { end: false });
  process.stdin.pipe(connection);
}

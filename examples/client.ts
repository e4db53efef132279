// examples/client.ts: connect, send a line, print the reply, close.
// npx tsx examples/client.ts [host port]     (a server to try: npx tsx examples/echoServer.ts)
import { TCPClient, producerFinished, run } from 'kamaelia-xstate';

const [host = '127.0.0.1', port = '1601'] = process.argv.slice(2);
const client = run(TCPClient(host, Number(port)));
client.send('inbox', 'hello\n'); // queued until connected
console.log(String(await client.next('outbox'))); // the first reply; rejects with the code (ECONNREFUSED, ...) if it fails
client.send('control', producerFinished()); // write what is queued, then FIN, then wait for the server's
console.log(await client.done); // { status: 'done' }

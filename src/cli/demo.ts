// `npm start`: a small real demo. For now a Pipeline and a Graphline on the console; it grows into
// the loopback server/client demo with the inspector attached.
import { parseArgs } from 'node:util';
import { ConsoleEchoer, DataSource, Graphline, OneShot, Pipeline, run } from '../index.js';

const { values } = parseArgs({ options: { duration: { type: 'string' } }, allowPositionals: false });
void values.duration;

const pipeline = run(Pipeline(DataSource(['hello ', 'from ', 'a ', 'Pipeline\n']), ConsoleEchoer()));
await pipeline.done;
const graphline = run(
  Graphline(
    { greeting: OneShot('and hello from a Graphline\n'), echo: ConsoleEchoer() },
    { 'greeting.outbox': 'echo.inbox', 'greeting.signal': 'echo.control' },
  ),
);
console.log('end signal:', await graphline.next('signal'));

// examples/pipeline.ts: outbox → inbox and signal → control down the chain; ends when every child has.
import { ConsoleEchoer, DataSource, Pipeline, run } from 'kamaelia-xstate';

const pipeline = run(Pipeline(DataSource(['hello ', 'world\n']), ConsoleEchoer()));
console.log(await pipeline.done); // { status: 'done' }

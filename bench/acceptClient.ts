// A benchmark client process: `node bench/acceptClient.js`, forked by bench/clientProcesses.ts.
// bench/index.ts runs several of these so that the accept workload's client side has more than one
// core's worth of CPU to spend and the server, not the client, is the limit. Each runs accept loops
// on command and reports its counters and its own CPU time when asked.
import type { ClientReply, ClientRequest, ClientSample } from './ipc.js';
import { startAcceptLoops, type AcceptLoops } from './workloads/acceptRate.js';

function reply(message: ClientReply): void {
  process.send?.(message);
}

let loops: AcceptLoops | undefined;
const sample = (): ClientSample => {
  const { user, system } = process.cpuUsage();
  return { completed: loops?.completed() ?? 0, errors: loops?.errors() ?? 0, cpuMicros: user + system, nanos: Number(process.hrtime.bigint()) };
};

process.on('message', (request: ClientRequest) => {
  if (request.cmd === 'start') {
    if (loops) {
      reply({ type: 'failed', message: 'accept loops are already running' });
      return;
    }
    loops = startAcceptLoops(request.host, request.port, request);
    reply({ type: 'started', id: request.id });
  } else if (request.cmd === 'sample') {
    reply({ type: 'sample', id: request.id, sample: sample() });
  } else if (request.cmd === 'stop') {
    const running = loops;
    void (running?.stop() ?? Promise.resolve()).then(() => {
      const last = sample();
      loops = undefined;
      reply({ type: 'stopped', id: request.id, sample: last });
    });
  } else if (request.cmd === 'exit') {
    process.exit(0);
  }
});
// If the bench dies, do not linger.
process.on('disconnect', () => process.exit(0));
if (!process.send) {
  console.error('bench/acceptClient runs as a forked child of bench/index.ts');
  process.exit(2);
}
reply({ type: 'ready' });

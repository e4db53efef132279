// The floor an XState actor per connection sets: the raw node:net echo server, plus for each
// connection one bare machine actor (a child of one root, created and started on accept, sent one event when the socket
// closes, which takes it to its final state), and nothing else of the library. Ours against this
// in one run (`npm run bench -- --ours=floor`, beside a run with ours) splits ours' cost over raw
// into what XState itself costs and what the library's own glue does.
import { createActor, setup } from 'xstate';
import type { EchoServer } from './EchoServer.js';
import { serve } from './rawEchoServer.js';

const connectionMachine = setup({
  types: {} as { context: { id: number }; input: { id: number }; events: { type: 'closed' } },
}).createMachine({
  context: ({ input }) => ({ id: input.id }),
  initial: 'open',
  states: {
    open: { on: { closed: 'closed' } },
    closed: { type: 'final' },
  },
});

// One actor system for all of them, as ours' CSAs share the server's: a root actor would make a
// system (its maps and scheduler) per connection.
const root = createActor(setup({}).createMachine({})).start();

export function startFloorEchoServer(host: string): Promise<EchoServer> {
  let nextId = 0;
  return serve(host, (socket) => {
    const actor = createActor(connectionMachine, { parent: root, input: { id: nextId++ } }).start();
    socket.on('close', () => actor.send({ type: 'closed' }));
    socket.pipe(socket);
  });
}

// examples/greeterServer.test.ts: the greeter's machine is its own test plan, run over real sockets.
import { afterAll, it } from 'vitest';
import { ConnectedServer, run, socketShutdown } from 'kamaelia-xstate';
import { assertFullCoverage, createTestModel, rawClient, watchActors } from 'kamaelia-xstate/testing';
import { Greeter, greeterMachine } from './greeterServer.js';

const model = createTestModel(greeterMachine, {
  input: { idleMs: 1000 },
  events: [...['NAME ada', 'hi', 'QUIT'].map((data) => ({ type: 'inbox', data })), { type: 'control', data: socketShutdown() }],
});
const handlers = watchActors(greeterMachine); // finds each connection's greeter actor
const server = run(ConnectedServer({ host: '127.0.0.1', port: 0, protocol: () => Greeter({ idleMs: 1000 }) }), { inspect: handlers.inspect });
const { port } = await server.next('listening');
afterAll(() => server.stop());

for (const path of model.getTransitionPaths()) {
  it(path.description, async () => {
    const client = await rawClient(port);
    await path.test({
      start: () => handlers.next(), // after each step, the real actor must be in the step's state
      events: {
        inbox: (step) => client.write(`${step.event.data}\r\n`),
        control: () => client.reset(), // the connection goes away: the handler gets socketShutdown
      },
    });
    client.reset();
  });
}

it('the paths covered every state and transition', () => assertFullCoverage(model.getCoverage()));

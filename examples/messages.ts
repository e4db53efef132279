// examples/messages.ts: control and signal messages are plain objects tagged by `kind`; the
// predicates know Kamaelia's subclassing and never throw; an error travels as `reason`.
import { TCPClient, isProducerFinished, isShutdownMicroprocess, run, serverShutdown, socketShutdown } from 'kamaelia-xstate';

console.log(isProducerFinished(socketShutdown()), isShutdownMicroprocess(serverShutdown())); // true true

// A client whose connection is refused ends with one producerFinished carrying the reason.
const client = run(TCPClient('127.0.0.1', 1)); // port 1: nothing listens there
const end = await client.next('signal');
console.log(end.kind === 'producerFinished' ? end.reason?.code : end.kind); // ECONNREFUSED
console.log(await client.done); // { status: 'error', reason: { code: 'ECONNREFUSED', message: ... } }

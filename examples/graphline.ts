// examples/graphline.ts: named children, linkages written 'child.box': 'child.box'.
import { ConsoleEchoer, Graphline, OneShot, run } from 'kamaelia-xstate';

const graphline = run(
  Graphline(
    { greeting: OneShot('hi\n'), echo: ConsoleEchoer() },
    { 'greeting.outbox': 'echo.inbox', 'greeting.signal': 'echo.control' },
  ),
);
console.log(await graphline.next('signal')); // the Graphline's own producerFinished, once both children have ended

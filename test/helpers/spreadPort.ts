// A free loopback port picked at random in 10000-19999: below the kernel's ephemeral range (no
// client socket takes it meanwhile, e.g. while a backend restarts) and apart from the blocks
// freePort() hands out in the same order in every test process (other files, other checkouts on
// one machine), which made two processes race for the same port now and then.
import { canBind } from '../server-helpers.js';

export async function spreadPort(taken: Set<number> = new Set()): Promise<number> {
  for (let tries = 0; tries < 100; tries++) {
    const port = 10_000 + Math.floor(Math.random() * 10_000);
    if (taken.has(port) || !(await canBind(port))) continue;
    taken.add(port);
    return port;
  }
  throw new Error('no free port in 10000-19999');
}

// Per-test cleanup: push what a test opened (servers, clients, child processes); it is closed
// after the test, pass or fail, in the order it was pushed.
import { afterEach } from 'vitest';

export type Cleanup = () => Promise<void> | void;

export function cleanupsAfterEach(): Cleanup[] {
  const cleanups: Cleanup[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });
  return cleanups;
}

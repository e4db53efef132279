// The model-based tests of server are test/models/server.ts, loaded here so that a machine that fails to
// load or to walk fails a test: a file whose import throws has no tests, which StrykerJS's vitest
// runner counts as passing (npm run mutation).
import { it } from 'vitest';

await import('./models/server.js').catch((error: unknown) => {
  it('loads and walks the machine', () => {
    throw error;
  });
});

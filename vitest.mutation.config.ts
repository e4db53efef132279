// The model-based test files only, for `npm run mutation` (stryker.config.mjs): the one that walks
// the machine being mutated (MACHINE). (TCPClient's model also runs the CSA machine as its child;
// the CSA's mutants are measured against the CSA's own model test alone.)
import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

const FILES: Record<string, string[]> = {
  tcpServer: ['test/server-model.test.ts'],
  connectedSocketAdapter: ['test/csa-model.test.ts'],
  tcpClient: ['test/client-model.test.ts'],
};

export default defineConfig({
  // The package's entry points as the main config resolves them.
  resolve: base.resolve,
  test: {
    include: FILES[process.env.MACHINE ?? ''] ?? ['test/client-model.test.ts', 'test/csa-model.test.ts', 'test/server-model.test.ts'],
    // A path takes well under 2 s; a mutant that hangs one fails here rather than at Stryker's timeout.
    testTimeout: 10_000,
    hookTimeout: 10_000,
    // Stryker runs two of these side by side on a 2-core machine.
    maxWorkers: 1,
    // Stryker needs a green dry run; on a loaded machine one TLS path is flaky (a peer's RST after a
    // TLS handshake is sometimes reported as a clean close: reported to the machines' owner). A
    // mutant's kill fails every try.
    retry: 1,
  },
});

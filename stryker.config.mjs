// Mutation testing of the machines (issue 19): StrykerJS 9.6 (10.x needs Node 22) mutates a
// lifecycle machine and runs only the model-based test files that walk it, so the score says how
// much of the machine's behaviour the model tests (the walk plus the library's contract as an
// oracle) pin down.
//   npm run mutation                      every machine, one after another (see package.json)
//   MACHINE=tcpServer npx stryker run     one machine: tcpServer, connectedSocketAdapter, tcpClient
// Reports: reports/mutation/<machine>.html and .json. Not part of .ci/run: too slow for every
// submission (tens of minutes on 2 shared cores). docs/testing.md has the latest summary.
const machine = process.env.MACHINE ?? 'tcpServer';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  // vitest.mutation.config.ts picks the model test files for MACHINE.
  vitest: { configFile: 'vitest.mutation.config.ts' },
  mutate: [`machines/${machine}.ts`],
  // A machine is mostly configuration evaluated at import, so nearly every mutant is "static": it
  // runs all of its model tests. Two workers on a 2-core machine.
  concurrency: 2,
  coverageAnalysis: 'all',
  timeoutMS: 5_000,
  timeoutFactor: 1.25,
  // Not incremental: the model suites live in test/models/ (loaded by the *-model.test.ts files), so
  // Stryker cannot see that they changed and would reuse stale survivors.
  incremental: false,
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: `reports/mutation/${machine}.json` },
  htmlReporter: { fileName: `reports/mutation/${machine}.html` },
  tempDirName: `.stryker-tmp/${machine}`,
  // Not copied into the sandbox: other machines' runs, reports, build output.
  ignorePatterns: ['.stryker-tmp', 'reports', 'docs/api', 'dist', 'dist-bench', 'test/artifacts'],
  cleanTempDir: 'always',
  thresholds: { high: 90, low: 80, break: null },
};

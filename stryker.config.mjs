// Mutation testing of the machines (issue 19): StrykerJS 9.6 (10.x needs Node 22) mutates
// machines/*.ts and runs only the model-based test files, so the score says how much of the
// machines' behaviour the model tests (the walk plus the contract oracle) pin down.
//   npm run mutation            (about 30-60 min on 2 shared cores; reports in reports/mutation/)
// Not part of .ci/run: too slow for every submission. docs/testing.md has the latest summary.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'vitest.mutation.config.ts' },
  // The three lifecycle machines the model tests walk (selector, graphSupervisor have no model test).
  mutate: ['machines/tcpClient.ts', 'machines/connectedSocketAdapter.ts', 'machines/tcpServer.ts'],
  // The machines are mostly configuration evaluated at import, so nearly every mutant is "static":
  // it runs every model test file. Two workers on a 2-core machine.
  concurrency: 2,
  ignoreStatic: false,
  coverageAnalysis: 'all',
  timeoutMS: 5_000,
  timeoutFactor: 1.25,
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  thresholds: { high: 90, low: 80, break: null },
};

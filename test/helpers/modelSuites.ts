// The model tests' shape: first a case requiring that the walk itself reaches every state and
// transition of the machine but the named exclusions (cheap: a machine change that drops one
// fails here at once), then the contract's scenarios, then one vitest case per shortest,
// transition and simple path (each run once), then a case requiring that the executed paths
// covered the same.
import { describe, it } from 'vitest';
import { assertFullCoverage, formatCoverage, type TestModel, type TestPath } from 'kamaelia-xstate/testing';

/**
 * Scenarios: step sequences the library's contract says must be possible, by step description
 * (`after drainTimeout`, `control (serverShutdown)`). Each must be a path of the walk (a machine that
 * lost one fails here, where the walk alone would just have fewer paths) and passes like any path.
 */
export type Scenarios = Readonly<Record<string, readonly string[]>>;

export function describeModelPaths(name: string, model: TestModel, runPath: (path: TestPath) => Promise<void>, except: readonly string[], scenarios: Scenarios = {}): void {
  describe(`${name} model walk`, () => {
    it(`the walk reached every state and transition of ${model.machine.id} but the excluded ones`, () => {
      assertFullCoverage(model.getCoverage({ walked: true }), { machine: model.machine.id, except });
    });
  });
  if (Object.keys(scenarios).length) describe(`${name} contract scenarios`, () => {
    for (const [scenario, steps] of Object.entries(scenarios)) {
      it(scenario, async () => {
        const [path] = model.getPathsFromEvents(steps.map((type) => ({ type })));
        await runPath(path!);
      });
    }
  });
  const seen = new Set<string>();
  const suites: [string, TestPath[]][] = [
    ['shortest paths', model.getShortestPaths()],
    ['transition paths', model.getTransitionPaths()],
    ['simple paths', model.getSimplePaths()],
  ];
  for (const [kind, all] of suites) {
    const paths = all.filter((path) => !seen.has(path.description) && seen.add(path.description));
    if (paths.length === 0) continue;
    describe(`${name} model (${kind})`, () => {
      for (const path of paths) it(path.description, () => runPath(path));
    });
  }
  describe(`${name} model coverage`, () => {
    it(`the executed paths covered every state and transition of ${model.machine.id} but the excluded ones`, () => {
      const coverage = model.getCoverage();
      console.log(formatCoverage(coverage));
      assertFullCoverage(coverage, { machine: model.machine.id, except });
    });
  });
}

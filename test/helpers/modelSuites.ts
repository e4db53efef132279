// The model tests' shape: first a case requiring that the walk itself reaches every state and
// transition of the machine but the named exclusions (cheap: a machine change that drops one
// fails here at once), then one vitest case per shortest, transition and simple path (each run
// once), then a case requiring that the executed paths covered the same.
import { describe, it } from 'vitest';
import { assertFullCoverage, formatCoverage, type TestModel, type TestPath } from 'kamaelia-xstate/testing';

export function describeModelPaths(name: string, model: TestModel, runPath: (path: TestPath) => Promise<void>, except: readonly string[]): void {
  describe(`${name} model walk`, () => {
    it(`the walk reached every state and transition of ${model.machine.id} but the excluded ones`, () => {
      assertFullCoverage(model.getCoverage({ walked: true }), { machine: model.machine.id, except });
    });
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

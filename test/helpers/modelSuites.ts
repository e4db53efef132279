// The model tests' shape: one vitest case per shortest, simple and transition path (each run once),
// then a case requiring 100% coverage of the machine but the named exclusions.
import { describe, it } from 'vitest';
import { assertFullCoverage, formatCoverage, type TestModel, type TestPath } from 'kamaelia-xstate/testing';

export function describeModelPaths(name: string, model: TestModel, runPath: (path: TestPath) => Promise<void>, except: readonly string[]): void {
  const seen = new Set<string>();
  const suites: [string, TestPath[]][] = [
    ['shortest paths', model.getShortestPaths()],
    ['simple paths', model.getSimplePaths()],
    ['transition paths', model.getTransitionPaths()],
  ];
  for (const [kind, paths] of suites) {
    describe(`${name} model (${kind})`, () => {
      for (const path of paths) {
        if (seen.has(path.description)) continue;
        seen.add(path.description);
        it(path.description, () => runPath(path));
      }
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

// Inspectors and scratch directories for the inspector tests: made by a test, closed and removed
// after it, pass or fail.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { createInspector, type Inspector } from 'kamaelia-xstate';

export interface InspectorScope {
  /** An inspector flushing every 20 ms (unless `options` says otherwise), closed after the test. */
  open(options?: Parameters<typeof createInspector>[0]): Promise<Inspector>;
  /** A fresh temporary directory named `prefix…`, removed after the test. */
  scratch(prefix: string): string;
}

export function inspectorsAfterEach(): InspectorScope {
  const opened: Inspector[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((inspector) => inspector.close()));
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return {
    open: async (options = {}) => {
      const inspector = await createInspector({ flushIntervalMs: 20, ...options });
      opened.push(inspector);
      return inspector;
    },
    scratch: (prefix) => {
      const dir = mkdtempSync(join(tmpdir(), prefix));
      dirs.push(dir);
      return dir;
    },
  };
}

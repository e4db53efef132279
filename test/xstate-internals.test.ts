// The XState internals we use are checked when the library loads (src/kernel/xstateInternals.ts):
// if an XState upgrade changed one, importing fails with the version and the internal named.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { createActor, fromTransition } from 'xstate';
import { checkInternals } from '../src/kernel/xstateInternals.js';

const version = (createRequire(import.meta.url)('xstate/package.json') as { version: string }).version;

function probe(): { proto: Record<string, unknown> } {
  const actor = createActor(fromTransition((n: number) => n, 0));
  return { proto: Object.getPrototypeOf(actor) as Record<string, unknown> };
}

describe('XState internals, checked at load', () => {
  it('pass on the installed XState', () => {
    expect(() => checkInternals()).not.toThrow();
  });

  it('a missing internal fails loudly, naming the XState version and the internal', () => {
    const { proto } = probe();
    const stop = proto._stop;
    delete proto._stop;
    try {
      expect(() => checkInternals()).toThrow(`the installed XState ${version} changed Actor._stop()`);
    } finally {
      proto._stop = stop;
    }
    expect(() => checkInternals()).not.toThrow();
  });

  it('an internal that changed what it does fails too (emit that no longer reaches listeners)', () => {
    const { proto } = probe();
    const original = Object.getOwnPropertyDescriptor(proto, 'on');
    // Listeners registered with on() never hear what _actorScope.emit sends.
    proto.on = function () {
      return { unsubscribe() {} };
    };
    try {
      expect(() => checkInternals()).toThrow(/XState \d+\.\d+\.\d+ changed Actor\._actorScope\.emit \(listeners from actor\.on\)/);
    } finally {
      Object.defineProperty(proto, 'on', original!);
    }
  });
});

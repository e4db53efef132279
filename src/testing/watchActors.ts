// Finds the real actors running a machine inside a running program (a server's per-connection
// handler has no handle of its own): pass `inspect` to run() and take them as they start. What each
// puts on its boxes is recorded from its creation, for path.test()'s outputs.
import type { AnyActorRef, AnyStateMachine, InspectionEvent } from 'xstate';
import { recordOutputs } from './outputs.js';

/** The actors seen running one machine; see watchActors. */
export interface ActorWatch {
  /** Give this to run(component, { inspect }) (or createActor's `inspect`). */
  readonly inspect: (event: InspectionEvent) => void;
  /** Every actor seen running the machine, in start order. */
  readonly actors: readonly AnyActorRef[];
  /** The next actor not yet handed out; rejects after `timeoutMs` (default 5000). */
  next(timeoutMs?: number): Promise<AnyActorRef>;
}

/** Watches for actors running `machine` (or a machine.provide() of it). */
export function watchActors(machine: AnyStateMachine): ActorWatch {
  const actors: AnyActorRef[] = [];
  const waiting: ((ref: AnyActorRef) => void)[] = [];
  let handedOut = 0;
  return {
    actors,
    inspect: (event) => {
      if (event.type !== '@xstate.actor') return;
      const ref = event.actorRef as AnyActorRef;
      if ((ref as { logic?: { config?: unknown } }).logic?.config !== machine.config || actors.includes(ref)) return;
      actors.push(ref);
      // Seen at creation, before it starts: path.test() then sees everything it sends.
      recordOutputs(ref, true);
      const waiter = waiting.shift();
      if (waiter) {
        handedOut++;
        waiter(ref);
      }
    },
    next: (timeoutMs = 5000) => {
      if (actors.length > handedOut) return Promise.resolve(actors[handedOut++]!);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`watchActors: no new ${machine.id} actor within ${timeoutMs} ms`)), timeoutMs);
        waiting.push((ref) => {
          clearTimeout(timer);
          resolve(ref);
        });
      });
    },
  };
}

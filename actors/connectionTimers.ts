// The timeouts a connection's machine asks for (the CSA's close, half-open and TLS handshake
// timeouts), as plain timers owned by the connection's I/O and delivered to the machine as events,
// not XState delayed events. XState stops every actor by scanning every delayed event in its system
// (scheduler.cancelAll), so thousands of connections each holding one made closing them all
// quadratic. A connection holds its timers here only while one runs (nothing while idle).
import type { AnyActorRef } from 'xstate';
import { findRecord, recordOf } from '../src/kernel/actorRecord.js';

declare module '../src/kernel/actorRecord.js' {
  interface ActorRecord {
    /** The connection timers running for it, by event (actors/connectionTimers.ts). */
    timers?: Map<string, NodeJS.Timeout>;
  }
}

/** Sends `{ type: event }` to `ref` after `ms`, replacing a timer for the same event. */
export function startTimer(ref: AnyActorRef, event: string, ms: number): void {
  const record = recordOf(ref);
  let timers = record.timers;
  if (!timers) record.timers = timers = new Map();
  else clearTimeout(timers.get(event));
  timers.set(
    event,
    setTimeout(() => {
      const live = record.timers;
      live?.delete(event);
      if (live?.size === 0) record.timers = undefined;
      ref.send({ type: event });
    }, ms),
  );
}

/** Cancels `ref`'s timer for `event`, if one runs. */
export function cancelTimer(ref: AnyActorRef, event: string): void {
  const record = findRecord(ref);
  const timers = record?.timers;
  if (!record || !timers) return;
  clearTimeout(timers.get(event));
  timers.delete(event);
  if (timers.size === 0) record.timers = undefined;
}

/** Cancels every timer of `ref`: it has ended or is being stopped. */
export function cancelTimers(ref: AnyActorRef): void {
  const record = findRecord(ref);
  const timers = record?.timers;
  if (!record || !timers) return;
  record.timers = undefined;
  for (const timer of timers.values()) clearTimeout(timer);
}

/** How many timers `ref` has running (for tests). */
export function runningTimers(ref: AnyActorRef): number {
  return findRecord(ref)?.timers?.size ?? 0;
}

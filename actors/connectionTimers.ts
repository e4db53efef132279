// The timeouts a connection's machine asks for (the CSA's close, half-open and TLS handshake
// timeouts), as plain timers owned by the connection's I/O and delivered to the machine as events,
// not XState delayed events. XState stops every actor by scanning every delayed event in its system
// (scheduler.cancelAll), so thousands of connections each holding one made closing them all
// quadratic. A connection holds its timers here only while one runs (nothing while idle).
import type { AnyActorRef } from 'xstate';

const timersOf = new WeakMap<AnyActorRef, Map<string, NodeJS.Timeout>>();

/** Sends `{ type: event }` to `ref` after `ms`, replacing a timer for the same event. */
export function startTimer(ref: AnyActorRef, event: string, ms: number): void {
  let timers = timersOf.get(ref);
  if (!timers) timersOf.set(ref, (timers = new Map()));
  else clearTimeout(timers.get(event));
  timers.set(
    event,
    setTimeout(() => {
      const live = timersOf.get(ref);
      live?.delete(event);
      if (live?.size === 0) timersOf.delete(ref);
      ref.send({ type: event });
    }, ms),
  );
}

/** Cancels `ref`'s timer for `event`, if one runs. */
export function cancelTimer(ref: AnyActorRef, event: string): void {
  const timers = timersOf.get(ref);
  if (!timers) return;
  clearTimeout(timers.get(event));
  timers.delete(event);
  if (timers.size === 0) timersOf.delete(ref);
}

/** Cancels every timer of `ref`: it has ended or is being stopped. */
export function cancelTimers(ref: AnyActorRef): void {
  const timers = timersOf.get(ref);
  if (!timers) return;
  timersOf.delete(ref);
  for (const timer of timers.values()) clearTimeout(timer);
}

/** How many timers `ref` has running (for tests). */
export function runningTimers(ref: AnyActorRef): number {
  return timersOf.get(ref)?.size ?? 0;
}

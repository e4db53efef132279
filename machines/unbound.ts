// The machines stay pure (nothing of the world on import): each names the I/O actors and the
// actions that touch routing or sockets, and the library's component provides the real ones
// (machine.provide). Until then these stand-ins fail loudly, saying what to use.
import { fromCallback, type EventObject } from 'xstate';

/** A stand-in for an I/O actor `machine` invokes; starting it throws, naming what provides it. */
export function unboundActor<TReceive extends EventObject, TInput = unknown>(machine: string, actor: string, use: string) {
  return fromCallback<TReceive, TInput>(() => {
    throw new Error(`${machine} needs its ${actor} actor: ${use}`);
  });
}

/** A stand-in for an action that reaches outside the machine; running it throws, naming what provides it. */
export function unboundAction(machine: string, action: string, use: string) {
  return (): never => {
    throw new Error(`${machine} needs its ${action} action: ${use}`);
  };
}

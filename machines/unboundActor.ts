// The machines stay pure (no I/O on import): each names the I/O actor it invokes, and the library's
// component provides the real one. Until then this stand-in fails loudly, saying what to use.
import { fromCallback, type EventObject } from 'xstate';

export function unboundActor<TReceive extends EventObject, TInput = unknown>(machine: string, actor: string, use: string) {
  return fromCallback<TReceive, TInput>(() => {
    throw new Error(`${machine} needs its ${actor} actor: ${use}`);
  });
}

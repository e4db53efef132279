// Stream adapters attach a few listeners and must take exactly those off again when they end.
import type { EventEmitter } from 'node:events';

/** Adds each handler to `emitter`; returns a function that removes them all. */
export function listenTo(emitter: EventEmitter, handlers: Record<string, (...args: never[]) => void>): () => void {
  const entries = Object.entries(handlers) as [string, (...args: unknown[]) => void][];
  for (const [event, handler] of entries) emitter.on(event, handler);
  return () => {
    for (const [event, handler] of entries) emitter.off(event, handler);
  };
}

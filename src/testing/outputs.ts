// What a real component put on its boxes (its XState emits: outbox sends, including those routing
// makes on its behalf), recorded per actor. watchActors records from the actor's creation, so a
// greeting sent on entry is seen; otherwise path.test() records from when `start` returns.
import type { AnyActorRef, EventObject } from 'xstate';

/** One message a component put on one of its boxes. */
export interface BoxMessage {
  readonly box: string;
  readonly data: unknown;
}

/** Every message an actor put on its boxes, in order. */
export interface OutputRecord {
  readonly messages: BoxMessage[];
  /** True when recording began before the actor started (nothing it sent is missing). */
  readonly fromStart: boolean;
}

const records = new WeakMap<AnyActorRef, OutputRecord>();

/** Records what `ref` puts on its boxes from now on (once per actor; later calls return the same record). */
export function recordOutputs(ref: AnyActorRef, fromStart = false): OutputRecord {
  const known = records.get(ref);
  if (known) return known;
  const record: OutputRecord = { messages: [], fromStart };
  ref.on('*', (event: EventObject) => void record.messages.push({ box: event.type, data: (event as { data?: unknown }).data }));
  records.set(ref, record);
  return record;
}

/** The messages by box, as path.test() checks see them. */
export function byBox(messages: readonly BoxMessage[]): Record<string, unknown[]> {
  const boxes: Record<string, unknown[]> = {};
  for (const { box, data } of messages) (boxes[box] ??= []).push(data);
  return boxes;
}

/** How output conformance names a message: its box, and its `kind` when it has one (`signal:producerFinished`). */
export function outputLabel(box: string, data: unknown): string {
  const kind = typeof data === 'object' && data !== null ? (data as { kind?: unknown }).kind : undefined;
  return typeof kind === 'string' ? `${box}:${kind}` : box;
}

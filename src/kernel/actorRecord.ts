// One record per running actor: everything the library keeps about it (its component, children,
// links and passthroughs, inbox gates, the receiver that takes its messages at once, and what the
// I/O layers add: timers, server counters) in one object hung on the actor itself, so a debugger
// shows it on the actor and a lookup is a property read, not a search of a dozen side tables.
//
// Each module that keeps something here adds its field by declaration merging (`declare module`
// on this file): the field is typed where it is used, and this file imports nothing, so no layer
// below depends on one above it.
import type { ComponentRef } from './componentRef.js';

/** Takes some of an actor's inbox messages as they are delivered, outside XState's mailbox. */
export interface Receiver {
  /** Takes `data` for `box` (now, or in line behind a running handler); false leaves it to the actor's XState mailbox. */
  receive(box: string, data: unknown): boolean;
}

/**
 * What the library keeps about one running actor. Fields are absent until first used; the modules
 * that own them declare them: registry (`info`), childActors (`children`), routing (`receiver`,
 * `passthroughs`, `routes`, `gates`, `linkVersion`), componentLogic (`body`), the socket timers
 * (`timers`), server counters (`stats`, `operator`).
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in by declaration merging
export interface ActorRecord {}

const RECORD = Symbol('kamaelia.actorRecord');
type Recorded = { [RECORD]?: ActorRecord };

/** `ref`'s record, made on first use. */
export function recordOf(ref: ComponentRef): ActorRecord {
  const holder = ref as unknown as Recorded;
  return (holder[RECORD] ??= {});
}

/** `ref`'s record if it has one. */
export function findRecord(ref: ComponentRef): ActorRecord | undefined {
  return (ref as unknown as Recorded)[RECORD];
}

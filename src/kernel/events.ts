// How a component's boxes look to XState: an inbox delivery is the event `{ type: <inbox>, data }`,
// an outbox send the emitted event `{ type: <outbox>, data }`.
import type { AnyActorLogic } from 'xstate';

/** The event an actor receives when a message arrives on inbox `K`. */
export type InboxEvent<In> = { [K in keyof In & string]: { type: K; data: In[K] } }[keyof In & string];
/** The event an actor emits to send a message out of outbox `K`. */
export type OutboxEvent<Out> = { [K in keyof Out & string]: { type: K; data: Out[K] } }[keyof Out & string];

/** XState's actor-system type, which it does not export by name. */
export type AnyActorSystem = Parameters<AnyActorLogic['transition']>[2]['system'];

// The graph supervisor behind Pipeline and Graphline: it has its children created and linked,
// hands control messages to children whose control is not wired (Kamaelia's dissemination), and
// ends when every child has, emitting the end signal by Kamaelia's rules (Graphline tests G9-G17 in
// the Kamaelia note). What touches the world (creating the child actors, routing, reporting a
// failure from the root) is provided by the graph layer (src/graph/graphComponent.ts).
import { assign, emit, enqueueActions, setup, type AnyActorRef } from 'xstate';
import { isShutdownMicroprocess, producerFinished, reasonFromError, type Reason } from '../src/kernel/messages.js';
import { Opaque } from './opaque.js';
import { unboundAction, unboundActor } from './unbound.js';

/** One linkage. `child` is an index into the graph's children or `'self'` for the graph's own box. */
export interface GraphLink {
  readonly from: { readonly child: number | 'self'; readonly box: string };
  readonly to: { readonly child: number | 'self'; readonly box: string };
}

/** What the machine needs to know of a graph's insides: its children's names and its links. */
export interface GraphShape {
  readonly children: readonly { readonly name: string }[];
  readonly links: readonly GraphLink[];
}

/** What graphSupervisorMachine is started with. */
export interface GraphSupervisorInput {
  readonly name: string;
  readonly layout: GraphShape;
}

/** graphSupervisorMachine's context. */
export interface GraphSupervisorContext {
  readonly name: string;
  /** The layout the children are made from (opaque: it holds the components' logic). */
  readonly layout: Opaque<GraphShape>;
  readonly children: readonly AnyActorRef[];
  /** Children still running. */
  readonly alive: number;
  /** Indices of children whose control inbox no linkage feeds: they get the graph's control messages. */
  readonly disseminateTo: readonly number[];
  readonly controlLinked: boolean;
  /** The graph's own inboxes that pass straight through to a child (links from 'self'). */
  readonly passedThrough: readonly string[];
  readonly signalLinked: boolean;
  /** The last shutdownMicroprocess received on control, re-emitted at the end (G10, G13). */
  readonly shutdownMessage: unknown;
  /** The first child failure or reason a child ended with, carried by the end signal. */
  readonly failure: Reason | undefined;
}

/** Any message on any of the graph's own inboxes, plus child lifecycle events from XState. */
export type GraphSupervisorEvent = { type: string; data?: unknown; error?: unknown };
export type GraphSupervisorEmitted = { type: string; data: unknown };

/**
 * A child ended with a reason on its signal (`data`: the Reason). The dot keeps it apart from the
 * graph's own boxes, whose names cannot contain one.
 */
export const CHILD_REASON = 'graph.childReason';

function childIndex(eventType: string): number {
  return Number(eventType.slice(eventType.lastIndexOf('.') + 1));
}

const USE = 'use Pipeline() or Graphline()';

/** Pipeline's and Graphline's lifecycle: `running` (children spawned, linkages routed, shutdown propagated) → `ended` once every child has. */
export const graphSupervisorMachine = setup({
  types: {} as {
    context: GraphSupervisorContext;
    input: GraphSupervisorInput;
    events: GraphSupervisorEvent;
    emitted: GraphSupervisorEmitted;
  },
  actors: {
    /** Stops the graph's children when the graph stops, however it stops (exit actions do not run on stop). */
    childKeeper: unboundActor<{ type: string }, { graph: AnyActorRef }>('graphSupervisorMachine', 'childKeeper', USE),
  },
  actions: {
    /** Creates the child actors (not started) and links them as the layout says: an assign of `children`. */
    createChildren: unboundAction('graphSupervisorMachine', 'createChildren', USE),
    /** Forgets an ended child so it can be collected. */
    forgetChild: unboundAction('graphSupervisorMachine', 'forgetChild', USE) as (_: unknown, params: { index: number }) => void,
    /** Stops a failed child's tree and reports the failure: componentFailed from the root, producerFinished on its signal. */
    reportChildFailure: unboundAction('graphSupervisorMachine', 'reportChildFailure', USE) as (_: unknown, params: { child: AnyActorRef; error: unknown }) => void,
    /** Puts a message for the graph's own inbox `box` through to the child it passes to, as routing does. */
    passThrough: unboundAction('graphSupervisorMachine', 'passThrough', USE) as (_: unknown, params: { box: string; data: unknown }) => void,
    /** Puts a message into an inbox (through any passthrough), as routing does. */
    deliverToInbox: unboundAction('graphSupervisorMachine', 'deliverToInbox', USE) as (_: unknown, params: { to: AnyActorRef; box: string; data: unknown }) => void,
  },
  guards: {
    allChildrenEnded: ({ context }) => context.alive === 0,
    isPassedThrough: ({ context, event }) => context.passedThrough.includes(event.type),
  },
}).createMachine({
  id: 'graph',
  context: ({ input }) => {
    const { layout } = input;
    const controlFed = new Set(layout.links.filter((l) => l.to.box === 'control' && l.to.child !== 'self').map((l) => l.to.child));
    return {
      name: input.name,
      layout: new Opaque(layout, 'layout'),
      children: [],
      alive: layout.children.length,
      disseminateTo: layout.children.map((_, index) => index).filter((index) => !controlFed.has(index)),
      controlLinked: layout.links.some((l) => l.from.child === 'self' && l.from.box === 'control'),
      passedThrough: [...new Set(layout.links.filter((l) => l.from.child === 'self').map((l) => l.from.box))],
      signalLinked: layout.links.some((l) => l.to.child === 'self' && l.to.box === 'signal'),
      shutdownMessage: undefined,
      failure: undefined,
    };
  },
  invoke: { id: 'childKeeper', src: 'childKeeper', input: ({ self }) => ({ graph: self }) },
  // Children are created with the graph (an assign runs at once) and start once the graph does.
  entry: [
    'createChildren',
    ({ context }) => {
      for (const child of context.children) child.start();
    },
  ],
  initial: 'running',
  states: {
    running: {
      always: { guard: 'allChildrenEnded', target: 'ended' },
      on: {
        'xstate.done.actor.*': {
          actions: [
            assign({ alive: ({ context }) => context.alive - 1 }),
            { type: 'forgetChild', params: ({ event }) => ({ index: childIndex(event.type) }) },
          ],
        },
        'xstate.error.actor.*': {
          actions: enqueueActions(({ context, event, enqueue }) => {
            const index = childIndex(event.type);
            const failed = context.children[index];
            if (failed) enqueue({ type: 'reportChildFailure', params: { child: failed, error: event.error } });
            enqueue.assign({ alive: context.alive - 1, failure: context.failure ?? reasonFromError(event.error) });
            enqueue({ type: 'forgetChild', params: { index } });
          }),
        },
        [CHILD_REASON]: {
          actions: assign({ failure: ({ context, event }) => context.failure ?? (event.data as Reason) }),
        },
        '*': [
          {
            // Sent to the graph itself (ref.send), not through routing: pass it on the same way.
            guard: 'isPassedThrough',
            actions: { type: 'passThrough', params: ({ event }) => ({ box: event.type, data: event.data }) },
          },
          {
            actions: enqueueActions(({ context, event, enqueue }) => {
              if (event.type !== 'control' || context.controlLinked) return; // an unwired own inbox: Axon keeps it unread
              if (isShutdownMicroprocess(event.data)) enqueue.assign({ shutdownMessage: event.data });
              for (const index of context.disseminateTo) {
                const child = context.children[index];
                if (child && child.getSnapshot().status === 'active') enqueue({ type: 'deliverToInbox', params: { to: child, box: 'control', data: event.data } });
              }
            }),
          },
        ],
      },
    },
    ended: {
      type: 'final',
      entry: enqueueActions(({ context, enqueue }) => {
        if (context.signalLinked) return; // the user owns the signal side (G16, G17)
        const end = context.shutdownMessage ?? producerFinished(context.failure, { source: context.name });
        enqueue(emit({ type: 'signal', data: end }));
      }),
    },
  },
});

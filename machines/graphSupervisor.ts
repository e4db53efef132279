// The graph supervisor behind Pipeline and Graphline. It creates the children (in our own table, see
// src/childActors.ts for why not XState's), installs the linkages as direct deliveries, hands control messages to children whose control is not wired
// (Kamaelia's dissemination), and ends when every child has, emitting the end signal by Kamaelia's
// rules (Graphline tests G9-G17 in the Kamaelia note).
import { assign, emit, enqueueActions, fromCallback, setup, type AnyActorRef } from 'xstate';
import { createChildActor, forgetChild, stopChildren, stopTree } from '../src/kernel/childActors.js';
import type { GraphLayout } from '../src/kernel/component.js';
import { componentFailed, isShutdownMicroprocess, producerFinished, reasonFromError, type Reason } from '../src/kernel/messages.js';
import {
  addInboxPassthrough,
  componentPath,
  deliverFromOutbox,
  deliverToInbox,
  hasInboxPassthrough,
  linkToInbox,
  linkToOwnOutbox,
} from '../src/kernel/routing.js';
import { emitFrom, rootOf } from '../src/kernel/xstateInternals.js';

export interface GraphSupervisorInput {
  readonly name: string;
  readonly layout: GraphLayout;
}

export interface GraphSupervisorContext {
  readonly name: string;
  readonly children: readonly AnyActorRef[];
  /** Children still running. */
  readonly alive: number;
  /** Indices of children whose control inbox no linkage feeds: they get the graph's control messages. */
  readonly disseminateTo: readonly number[];
  readonly controlLinked: boolean;
  readonly signalLinked: boolean;
  /** The last shutdownMicroprocess received on control, re-emitted at the end (G10, G13). */
  readonly shutdownMessage: unknown;
  /** The first child failure, carried by the end signal. */
  readonly failure: Reason | undefined;
}

/** Any message on any of the graph's own inboxes, plus child lifecycle events from XState. */
export type GraphSupervisorEvent = { type: string; data?: unknown; error?: unknown };
export type GraphSupervisorEmitted = { type: string; data: unknown };

function childIndex(eventType: string): number {
  return Number(eventType.slice(eventType.lastIndexOf('.') + 1));
}

/** Stops the graph's children when the graph stops, however it stops (exit actions do not run on stop). */
const childKeeper = fromCallback<{ type: string }, { graph: AnyActorRef }>(({ input }) => () => stopChildren(input.graph));

export const graphSupervisorMachine = setup({
  types: {} as {
    context: GraphSupervisorContext;
    input: GraphSupervisorInput;
    events: GraphSupervisorEvent;
    emitted: GraphSupervisorEmitted;
  },
  actors: { childKeeper },
  guards: {
    allChildrenEnded: ({ context }) => context.alive === 0,
  },
}).createMachine({
  id: 'graph',
  context: ({ input, self }) => {
    const { layout } = input;
    const children = layout.children.map(({ name, component }, index) =>
      createChildActor(self, component, String(index), `${index}:${name}`),
    );
    const refOf = (child: number | 'self'): AnyActorRef => (child === 'self' ? self : children[child]!);
    for (const { from, to } of layout.links) {
      if (from.child === 'self') addInboxPassthrough(self, from.box, refOf(to.child), to.box);
      else if (to.child === 'self') linkToOwnOutbox(refOf(from.child), from.box, self, to.box);
      else linkToInbox(refOf(from.child), from.box, refOf(to.child), to.box);
    }
    const controlFed = new Set(layout.links.filter((l) => l.to.box === 'control' && l.to.child !== 'self').map((l) => l.to.child));
    return {
      name: input.name,
      children,
      alive: children.length,
      disseminateTo: children.map((_, index) => index).filter((index) => !controlFed.has(index)),
      controlLinked: layout.links.some((l) => l.from.child === 'self' && l.from.box === 'control'),
      signalLinked: layout.links.some((l) => l.to.child === 'self' && l.to.box === 'signal'),
      shutdownMessage: undefined,
      failure: undefined,
    };
  },
  invoke: { id: 'childKeeper', src: 'childKeeper', input: ({ self }) => ({ graph: self }) },
  // Children start once the graph does (the graph's context is built when it is created).
  entry: ({ context }) => {
    for (const child of context.children) child.start();
  },
  initial: 'running',
  states: {
    running: {
      always: { guard: 'allChildrenEnded', target: 'ended' },
      on: {
        'xstate.done.actor.*': {
          actions: [
            assign({ alive: ({ context }) => context.alive - 1 }),
            ({ event, self }) => forgetChild(self, String(childIndex(event.type))),
          ],
        },
        'xstate.error.actor.*': {
          actions: enqueueActions(({ context, event, self, enqueue }) => {
            const index = childIndex(event.type);
            const failed = context.children[index];
            const why = reasonFromError(event.error);
            if (failed) {
              // XState leaves a failed machine's own children running; their sockets must close.
              stopTree(failed);
              const path = componentPath(failed);
              const report = componentFailed(path, { code: why.code, message: `${path} failed: ${why.message}` });
              emitFrom(rootOf(self), { type: 'signal', data: report });
              // Whoever listens to the failed child's signal learns that it will produce no more.
              deliverFromOutbox(failed, 'signal', producerFinished(report.reason, { source: path }));
            }
            enqueue.assign({ alive: context.alive - 1, failure: context.failure ?? why });
            forgetChild(self, String(index));
          }),
        },
        '*': {
          actions: enqueueActions(({ context, event, self, enqueue }) => {
            const box = event.type;
            if (hasInboxPassthrough(self, box)) {
              deliverToInbox(self, box, event.data);
              return;
            }
            if (box !== 'control' || context.controlLinked) return; // an unwired own inbox: Axon keeps it unread
            if (isShutdownMicroprocess(event.data)) enqueue.assign({ shutdownMessage: event.data });
            for (const index of context.disseminateTo) {
              const child = context.children[index];
              if (child && child.getSnapshot().status === 'active') deliverToInbox(child, 'control', event.data);
            }
          }),
        },
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

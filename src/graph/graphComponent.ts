// Shared by Pipeline and Graphline: turn a checked layout into a component whose logic is the
// graph supervisor machine, with the kernel's child actors and routing provided into it.
import { assign, fromCallback, type AnyActorRef } from 'xstate';
import { CHILD_REASON, graphSupervisorMachine } from '../../machines/graphSupervisor.js';
import { createChildActor, forgetChild, rootOf, stopChildren, stopTree } from '../kernel/childActors.js';
import type { Component, GraphLayout } from '../kernel/component.js';
import { componentFailed, isShutdownRequest, producerFinished, reason, reasonFromError, shutdownMicroprocess } from '../kernel/messages.js';
import { componentPath } from '../kernel/registry.js';
import { addInboxPassthrough, closeLinksInto, deliverFromOutbox, deliverToInbox, linkToInbox, linkToOwnOutbox } from '../kernel/routing.js';
import { emitFrom } from '../kernel/xstateInternals.js';

/** The code of the shutdownMicroprocess a producer gets when the consumer it fed has ended. */
const NO_CONSUMER = 'ENOCONSUMER';

/** graphSupervisorMachine with the world provided: child actors, links, failure reports. */
export const graphSupervisorLogic = graphSupervisorMachine.provide({
  actors: {
    childKeeper: fromCallback<{ type: string }, { graph: AnyActorRef }>(({ input }) => () => stopChildren(input.graph)),
  },
  actions: {
    createChildren: assign({
      children: ({ context, self }) => {
        // graphComponent below is the only maker of this machine's input: the layout holds components.
        const layout = context.layout.value as GraphLayout;
        const children = layout.children.map(({ name, component }, index) => createChildActor(self, component, String(index), `${index}:${name}`));
        // A child that ends with a reason (TCPClient's ECONNREFUSED) tells the graph, whatever its
        // signal is linked to: the graph's own end signal carries the first such reason.
        layout.children.forEach(({ component }, index) => {
          if (!component.outboxes.includes('signal')) return;
          children[index]!.on('signal', (event: { data?: unknown }) => {
            const why = isShutdownRequest(event.data) ? event.data.reason : undefined;
            // ENOCONSUMER is the graph's own word to a producer whose consumer ended: not a failure.
            if (why && why.code !== NO_CONSUMER) self.send({ type: CHILD_REASON, data: why });
          });
        });
        const refOf = (child: number | 'self'): AnyActorRef => (child === 'self' ? self : children[child]!);
        for (const { from, to } of layout.links) {
          if (from.child === 'self') addInboxPassthrough(self, from.box, refOf(to.child), to.box);
          else if (to.child === 'self') linkToOwnOutbox(refOf(from.child), from.box, self, to.box);
          else linkToInbox(refOf(from.child), from.box, refOf(to.child), to.box);
        }
        return children;
      },
    }),
    forgetChild: ({ self, context }, { index }) => {
      closeLinksIntoEnded(context.children, context.layout.value as GraphLayout, index);
      forgetChild(self, String(index));
    },
    reportChildFailure: ({ self }, { child, error }) => {
      // XState leaves a failed machine's own children running; their sockets must close.
      stopTree(child);
      const why = reasonFromError(error);
      const path = componentPath(child);
      const report = componentFailed(path, { code: why.code, message: `${path} failed: ${why.message}` });
      emitFrom(rootOf(self), { type: 'signal', data: report });
      // Whoever listens to the failed child's signal learns that it will produce no more.
      deliverFromOutbox(child, 'signal', producerFinished(report.reason, { source: path }));
    },
    passThrough: ({ self }, { box, data }) => deliverToInbox(self, box, data),
    deliverToInbox: (_, { to, box, data }) => deliverToInbox(to, box, data),
  },
});

/**
 * Child `index` has ended: the links into it close (routing.closeLinksInto), so its producers see
 * canSend false for good; a producer whose data outbox (not `signal`) thereby lost its last consumer
 * is also told, Kamaelia-style, with shutdownMicroprocess (reason ENOCONSUMER) on its control, so it
 * ends instead of waiting forever and the graph can end.
 */
function closeLinksIntoEnded(children: readonly AnyActorRef[], layout: GraphLayout, index: number): void {
  const ended = children[index];
  if (!ended) return;
  const producers = new Set<number>();
  for (const { from, to } of layout.links) if (to.child === index && from.child !== 'self' && from.child !== index) producers.add(from.child);
  for (const producerIndex of producers) {
    const producer = children[producerIndex];
    if (!producer) continue;
    const orphaned = closeLinksInto(producer, ended).filter((box) => box !== 'signal');
    if (orphaned.length === 0 || producer.getSnapshot().status !== 'active') continue;
    const why = reason(NO_CONSUMER, `${componentPath(ended)} has ended: nothing takes ${componentPath(producer)}'s ${orphaned.join(', ')} any more`);
    deliverToInbox(producer, 'control', shutdownMicroprocess(why));
  }
}

export function graphComponent<In extends object, Out extends object>(
  name: string,
  layout: GraphLayout,
  inboxes: readonly string[],
  outboxes: readonly string[],
): Component<In, Out> {
  return {
    kind: 'kamaelia.component',
    name,
    inboxes: [...new Set(inboxes)],
    outboxes: [...new Set(outboxes)],
    logic: graphSupervisorLogic,
    input: { name, layout },
    graph: layout,
  };
}

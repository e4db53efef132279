// Shared by Pipeline and Graphline: turn a checked layout into a component whose logic is the
// graph supervisor machine.
import { graphSupervisorMachine } from '../../machines/graphSupervisor.js';
import type { Component, GraphLayout } from '../kernel/component.js';

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
    logic: graphSupervisorMachine,
    input: { name, layout },
    graph: layout,
  };
}

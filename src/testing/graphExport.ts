// xstate/graph's structural views of a machine, for drawing it or comparing with its walk: the
// directed graph of state nodes and transitions, and an adjacency map as a list.
import type { AnyStateMachine } from 'xstate';
import { adjacencyMapToArray as xstateAdjacencyMapToArray, toDirectedGraph as xstateToDirectedGraph, type DirectedGraphNode } from 'xstate/graph';
import type { AdjacencyMap } from './createTestModel.js';

export type { DirectedGraphNode } from 'xstate/graph';

/**
 * The machine's state nodes and their transitions as a directed graph, exactly as xstate/graph's
 * `toDirectedGraph` gives it (`{ id, stateNode, children, edges }`; JSON-able).
 */
export function toDirectedGraph(machine: AnyStateMachine): DirectedGraphNode {
  return xstateToDirectedGraph(machine);
}

/** One entry of {@link adjacencyMapToArray}: a state, an event, and the state it leads to. */
export interface AdjacencyEntry {
  readonly state: AdjacencyMap[string]['state'];
  readonly event: AdjacencyMap[string]['transitions'][string]['event'];
  readonly nextState: AdjacencyMap[string]['state'];
}

/** An adjacency map (model.getAdjacencyMap()) as a list of `{ state, event, nextState }`, as xstate/graph's `adjacencyMapToArray`. */
export function adjacencyMapToArray(map: AdjacencyMap): AdjacencyEntry[] {
  return xstateAdjacencyMapToArray(map as never) as AdjacencyEntry[];
}

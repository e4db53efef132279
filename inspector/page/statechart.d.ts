// Types for statechart.js (the page is plain JavaScript served as is; tests import it from Node).
export interface ChartTransition {
  readonly source: string;
  readonly event: string;
  readonly label: string;
  readonly kind: 'event' | 'delayed' | 'always' | 'done' | 'error';
  readonly targets: readonly string[];
  readonly guard: string | undefined;
}

export interface ChartNode {
  readonly id: string;
  readonly key: string;
  readonly path: readonly string[];
  readonly type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  readonly initial: string | undefined;
  readonly parent: ChartNode | undefined;
  readonly children: readonly ChartNode[];
  readonly transitions: readonly ChartTransition[];
  readonly invokes: readonly { readonly src: string; readonly id: string }[];
  readonly tags: readonly string[];
}

export interface Chart {
  readonly id: string;
  readonly root: ChartNode;
  readonly nodes: ReadonlyMap<string, ChartNode>;
}

export interface ElkChartGraph {
  id: string;
  layoutOptions: Record<string, string>;
  children: unknown[];
  edges: { id: string; sources: string[]; targets: string[]; kind: string; labels: { text: string }[] }[];
}

export function chartOf(definition: unknown): Chart | null;
export function activeIds(chart: Chart | null, value: unknown): Set<string>;
export function valueText(value: unknown): string;
export function nodeLines(node: ChartNode): { kind: string; text: string; title?: string }[];
export function elkChart(chart: Chart): ElkChartGraph;
export function stateIdOf(elkId: string): string | null;

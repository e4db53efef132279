// Draws a machine's statechart (laid out by ELK, served locally) as SVG and highlights a state
// value in it: the active states, and the states a path visited with the order they were reached.
// A machine is laid out once; moving through a path only changes classes.
import { activeIds, chartOf, elkChart, nodeLines, stateIdOf } from './statechart.js';

const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attributes = {}, text) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

export function createChartView(container) {
  const elk = new window.ELK();
  /** machine key → Promise<{ chart, laidOut }> */
  const layouts = new Map();
  let shown = { key: undefined, element: undefined, boxes: new Map(), badges: new Map() };
  let wanted;

  function layoutOf(key, definition) {
    let layout = layouts.get(key);
    if (!layout) {
      const chart = chartOf(definition);
      layout = chart ? elk.layout(elkChart(chart)).then((laidOut) => ({ chart, laidOut })) : Promise.resolve(null);
      layouts.set(key, layout);
    }
    return layout;
  }

  function draw(key, chart, laidOut) {
    const width = laidOut.width ?? 0;
    const height = laidOut.height ?? 0;
    const root = svg('svg', { class: 'statechart', width, height, viewBox: `-2 -2 ${width + 4} ${height + 4}`, 'data-machine': key });
    const defs = svg('defs');
    const marker = svg('marker', { id: `chart-arrow-${key}`, viewBox: '0 0 8 8', refX: 7, refY: 4, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
    marker.append(svg('path', { d: 'M0,0 L8,4 L0,8 z', class: 'arrowhead' }));
    defs.append(marker);
    root.append(defs);
    const nodeLayer = svg('g');
    const edgeLayer = svg('g');
    const boxes = new Map();
    const badges = new Map();
    const drawNode = (node) => {
      const id = stateIdOf(node.id);
      if (id === null) {
        if (node.id.endsWith('#initial')) nodeLayer.append(svg('circle', { cx: node.x + 5, cy: node.y + 5, r: 5, class: 'initial' }));
        else {
          const any = svg('g', { class: 'any' });
          any.append(svg('rect', { x: node.x, y: node.y, width: node.width, height: node.height, rx: 10 }));
          any.append(svg('text', { x: node.x + node.width / 2, y: node.y + 14, 'text-anchor': 'middle' }, 'any state'));
          nodeLayer.append(any);
        }
        return;
      }
      const state = chart.nodes.get(id);
      const group = svg('g', { class: `state ${state.type}`, 'data-state': id });
      const title = svg('title', {}, `${id || chart.id}${state.tags.length ? ` (tags: ${state.tags.join(', ')})` : ''}`);
      group.append(title);
      group.append(svg('rect', { x: node.x, y: node.y, width: node.width, height: node.height, rx: 6 }));
      if (state.type === 'final') group.append(svg('rect', { x: node.x + 3, y: node.y + 3, width: node.width - 6, height: node.height - 6, rx: 4, class: 'final-inner' }));
      group.append(svg('text', { x: node.x + 8, y: node.y + 15, class: 'state-name' }, `${state.parent ? state.key : chart.id}${state.type === 'parallel' ? ' ∥' : ''}${state.type === 'history' ? ' (H)' : ''}`));
      nodeLines(state).forEach((line, i) => {
        const text = svg('text', { x: node.x + 8, y: node.y + 29 + i * 14, class: `state-line ${line.kind}` }, line.text);
        if (line.title) text.append(svg('title', {}, line.title));
        group.append(text);
      });
      const badge = svg('text', { x: node.x + node.width - 6, y: node.y + 14, class: 'visit', 'text-anchor': 'end' });
      group.append(badge);
      badges.set(id, badge);
      boxes.set(id, group);
      nodeLayer.append(group);
      for (const child of node.children ?? []) drawNode(child);
    };
    for (const node of laidOut.children ?? []) drawNode(node);
    for (const edge of laidOut.edges ?? []) {
      const group = svg('g', { class: `transition ${edge.kind}`, 'data-event': edge.event ?? '' });
      for (const section of edge.sections ?? []) {
        const points = [section.startPoint, ...(section.bendPoints ?? []), section.endPoint];
        group.append(svg('polyline', { points: points.map((p) => `${p.x},${p.y}`).join(' '), 'marker-end': `url(#chart-arrow-${key})` }));
      }
      for (const label of edge.labels ?? []) {
        if (label.x === undefined) continue;
        group.append(svg('rect', { x: label.x - 2, y: label.y - 1, width: label.width, height: label.height + 2, rx: 3, class: 'edge-label-bg' }));
        group.append(svg('text', { x: label.x + 1, y: label.y + 11, class: 'edge-label' }, label.text));
      }
      edgeLayer.append(group);
    }
    root.append(nodeLayer, edgeLayer);
    return { key, element: root, boxes, badges };
  }

  function highlight(chart, value, visited) {
    const active = activeIds(chart, value);
    for (const [id, box] of shown.boxes) {
      // The machine itself is always active: only its states are marked.
      box.classList.toggle('active', id !== '' && active.has(id));
      box.classList.toggle('visited', visited.has(id) && !active.has(id));
    }
    for (const [id, badge] of shown.badges) badge.textContent = visited.has(id) ? visited.get(id).join(',') : '';
    container.dataset.active = [...active].filter((id) => id !== '').join(' ');
  }

  /**
   * Shows machine `key` with `value` highlighted; `path` (state values in order) numbers the
   * states it went through. Resolves once drawn (layout is asynchronous the first time).
   */
  async function show(key, definition, value, path = []) {
    wanted = key;
    const layout = await layoutOf(key, definition);
    if (wanted !== key) return;
    if (!layout) {
      container.textContent = 'this actor runs no state machine';
      shown = { key: undefined, element: undefined, boxes: new Map(), badges: new Map() };
      return;
    }
    if (shown.key !== key || !container.contains(shown.element)) {
      shown = draw(key, layout.chart, layout.laidOut);
      container.replaceChildren(shown.element);
    }
    // Each state the path entered, numbered by the steps that entered it.
    const visited = new Map();
    path.forEach((stepValue, i) => {
      for (const id of activeIds(layout.chart, stepValue)) {
        if (id === '') continue;
        const steps = visited.get(id) ?? [];
        const previous = i > 0 ? activeIds(layout.chart, path[i - 1]) : new Set();
        if (!previous.has(id)) steps.push(i + 1);
        visited.set(id, steps);
      }
    });
    highlight(layout.chart, value, visited);
    container.dataset.machine = key;
  }

  function clear(text) {
    wanted = undefined;
    shown = { key: undefined, element: undefined, boxes: new Map(), badges: new Map() };
    container.textContent = text;
    delete container.dataset.machine;
    delete container.dataset.active;
  }

  return { show, clear };
}

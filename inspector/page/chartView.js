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

/** Zoom steps of the chart's − and + buttons. */
const ZOOMS = [0.25, 0.35, 0.5, 0.65, 0.8, 1, 1.25, 1.5, 2, 3];

function button(text, title) {
  const element = document.createElement('button');
  element.type = 'button';
  element.textContent = text;
  element.title = title;
  element.setAttribute('aria-label', title);
  return element;
}

export function createChartView(container) {
  const elk = new window.ELK();
  // The chart's parts: a warning when its definition arrived cut short, zoom buttons, and the
  // viewport that scrolls (drag to pan, Ctrl + wheel to zoom).
  const warning = document.createElement('p');
  warning.className = 'chart-warning';
  warning.setAttribute('role', 'note');
  warning.hidden = true;
  const toolbar = document.createElement('div');
  toolbar.className = 'chart-toolbar';
  const zoomOut = button('−', 'zoom out');
  const zoomFit = button('fit', 'fit the chart to the view');
  const zoomOne = button('1:1', '1:1, actual size');
  const zoomIn = button('+', 'zoom in');
  const zoomLabel = document.createElement('span');
  zoomLabel.className = 'muted zoom-label';
  toolbar.append(zoomOut, zoomFit, zoomOne, zoomIn, zoomLabel, Object.assign(document.createElement('span'), { className: 'muted', textContent: '· drag to pan, Ctrl + wheel to zoom' }));
  toolbar.hidden = true;
  const viewport = document.createElement('div');
  viewport.className = 'chart-viewport';
  viewport.tabIndex = 0;
  viewport.setAttribute('role', 'region');
  viewport.setAttribute('aria-label', 'statechart');
  container.replaceChildren(warning, toolbar, viewport);
  /** machine key → zoom the user chose for it (1 until they do). */
  const zooms = new Map();
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

  function applyZoom() {
    const root = shown.element;
    if (!root) return;
    const scale = zooms.get(shown.key) ?? 1;
    root.setAttribute('width', String(Math.round(shown.width * scale)));
    root.setAttribute('height', String(Math.round(shown.height * scale)));
    container.dataset.zoom = String(scale);
    zoomLabel.textContent = `${Math.round(scale * 100)} %`;
  }

  function zoomTo(scale, anchor) {
    if (!shown.element) return;
    const before = zooms.get(shown.key) ?? 1;
    const next = Math.min(4, Math.max(0.1, scale));
    // Keep the point under the pointer (or the middle of the view) where it is.
    const ax = anchor?.x ?? viewport.clientWidth / 2;
    const ay = anchor?.y ?? viewport.clientHeight / 2;
    const cx = (viewport.scrollLeft + ax) / before;
    const cy = (viewport.scrollTop + ay) / before;
    zooms.set(shown.key, next);
    applyZoom();
    viewport.scrollLeft = cx * next - ax;
    viewport.scrollTop = cy * next - ay;
  }

  const current = () => zooms.get(shown.key) ?? 1;
  zoomIn.addEventListener('click', () => zoomTo(ZOOMS.find((z) => z > current() + 0.001) ?? current()));
  zoomOut.addEventListener('click', () => zoomTo([...ZOOMS].reverse().find((z) => z < current() - 0.001) ?? current()));
  zoomOne.addEventListener('click', () => zoomTo(1));
  zoomFit.addEventListener('click', () => {
    if (!shown.element) return;
    zoomTo(Math.min(1, (viewport.clientWidth - 8) / (shown.width + 4), Math.max(0.1, (viewport.clientHeight - 8) / (shown.height + 4))));
    viewport.scrollLeft = 0;
    viewport.scrollTop = 0;
  });
  viewport.addEventListener(
    'wheel',
    (event) => {
      if (!event.ctrlKey || !shown.element) return;
      event.preventDefault();
      const rect = viewport.getBoundingClientRect();
      zoomTo(current() * (event.deltaY < 0 ? 1.15 : 1 / 1.15), { x: event.clientX - rect.left, y: event.clientY - rect.top });
    },
    { passive: false },
  );
  let drag;
  /** When the user last panned or zoomed: the view follows the active state only when they have not lately. */
  let touchedAt = 0;
  viewport.addEventListener('pointerdown', () => (touchedAt = performance.now()));
  for (const control of [zoomIn, zoomOut, zoomOne, zoomFit]) control.addEventListener('click', () => (touchedAt = performance.now()));
  viewport.addEventListener('wheel', () => (touchedAt = performance.now()), { passive: true });

  /** Scrolls the deepest active state into the middle of the view (the view follows the machine). */
  function follow(active) {
    if (performance.now() - touchedAt < 5_000 || !shown.element) return;
    let deepest;
    for (const id of active) if (id !== '' && (!deepest || id.split('.').length > deepest.split('.').length)) deepest = id;
    const box = deepest !== undefined ? shown.boxes.get(deepest)?.querySelector('rect') : undefined;
    if (!box) return;
    const scale = zooms.get(shown.key) ?? 1;
    const x = Number(box.getAttribute('x')) * scale;
    const y = Number(box.getAttribute('y')) * scale;
    const w = Number(box.getAttribute('width')) * scale;
    const h = Number(box.getAttribute('height')) * scale;
    const visible = x >= viewport.scrollLeft && y >= viewport.scrollTop && x + w <= viewport.scrollLeft + viewport.clientWidth && y + h <= viewport.scrollTop + viewport.clientHeight;
    if (visible) return;
    viewport.scrollLeft = x + w / 2 - viewport.clientWidth / 2;
    viewport.scrollTop = y + h / 2 - viewport.clientHeight / 2;
  }
  viewport.addEventListener('pointerdown', (event) => {
    if (event.button !== 0 || !shown.element) return;
    drag = { x: event.clientX, y: event.clientY, left: viewport.scrollLeft, top: viewport.scrollTop, id: event.pointerId };
    viewport.setPointerCapture(event.pointerId);
    viewport.classList.add('dragging');
  });
  viewport.addEventListener('pointermove', (event) => {
    if (!drag || event.pointerId !== drag.id) return;
    viewport.scrollLeft = drag.left - (event.clientX - drag.x);
    viewport.scrollTop = drag.top - (event.clientY - drag.y);
  });
  const endDrag = () => {
    drag = undefined;
    viewport.classList.remove('dragging');
  };
  viewport.addEventListener('pointerup', endDrag);
  viewport.addEventListener('pointercancel', endDrag);

  function draw(key, chart, laidOut) {
    const width = laidOut.width ?? 0;
    const height = laidOut.height ?? 0;
    const root = svg('svg', { class: 'statechart', width, height, viewBox: `-2 -2 ${width + 4} ${height + 4}`, 'data-machine': key, role: 'img', 'aria-label': `statechart of ${chart.id}` });
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
      // The visit count, with the step numbers in its tooltip (a title beside the text, not in it).
      const badgeBox = svg('g', { class: 'visit-badge' });
      const badge = svg('text', { x: node.x + node.width - 6, y: node.y + 14, class: 'visit', 'text-anchor': 'end' });
      badge.tip = svg('title');
      badgeBox.append(badge.tip, badge);
      group.append(badgeBox);
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
    return { key, element: root, boxes, badges, width: width + 4, height: height + 4 };
  }

  function highlight(chart, value, visited) {
    const active = activeIds(chart, value);
    for (const [id, box] of shown.boxes) {
      // The machine itself is always active: only its states are marked.
      box.classList.toggle('active', id !== '' && active.has(id));
      box.classList.toggle('visited', visited.has(id) && !active.has(id));
    }
    // How many times each state was entered on the path (the step numbers in its tooltip).
    for (const [id, badge] of shown.badges) {
      const steps = visited.get(id);
      const count = steps?.length ?? 0;
      badge.textContent = count > 0 ? `×${count}` : '';
      badge.dataset.count = String(count);
      badge.tip.textContent = count > 0 ? `entered ${count} time${count === 1 ? '' : 's'}, at step${count === 1 ? '' : 's'} ${steps.slice(0, 30).join(', ')}${count > 30 ? ', …' : ''}` : '';
    }
    container.dataset.active = [...active].filter((id) => id !== '').join(' ');
    follow(active);
  }

  /**
   * Shows machine `key` with `value` highlighted; `path` (state values in order) numbers the
   * states it went through. Resolves once drawn (layout is asynchronous the first time).
   */
  async function show(key, definition, value, path = [], { truncated, stepOffset = () => 0 } = {}) {
    wanted = key;
    const layout = await layoutOf(key, definition);
    if (wanted !== key) return;
    if (!layout) {
      clear('this actor runs no state machine');
      return;
    }
    if (shown.key !== key || !viewport.contains(shown.element)) {
      shown = draw(key, layout.chart, layout.laidOut);
      viewport.replaceChildren(shown.element);
      toolbar.hidden = false;
      // First time: the width of the view if the chart is wider, but never smaller than 80 %
      // (labels stay readable; the rest is a drag away).
      if (!zooms.has(key)) zooms.set(key, Math.min(1, Math.max(0.8, (viewport.clientWidth - 8) / shown.width)));
      applyZoom();
    }
    warning.hidden = !truncated || truncated.length === 0;
    container.dataset.truncated = warning.hidden ? '' : 'yes';
    if (!warning.hidden) {
      warning.textContent =
        `This chart may be wrong: the program's @statelyai/inspect cut the machine's definition short ` +
        `(deeper than its serializationDepthLimit, 10 by default), so ${truncated.length} part${truncated.length === 1 ? '' : 's'} ` +
        `arrived as "[Object]" (${truncated.slice(0, 3).join(', ')}${truncated.length > 3 ? ', …' : ''}); transitions there are drawn ` +
        `without their targets. Pass createWebSocketInspector({ url, serializationDepthLimit: 100 }).`;
    }
    // Each state the path entered, numbered by the steps that entered it.
    const visited = new Map();
    path.forEach((stepValue, i) => {
      for (const id of activeIds(layout.chart, stepValue)) {
        if (id === '') continue;
        const steps = visited.get(id) ?? [];
        const previous = i > 0 ? activeIds(layout.chart, path[i - 1]) : new Set();
        if (!previous.has(id)) steps.push(i + 1 + stepOffset(i));
        visited.set(id, steps);
      }
    });
    highlight(layout.chart, value, visited);
    container.dataset.machine = key;
  }

  function clear(text) {
    wanted = undefined;
    shown = { key: undefined, element: undefined, boxes: new Map(), badges: new Map() };
    viewport.textContent = text;
    toolbar.hidden = true;
    warning.hidden = true;
    delete container.dataset.machine;
    delete container.dataset.active;
    delete container.dataset.truncated;
  }

  return { show, clear };
}

// Draws the component graph: ELK (elkjs, served locally) lays it out, this turns the layout into
// SVG. Layout runs only when the structure changes; live counts are updated in place.
import { componentGroups, elkGraph, structureKey } from './graphModel.js';

const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attributes = {}, text) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

export function createGraphView(container, { onSelect } = {}) {
  const elk = new window.ELK();
  let drawnKey = '';
  let layingOut = false;
  let again = false;
  const countLabels = new Map();
  const boxes = new Map();
  let pictureCount = 0;

  async function layout(groups) {
    const key = structureKey(groups);
    if (key === drawnKey) return;
    if (layingOut) {
      again = true;
      return;
    }
    layingOut = true;
    try {
      // Each system (root) is laid out on its own and the pictures flow side by side.
      const whole = elkGraph(groups);
      const pictures = await Promise.all(whole.children.map((root) => elk.layout({ ...whole, children: [root] })));
      drawnKey = key;
      draw(pictures, groups);
    } catch (error) {
      container.textContent = `layout failed: ${error.message}`;
    } finally {
      layingOut = false;
    }
    if (again) {
      again = false;
      update(lastStore);
    }
  }

  function draw(pictures, groups) {
    countLabels.clear();
    boxes.clear();
    container.replaceChildren(...pictures.map((laidOut) => picture(laidOut, groups)));
    updateCounts(groups);
  }

  function picture(laidOut, groups) {
    // Room around the picture for the outside labels of a graph's own boxes.
    const margin = 70;
    const root = svg('svg', {
      width: (laidOut.width ?? 0) + 2 * margin,
      height: (laidOut.height ?? 0) + 8,
      viewBox: `${-margin} -4 ${(laidOut.width ?? 0) + 2 * margin} ${(laidOut.height ?? 0) + 8}`,
      class: 'graph',
    });
    const defs = svg('defs');
    const marker = svg('marker', { id: `arrow-${++pictureCount}`, viewBox: '0 0 8 8', refX: 7, refY: 4, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
    marker.append(svg('path', { d: 'M0,0 L8,4 L0,8 z', class: 'arrowhead' }));
    defs.append(marker);
    root.append(defs);
    const edgeLayer = svg('g', { class: 'edges' });
    const nodeLayer = svg('g', { class: 'nodes' });
    const drawNode = (node, depth) => {
      const group = groups.get(node.id);
      const box = svg('g', {
        class: `component${group?.dynamic ? ' dynamic' : ''}${group?.plain ? ' plain' : ''}${node.children?.length ? ' compound' : ''}`,
        'data-key': node.id,
        'data-depth': depth,
        tabindex: 0,
        role: 'button',
      });
      const select = (event) => {
        event.stopPropagation();
        const current = lastGroups?.get(node.id);
        if (current && onSelect) onSelect(current.newest, node.id);
      };
      box.addEventListener('click', select);
      box.addEventListener('keydown', (event) => {
        if (event.key !== 'Enter' && event.key !== ' ') return;
        event.preventDefault();
        select(event);
      });
      box.append(svg('rect', { x: node.x, y: node.y, width: node.width, height: node.height, rx: 4 }));
      box.append(svg('text', { x: node.x + node.width / 2, y: node.y + 15, class: 'label', 'text-anchor': 'middle' }, group?.label ?? node.id));
      const count = svg('text', { x: node.x + node.width / 2, y: node.y + 28, class: 'count', 'text-anchor': 'middle' });
      box.append(count);
      countLabels.set(node.id, count);
      boxes.set(node.id, box);
      for (const port of node.ports ?? []) {
        const inward = port.id.includes('|in|');
        box.append(svg('rect', { x: port.x, y: port.y, width: port.width, height: port.height, class: inward ? 'port inbox' : 'port outbox' }));
        const label = port.labels?.[0];
        if (label) {
          // A graph's own boxes are labelled outside its border: its links run inside, from them.
          const outside = Boolean(group?.graph);
          const x = inward !== outside ? port.x + port.width + 3 : port.x - 3;
          const anchor = inward !== outside ? 'start' : 'end';
          box.append(svg('text', { x, y: port.y + port.height - 1, class: 'port-label', 'text-anchor': anchor }, label.text));
        }
      }
      nodeLayer.append(box);
      for (const child of node.children ?? []) drawNode(child, depth + 1);
      for (const edge of node.edges ?? []) {
        for (const section of edge.sections ?? []) {
          const points = [section.startPoint, ...(section.bendPoints ?? []), section.endPoint];
          edgeLayer.append(svg('polyline', { points: points.map((p) => `${p.x},${p.y}`).join(' '), class: edge.wire ? 'link wire' : 'link', 'marker-end': `url(#arrow-${pictureCount})` }));
        }
      }
    };
    for (const node of laidOut.children ?? []) drawNode(node, 0);
    root.append(nodeLayer, edgeLayer);
    return root;
  }

  let lastGroups;
  function updateCounts(groups) {
    lastGroups = groups;
    for (const group of groups.values()) {
      const label = countLabels.get(group.key);
      if (!label) continue;
      const failed = group.failed > 0 ? (group.dynamic || group.total > 1 ? ` · ${group.failed} failed` : 'failed') : '';
      label.textContent = group.dynamic || group.total > 1 ? `×${group.live} live · ${group.total} seen${failed}` : failed || (group.live > 0 ? 'running' : 'ended');
      const box = boxes.get(group.key);
      box?.classList.toggle('ended', group.live === 0);
      // A failed component is marked (red border, "failed" in its count line).
      box?.classList.toggle('failed', group.failed > 0);
    }
  }

  let lastStore;
  function update(store) {
    lastStore = store;
    const groups = componentGroups(store);
    if (groups.size === 0) {
      container.textContent = 'nothing inspected yet';
      drawnKey = '';
      return;
    }
    lastGroups = groups;
    if (structureKey(groups) !== drawnKey) void layout(groups);
    else updateCounts(groups);
  }

  return { update };
}

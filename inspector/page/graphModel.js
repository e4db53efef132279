// The component graph the page draws, derived from actor records. A graph's declared children are
// drawn one box each; children a component spawns at run time (a server's per-connection
// handlers) are folded into one box per component type with a live count, so thousands of
// connections make one box, not thousands.

const PORT = 8;
const CHAR_WIDTH = 6.6;

/**
 * Whether an actor is drawn: a component, or a root actor that is not one (a plain XState actor
 * inspected with `createActor(logic, { inspect })`), shown as a first-class box with its statechart.
 */
export function isDrawn(actor) {
  return actor.component !== null || actor.parent === null;
}

/**
 * Groups of component actors (and plain root actors): { key, label, component, inboxes, outboxes, graph, parentKey,
 * dynamic, live, total, newest }, with `keyOf` (actor id → group key) and `wires` (the run-time
 * links between groups, one per kind: a server's thousands of connections make one link).
 */
export function componentGroups(store) {
  const keys = new Map(); // actor id → group key (memo)
  // Actors whose connection failed (a refused client ends `done`, its lane `failed`).
  const failedActors = new Set();
  for (const lane of store.lanes.values()) if (lane.segments.at(-1)?.state === 'failed') for (const id of lane.feeders) failedActors.add(id);
  const groups = new Map();
  groups.keyOf = keys;

  const nearestComponentParent = (actor) => {
    let parent = store.actors.get(actor.parent);
    while (parent && !isDrawn(parent)) parent = store.actors.get(parent.parent);
    return parent;
  };

  const keyOf = (actor) => {
    const known = keys.get(actor.id);
    if (known !== undefined) return known;
    const parent = nearestComponentParent(actor);
    let key;
    let dynamic = false;
    if (!parent) {
      key = `root:${actor.name}`;
    } else if (isDeclaredChild(parent, actor)) {
      key = `${keyOf(parent)}/${actor.name}`;
    } else {
      key = `${keyOf(parent)}/[${actor.component}]`;
      dynamic = true;
    }
    keys.set(actor.id, key);
    let group = groups.get(key);
    if (!group) {
      group = {
        key,
        label: dynamic ? actor.component : labelOf(actor),
        component: actor.component,
        plain: actor.component === null,
        inboxes: actor.inboxes ?? [],
        outboxes: actor.outboxes ?? [],
        graph: actor.graph,
        parentKey: parent ? keyOf(parent) : undefined,
        dynamic,
        live: 0,
        total: 0,
        failed: 0,
        newest: actor.id,
      };
      groups.set(key, group);
    }
    group.total++;
    if (!actor.ended) group.live++;
    if (actor.status === 'error' || failedActors.has(actor.id)) group.failed++;
    // The actor a click on the box shows: the newest running one, else the newest.
    const newest = store.actors.get(group.newest);
    if (!actor.ended || newest?.ended) group.newest = actor.id;
    return key;
  };

  for (const actor of store.actors.values()) if (isDrawn(actor)) keyOf(actor);
  const wires = new Map();
  for (const wire of store.wires ?? []) {
    const from = keys.get(wire.from);
    const to = keys.get(wire.to);
    if (from === undefined || to === undefined || from === to) continue;
    const key = `${from}|${wire.outbox}>${to}|${wire.inbox}`;
    if (!wires.has(key)) wires.set(key, { key, from, outbox: wire.outbox, to, inbox: wire.inbox });
  }
  groups.wires = [...wires.values()];
  return groups;
}

function isDeclaredChild(parent, actor) {
  if (!parent.graph) return false;
  const colon = actor.name.indexOf(':');
  if (colon < 0) return false;
  const index = Number(actor.name.slice(0, colon));
  return parent.graph.children[index]?.name === actor.name.slice(colon + 1);
}

function labelOf(actor) {
  if (actor.component === null) return actor.name;
  const colon = actor.name.indexOf(':');
  const name = colon >= 0 ? actor.name.slice(colon + 1) : actor.name;
  return name === actor.component ? name : `${name} (${actor.component})`;
}

/** A string that changes only when the drawn structure does (not when counts do). */
export function structureKey(groups) {
  return [...groups.keys()].sort().join('\n') + '\n' + (groups.wires ?? []).map((wire) => wire.key).join('\n');
}

export const portId = (key, direction, box) => `${key}|${direction}|${box}`;

/** The ELK input graph for `groups`: nested nodes with in/out ports, links as edges. */
export function elkGraph(groups) {
  const nodes = new Map();
  const ensurePort = (node, direction, box) => {
    const id = portId(node.id, direction, box);
    if (!node.ports.some((p) => p.id === id)) node.ports.push(port(id, direction, box));
    return id;
  };
  for (const group of groups.values()) {
    nodes.set(group.key, {
      id: group.key,
      labels: [{ text: group.label, width: group.label.length * CHAR_WIDTH + 40, height: 14 }],
      layoutOptions: {
        'elk.portConstraints': 'FIXED_SIDE',
        'elk.nodeSize.constraints': '[PORTS, PORT_LABELS, NODE_LABELS, MINIMUM_SIZE]',
        'elk.nodeSize.minimum': '(90, 44)',
        'elk.nodeLabels.placement': '[H_CENTER, V_TOP, INSIDE]',
        'elk.portLabels.placement': '[INSIDE]',
        'elk.padding': padding(group),
      },
      ports: [...group.inboxes.map((box) => port(portId(group.key, 'in', box), 'in', box)), ...group.outboxes.map((box) => port(portId(group.key, 'out', box), 'out', box))],
      children: [],
      edges: [],
    });
  }
  const roots = [];
  for (const group of groups.values()) {
    const node = nodes.get(group.key);
    const parent = group.parentKey !== undefined ? nodes.get(group.parentKey) : undefined;
    if (parent) parent.children.push(node);
    else roots.push(node);
  }
  for (const group of groups.values()) {
    if (!group.graph) continue;
    const node = nodes.get(group.key);
    const endpoint = (end, direction) => {
      if (end.child === 'self') return ensurePort(node, direction === 'from' ? 'in' : 'out', end.box);
      const childName = `${end.child}:${group.graph.children[end.child]?.name}`;
      const child = nodes.get(`${group.key}/${childName}`);
      if (!child) return undefined; // not started (yet)
      return ensurePort(child, direction === 'from' ? 'out' : 'in', end.box);
    };
    group.graph.links.forEach((link, i) => {
      const source = endpoint(link.from, 'from');
      const target = endpoint(link.to, 'to');
      if (source && target) node.edges.push({ id: `${group.key}#${i}`, sources: [source], targets: [target] });
    });
  }
  // Run-time links (a connection's socket adapter ↔ its handler) join the folded boxes, inside the
  // picture (root) both ends are in.
  const rootOf = (key) => {
    let group = groups.get(key);
    while (group?.parentKey !== undefined) group = groups.get(group.parentKey);
    return group ? nodes.get(group.key) : undefined;
  };
  (groups.wires ?? []).forEach((wire, i) => {
    const root = rootOf(wire.from);
    const from = nodes.get(wire.from);
    const to = nodes.get(wire.to);
    if (!root || root !== rootOf(wire.to) || !from || !to) return;
    root.edges.push({ id: `wire#${i}`, sources: [ensurePort(from, 'out', wire.outbox)], targets: [ensurePort(to, 'in', wire.inbox)], wire: true });
  });
  return {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      'elk.json.edgeCoords': 'ROOT',
      'elk.json.shapeCoords': 'ROOT',
      'elk.spacing.nodeNode': '24',
      'elk.layered.spacing.nodeNodeBetweenLayers': '36',
      'elk.edgeRouting': 'ORTHOGONAL',
    },
    children: roots,
    edges: [],
  };
}

/**
 * Room inside a box around its children. A graph labels its own boxes outside (its links start
 * there and run inward); any other box with children keeps its labels inside, clear of them.
 */
function padding(group) {
  const widest = (boxes) => (group.graph || boxes.length === 0 ? 0 : Math.max(...boxes.map((box) => box.length)) * CHAR_WIDTH + PORT + 8);
  return `[top=34,left=${16 + widest(group.inboxes)},bottom=14,right=${16 + widest(group.outboxes)}]`;
}

function port(id, direction, box) {
  return {
    id,
    width: PORT,
    height: PORT,
    layoutOptions: { 'elk.port.side': direction === 'in' ? 'WEST' : 'EAST' },
    labels: [{ text: box, width: box.length * CHAR_WIDTH, height: 12 }],
  };
}

// A machine's statechart from its definition (the config XState keeps, as our tracker and
// @statelyai/inspect send it): states (nested, parallel, final, history), transitions with their
// events and resolved targets (delayed, eventless, invocation results marked), invocations; and
// the ELK graph to lay it out. Pure (no DOM), so tests run it in Node.

const CHAR_WIDTH = 6.4;
const NAME_HEIGHT = 22;
const LINE_HEIGHT = 14;
/** Targetless transitions listed in a state's box before "+N more". */
const LISTED = 4;

const isCut = (value) => value === '[Object]' || value === '[Array]';
const asArray = (value) => (value === undefined || value === null ? [] : Array.isArray(value) ? value : [value]);

function nameOf(value) {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') return typeof value.type === 'string' ? value.type : typeof value.id === 'string' ? value.id : 'inline';
  return 'inline';
}

/** Delay keys are milliseconds or the name of a delay the machine implements. */
function delayLabel(delay) {
  return /^\d+$/.test(delay) ? `after ${delay} ms` : `after ${delay}`;
}

/**
 * The chart for a machine definition: { id, root } where every node is
 * { id, key, path, type, initial, children, transitions, invokes, tags }, and a transition is
 * { source, event, label, kind ('event' | 'delayed' | 'always' | 'done' | 'error'), targets, guard }.
 * Targets are node ids; a transition with none changes no state (its actions run). Null when the
 * definition has no states.
 */
export function chartOf(definition) {
  if (!definition || typeof definition !== 'object') return null;
  const machineId = typeof definition.id === 'string' ? definition.id : '(machine)';
  const byXStateId = new Map();
  const nodes = new Map();

  const build = (config, key, path, parent) => {
    const id = path.join('.');
    const states = config && typeof config.states === 'object' && config.states !== null ? config.states : {};
    const childKeys = Object.keys(states);
    const type = config?.type === 'parallel' || config?.type === 'final' || config?.type === 'history' ? config.type : childKeys.length > 0 ? 'compound' : 'atomic';
    const node = { id, key, path, type, initial: typeof config?.initial === 'string' ? config.initial : childKeys[0], parent, config: config ?? {}, children: [], transitions: [], invokes: [], tags: asArray(config?.tags).filter((t) => typeof t === 'string') };
    nodes.set(id, node);
    byXStateId.set(typeof config?.id === 'string' ? config.id : [machineId, ...path].join('.'), node);
    if (typeof config?.id === 'string') byXStateId.set(config.id, node);
    for (const childKey of childKeys) node.children.push(build(states[childKey], childKey, [...path, childKey], node));
    return node;
  };
  const root = build(definition, machineId, [], undefined);

  const childByPath = (node, keys) => {
    let current = node;
    for (const key of keys) {
      current = current?.children.find((child) => child.key === key);
      if (!current) return undefined;
    }
    return current;
  };

  const resolve = (source, target) => {
    if (typeof target !== 'string' || target === '') return undefined;
    if (target.startsWith('#')) {
      const rest = target.slice(1);
      if (byXStateId.has(rest)) return byXStateId.get(rest);
      const parts = rest.split('.');
      for (let i = parts.length - 1; i > 0; i--) {
        const base = byXStateId.get(parts.slice(0, i).join('.'));
        if (base) return childByPath(base, parts.slice(i));
      }
      return undefined;
    }
    if (target.startsWith('.')) return childByPath(source, target.slice(1).split('.'));
    return childByPath(source.parent ?? source, target.split('.'));
  };

  const addTransitions = (node, event, value, kind, label) => {
    for (const item of asArray(value)) {
      const config = typeof item === 'string' ? { target: item } : item && typeof item === 'object' ? item : {};
      const targets = asArray(config.target)
        .map((target) => resolve(node, target)?.id)
        .filter((id) => id !== undefined);
      const guard = config.guard ?? config.cond;
      // @statelyai/inspect's serializationDepthLimit turned this transition (or its target) into "[Object]".
      const cut = isCut(item) || asArray(config.target).some(isCut);
      const text = `${guard ? `${label} [${nameOf(guard)}]` : label}${cut ? ' → ? (cut short)' : ''}`;
      node.transitions.push({ source: node.id, event, kind, label: text, targets, guard: guard ? nameOf(guard) : undefined, ...(cut ? { cut: true } : {}) });
    }
  };

  for (const node of nodes.values()) {
    const config = node.config;
    if (config.on && typeof config.on === 'object') {
      for (const [event, value] of Object.entries(config.on)) addTransitions(node, event, value, 'event', event);
    }
    if (config.after && typeof config.after === 'object') {
      for (const [delay, value] of Object.entries(config.after)) addTransitions(node, `xstate.after.${delay}`, value, 'delayed', delayLabel(delay));
    }
    if (config.always !== undefined) addTransitions(node, '', config.always, 'always', 'always');
    if (config.onDone !== undefined) addTransitions(node, `xstate.done.state.${node.id}`, config.onDone, 'done', 'done');
    for (const invoke of asArray(config.invoke)) {
      if (!invoke || typeof invoke !== 'object') continue;
      const src = nameOf(invoke.src);
      const id = typeof invoke.id === 'string' ? invoke.id : src;
      node.invokes.push({ src, id });
      if (invoke.onDone !== undefined) addTransitions(node, `xstate.done.actor.${id}`, invoke.onDone, 'done', `done: ${id}`);
      if (invoke.onError !== undefined) addTransitions(node, `xstate.error.actor.${id}`, invoke.onError, 'error', `error: ${id}`);
      if (invoke.onSnapshot !== undefined) addTransitions(node, `xstate.snapshot.${id}`, invoke.onSnapshot, 'event', `snapshot: ${id}`);
    }
  }
  for (const node of nodes.values()) delete node.config;
  return { id: machineId, root, nodes };
}

/** Ids of the states active in `value` (a state value: `'a'`, `{ a: 'b' }`, `{ p: { x: 'y', z: 'w' } }`). */
export function activeIds(chart, value) {
  const active = new Set();
  if (!chart) return active;
  const walk = (node, value) => {
    active.add(node.id);
    if (typeof value === 'string') {
      const child = node.children.find((c) => c.key === value);
      if (child) walk(child, undefined);
    } else if (value && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) {
        const child = node.children.find((c) => c.key === key);
        if (child) walk(child, inner);
      }
    }
  };
  walk(chart.root, value);
  return active;
}

/** The deepest active states of a value, as dotted paths (`open.connected`): for lists and titles. */
export function valueText(value) {
  if (typeof value === 'string') return value;
  if (!value || typeof value !== 'object') return String(value);
  const parts = Object.entries(value).map(([key, inner]) => {
    const text = valueText(inner);
    return inner && typeof inner === 'object' && Object.keys(inner).length > 1 ? `${key}.{${text}}` : `${key}.${text}`;
  });
  return parts.join(', ');
}

/** Lines a state's box lists under its name: invocations, then transitions that change no state. */
export function nodeLines(node) {
  const lines = node.invokes.map((invoke) => ({ kind: 'invoke', text: `invoke ${invoke.src}${invoke.id !== invoke.src ? ` (${invoke.id})` : ''}` }));
  const targetless = node.transitions.filter((t) => t.targets.length === 0);
  for (const t of targetless.slice(0, LISTED)) lines.push({ kind: t.cut ? 'cut' : t.kind, text: t.cut ? t.label : `${t.label} ⟲` });
  if (targetless.length > LISTED) lines.push({ kind: 'more', text: `+${targetless.length - LISTED} more ⟲`, title: targetless.slice(LISTED).map((t) => t.label).join('\n') });
  return lines;
}

const ANY = '#any';
const INITIAL = '#initial';

/**
 * The ELK graph for a chart: states as nested nodes, an initial-state dot in each compound state,
 * and edges labelled by event. A transition defined on a compound state that targets one of its
 * own descendants starts from an "any state" pseudo node inside it (ELK cannot route an edge from
 * a node into its own children).
 */
export function elkChart(chart) {
  const elkNodes = new Map();
  const edges = [];
  const isAncestor = (ancestorId, id) => {
    let node = chart.nodes.get(id);
    while (node) {
      if (node.id === ancestorId) return true;
      node = node.parent;
    }
    return false;
  };
  const toElk = (node) => {
    const lines = nodeLines(node);
    const text = node.parent ? node.key : chart.id;
    // Room on the right of the name for the step numbers of a path (`1,3`).
    const width = Math.max(text.length * (CHAR_WIDTH + 0.6) + 34, ...lines.map((l) => l.text.length * CHAR_WIDTH)) + 20;
    const top = NAME_HEIGHT + lines.length * LINE_HEIGHT;
    const elkNode = {
      id: `s:${node.id}`,
      width: Math.max(70, width),
      height: Math.max(36, top + 8),
      layoutOptions: node.children.length > 0 ? { 'elk.padding': `[top=${top + 8},left=14,bottom=14,right=14]`, 'elk.nodeSize.minimum': `(${Math.max(70, width)}, 40)`, 'elk.nodeSize.constraints': '[MINIMUM_SIZE]' } : {},
      children: [],
    };
    elkNodes.set(node.id, elkNode);
    if (node.children.length > 0 && node.type !== 'parallel' && node.initial !== undefined) {
      elkNode.children.push({ id: `s:${node.id}${INITIAL}`, width: 10, height: 10 });
      const initial = node.children.find((child) => child.key === node.initial);
      if (initial) edges.push({ id: `i:${node.id}`, sources: [`s:${node.id}${INITIAL}`], targets: [`s:${initial.id}`], kind: 'initial', labels: [] });
    }
    for (const child of node.children) elkNode.children.push(toElk(child));
    return elkNode;
  };
  const rootNode = toElk(chart.root);
  let n = 0;
  for (const node of chart.nodes.values()) {
    for (const transition of node.transitions) {
      for (const target of transition.targets) {
        let source = `s:${node.id}`;
        if (target !== node.id && isAncestor(node.id, target)) {
          const anyId = `s:${node.id}${ANY}`;
          const container = elkNodes.get(node.id);
          if (!container.children.some((c) => c.id === anyId)) container.children.push({ id: anyId, width: 66, height: 20, any: true });
          source = anyId;
        }
        edges.push({
          id: `t:${n++}`,
          sources: [source],
          targets: [`s:${target}`],
          kind: transition.kind,
          event: transition.event,
          labels: [{ text: transition.label, width: transition.label.length * CHAR_WIDTH + 6, height: 14 }],
        });
      }
    }
  }
  return {
    id: 'chart',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'DOWN',
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      'elk.json.edgeCoords': 'ROOT',
      'elk.json.shapeCoords': 'ROOT',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.edgeLabels.inline': 'false',
      'elk.spacing.nodeNode': '28',
      'elk.spacing.edgeLabel': '3',
      'elk.layered.spacing.nodeNodeBetweenLayers': '40',
      'elk.spacing.edgeNode': '16',
    },
    children: [rootNode],
    edges,
  };
}

/** Node id of an ELK node made by elkChart (null for pseudo nodes). */
export function stateIdOf(elkId) {
  if (!elkId.startsWith('s:') || elkId.endsWith(ANY) || elkId.endsWith(INITIAL)) return null;
  return elkId.slice(2);
}

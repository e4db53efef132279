// TypeDoc plugin. The three entry points are named by their import paths (TypeDoc would name them
// by folder: `src`, `machines`, `src/testing`), with a line each on their own page.
// The pure machines (kamaelia-xstate/machines) are documented as machines, not as
// the hundreds of nested properties of their inferred XState config type. Those properties (guards,
// actions, inputs of the config object) are implementation, so they are dropped before validation,
// which would otherwise demand a comment on each of them.
import { Comment, Converter, ReflectionKind, ReflectionType } from 'typedoc';

const ENTRY_NAMES = {
  src: ['kamaelia-xstate', 'Components, graphs, run(), the servers, messages and the inspector: everything a program uses.'],
  machines: ['kamaelia-xstate/machines', 'The pure lifecycle machines; importing them opens no socket.'],
  'src/testing': ['kamaelia-xstate/testing', 'Model-based testing from real machines: paths run against the real component over loopback, with coverage.'],
};

/** Every ReflectionType reachable from `type` (through type arguments, unions, arrays, ...). */
function reflectionTypes(type, found = []) {
  if (!type || typeof type !== 'object') return found;
  if (type instanceof ReflectionType) {
    found.push(type);
    return found;
  }
  for (const value of Object.values(type)) {
    if (Array.isArray(value)) for (const item of value) reflectionTypes(item, found);
    else if (value && typeof value === 'object' && 'type' in value && typeof value.type === 'string') reflectionTypes(value, found);
  }
  return found;
}

export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    const { project } = context;
    for (const module of project.children ?? []) {
      const entry = ENTRY_NAMES[module.name];
      if (!entry) continue;
      module.name = entry[0];
      if (!module.comment) module.comment = new Comment([{ kind: 'text', text: entry[1] }]);
    }
    for (const variable of project.getReflectionsByKind(ReflectionKind.Variable)) {
      if (!variable.sources?.some((source) => /(^|\/)machines\//.test(source.fileName))) continue;
      for (const reflection of reflectionTypes(variable.type)) {
        for (const child of [...(reflection.declaration.children ?? [])]) project.removeReflection(child);
        for (const signature of [...(reflection.declaration.signatures ?? [])]) project.removeReflection(signature);
        for (const index of [...(reflection.declaration.indexSignatures ?? [])]) project.removeReflection(index);
      }
    }
  });
}

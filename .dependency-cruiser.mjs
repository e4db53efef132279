// The import rules of the house, checked by `npm run lint` (dependency-cruiser): no cycles, and
// imports run one way: kernel <- machines <- actors <- graph/internet/components <- chassis <- cli,
// with index.ts (the package entry) on top. Type-only imports count too: a cycle of types is still
// a tangle to read.
/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-cycle',
      severity: 'error',
      comment: 'No import cycle anywhere.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'machines-are-pure',
      severity: 'error',
      comment:
        'machines/ import only xstate, other machines and the message vocabulary (src/kernel/messages.ts); ' +
        'whatever a machine does to the world is provided into it (machine.provide) from src/ or actors/.',
      from: { path: '^machines/' },
      to: {
        pathNot: ['^machines/', '^src/kernel/messages\\.ts$', '^node_modules/xstate/'],
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'machines-types-are-pure',
      severity: 'error',
      comment: 'Even type-only, machines/ see nothing of src/ but the message vocabulary.',
      from: { path: '^machines/' },
      to: { path: '^(src|actors|inspector)/', pathNot: '^src/kernel/messages\\.ts$' },
    },
    {
      name: 'kernel-imports-nothing-above-it',
      severity: 'error',
      from: { path: '^src/kernel/' },
      to: { path: '^(src/(?!kernel/)|machines/|actors/|inspector/|bench/|test/|examples/)' },
    },
    {
      name: 'actors-below-components',
      severity: 'error',
      comment: 'actors/ (node I/O) use the kernel and the machines, nothing built on them.',
      from: { path: '^actors/' },
      to: { path: '^(src/(?!kernel/)|inspector/|bench/|test/|examples/)' },
    },
    {
      name: 'inspector-uses-only-the-kernel',
      severity: 'error',
      comment: 'The inspector reads the kernel (and the one duration validator, src/internet/options.ts).',
      from: { path: '^inspector/' },
      to: { path: '^(src/(?!kernel/)|machines/|actors/|bench/|test/|examples/)', pathNot: '^src/internet/options\\.ts$' },
    },
    {
      name: 'graph-below-internet',
      severity: 'error',
      from: { path: '^src/graph/' },
      to: { path: '^(src/(internet|chassis|components|cli)/|actors/|inspector/|src/index\\.ts$)' },
    },
    {
      name: 'components-below-internet',
      severity: 'error',
      comment: 'Utility components use the kernel (and graphs), not sockets or servers.',
      from: { path: '^src/components/' },
      to: { path: '^(src/(internet|chassis|cli)/|actors/|inspector/|src/index\\.ts$)' },
    },
    {
      name: 'internet-below-chassis',
      severity: 'error',
      from: { path: '^src/internet/' },
      to: { path: '^(src/(chassis|components|cli)/|inspector/|src/index\\.ts$)' },
    },
    {
      name: 'chassis-below-cli',
      severity: 'error',
      from: { path: '^src/chassis/' },
      to: { path: '^(src/cli/|inspector/|src/index\\.ts$)' },
    },
    {
      name: 'library-does-not-import-tests',
      severity: 'error',
      from: { path: '^(src|machines|actors|inspector)/' },
      to: { path: '^(test|bench|examples)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.d.ts', '.js', '.mjs', '.cjs'] },
  },
};

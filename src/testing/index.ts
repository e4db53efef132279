// `kamaelia-xstate/testing`: model-based testing from the real machines. createTestModel walks a
// machine (its `after` timers and its actors' outcomes are steps), paths run against the real
// component over loopback, coverage says what the executed paths reached.
export { createTestModel, serializeEvent } from './createTestModel.js';
export type { ActorStubOptions, AdjacencyMap, PathOptions, SimplePathOptions, StepCause, TestModel, TestModelOptions, TestPath, TestStep } from './createTestModel.js';
export type { PathCheck, PathCheckArgs, PathTestParams, PathTestResult, RealActor, StepHandler } from './runPath.js';
export type { BoxMessage } from './outputs.js';
export type { StubHandle, StubReaction, WalkAction, WalkTimers } from './stubActors.js';
export { assertFullCoverage, formatCoverage } from './coverage.js';
export type { Coverage, MachineCoverage } from './coverage.js';
export { rawClient, scriptedPeer } from './loopback.js';
export type { LoopbackConnection, ScriptedPeer } from './loopback.js';
export { watchActors } from './watchActors.js';
export type { ActorWatch } from './watchActors.js';
export { defaultSerializeState } from './stateKey.js';
export type { SerializeStateOptions } from './stateKey.js';
export { adjacencyMapToArray, toDirectedGraph } from './graphExport.js';
export type { AdjacencyEntry, DirectedGraphNode } from './graphExport.js';

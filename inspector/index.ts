// The live lifecycle inspector: createInspector() serves a page that draws components, connection
// lifecycles and events from an XState system; LifecycleTracker is its event → record model.
export { createInspector } from './server.js';
export type { Inspector, InspectorOptions } from './server.js';
export { LifecycleTracker, lifecycleStateOf } from './lifecycle.js';
export type { LifecycleTrackerOptions } from './lifecycle.js';
export { LIFECYCLE_STATES } from './records.js';
export type * from './records.js';

// A test component driven from outside: it records what arrives on its inboxes and sends or
// finishes when the test says so. Each probe is for one run.
import { box, defineComponent, type Box, type ComponentScope } from 'kamaelia-xstate';

export interface Received {
  readonly box: string;
  readonly message: unknown;
}

type Boxes = Record<string, Box<unknown>>;

function boxes(names: readonly string[]): Boxes {
  return Object.fromEntries(names.map((name) => [name, box<unknown>()]));
}

export function probe(name = 'Probe', options: { inboxes?: string[]; outboxes?: string[] } = {}) {
  const inboxNames = ['inbox', 'control', ...(options.inboxes ?? [])];
  const outboxNames = ['outbox', 'signal', ...(options.outboxes ?? [])];
  const received: Received[] = [];
  let scope: ComponentScope<Record<string, unknown>, Record<string, unknown>> | undefined;
  let starts = 0;
  let cleanups = 0;
  const component = defineComponent({
    name,
    inboxes: boxes(inboxNames),
    outboxes: boxes(outboxNames),
    body: (s) => {
      scope = s;
      starts++;
      for (const inbox of inboxNames) s.on(inbox, (message) => received.push({ box: inbox, message }));
      return () => {
        cleanups++;
      };
    },
  });
  const live = (): ComponentScope<Record<string, unknown>, Record<string, unknown>> => {
    if (!scope) throw new Error(`${name} has not started`);
    return scope;
  };
  return {
    component,
    received,
    /** Messages that arrived on one inbox, in order. */
    on: (inbox: string) => received.filter((r) => r.box === inbox).map((r) => r.message),
    send: (outbox: string, message: unknown) => live().send(outbox, message),
    finish: () => live().finish(),
    get started() {
      return starts > 0;
    },
    get starts() {
      return starts;
    },
    get cleanedUp() {
      return cleanups > 0;
    },
    get finished() {
      return scope?.finished ?? false;
    },
  };
}

/** Resolves once `condition` holds, polling; rejects with `what` after `timeoutMs`. */
export async function until(condition: () => boolean, what = 'condition', timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Lets every queued microtask and immediate run (for asserting that nothing happened). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

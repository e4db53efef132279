// The Selector's node binding: the readiness service that listens to registered sockets, and the
// lookup that finds the system's Selector or creates it on first use (Kamaelia's
// getSelectorService through the Coordinating Assistant Tracker; here the XState system registry).
import { createActor, fromCallback, type AnyActorRef } from 'xstate';
import type { AnyActorSystem } from '../src/component.js';
import { resolveInbox, type Deliver } from '../src/routing.js';
import {
  SELECTOR_SYSTEM_ID,
  selectorMachine,
  type ReadReadiness,
  type Selectable,
  type SelectorEvent,
  type SelectorNotice,
  type SendReadiness,
} from '../machines/selector.js';

const READABLE: ReadReadiness = Object.freeze({ readiness: 'readable' });
const END: ReadReadiness = Object.freeze({ readiness: 'end' });
const DRAIN: SendReadiness = Object.freeze({ readiness: 'drain' });

interface Watch {
  readonly detach: () => void;
}

/** Listens to each registered socket; one listener set per (socket, reader|writer). */
const readiness = fromCallback<{ type: 'notify'; data: SelectorNotice }>(({ receive, sendBack }) => {
  const readers = new Map<Selectable, Watch>();
  const writers = new Map<Selectable, Watch>();
  const count = (): number => readers.size + writers.size;
  const report = (before: number): void => {
    const after = count();
    if (before === 0 && after > 0) sendBack({ type: 'selector.busy', registrations: after } satisfies SelectorEvent);
    else if (before > 0 && after === 0) sendBack({ type: 'selector.idle' } satisfies SelectorEvent);
  };

  // An emitter calls the listeners it had when the event started, so a watch removed by an earlier
  // listener of the same event must still stay quiet: `live` guards that.
  const watchReader = (socket: Selectable, deliver: Deliver): Watch => {
    let live = true;
    const onReadable = (): void => void (live && deliver(READABLE));
    const onEnd = (): void => void (live && deliver(END));
    const onError = (error: Error): void => void (live && deliver({ readiness: 'error', error }));
    const onClose = (hadError: boolean): void => void (live && deliver({ readiness: 'close', hadError }));
    socket.on('readable', onReadable).on('end', onEnd).on('error', onError).on('close', onClose);
    return {
      detach: () => {
        live = false;
        socket.off('readable', onReadable).off('end', onEnd).off('error', onError).off('close', onClose);
      },
    };
  };
  const watchWriter = (socket: Selectable, deliver: Deliver): Watch => {
    let live = true;
    const onDrain = (): void => void (live && deliver(DRAIN));
    socket.on('drain', onDrain);
    return {
      detach: () => {
        live = false;
        socket.off('drain', onDrain);
      },
    };
  };

  receive(({ data: notice }) => {
    const before = count();
    switch (notice.kind) {
      case 'newReader':
      case 'newWriter': {
        const table = notice.kind === 'newReader' ? readers : writers;
        // As in Kamaelia the first registrant of a socket wins; a duplicate is ignored.
        if (table.has(notice.socket)) return;
        const deliver = resolveInbox(notice.target, notice.box);
        table.set(notice.socket, notice.kind === 'newReader' ? watchReader(notice.socket, deliver) : watchWriter(notice.socket, deliver));
        break;
      }
      case 'removeReader':
      case 'removeWriter': {
        const table = notice.kind === 'removeReader' ? readers : writers;
        table.get(notice.socket)?.detach();
        table.delete(notice.socket);
        break;
      }
    }
    report(before);
  });
  return () => {
    for (const watch of [...readers.values(), ...writers.values()]) watch.detach();
    readers.clear();
    writers.clear();
  };
});

/** The Selector with its node binding. */
export const selectorLogic = selectorMachine.provide({ actors: { readiness } });

/**
 * The actor system's Selector, created on first use. Its parent is the first user (as in Kamaelia,
 * where the component that created the Selector activates it), but it is not that user's child in
 * XState's table, so it outlives it and serves every later user in the same system.
 */
export function getSelector(system: AnyActorSystem, firstUser: AnyActorRef): AnyActorRef {
  const existing = system.get(SELECTOR_SYSTEM_ID) as AnyActorRef | undefined;
  if (existing && existing.getSnapshot().status === 'active') return existing;
  const selector = createActor(selectorLogic, { parent: firstUser, systemId: SELECTOR_SYSTEM_ID, id: SELECTOR_SYSTEM_ID });
  selector.start();
  return selector;
}

/** Sends a registration or removal to the Selector's notify inbox. */
export function notifySelector(selector: AnyActorRef, notice: SelectorNotice): void {
  selector.send({ type: 'notify', data: notice });
}

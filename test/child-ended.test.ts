// scope.onChildEnded: a body component hears a child it created (createChildActor) end, from the
// xstate.done.actor / xstate.error.actor reports XState sends a parent, without subscribing.
import { describe, expect, it } from 'vitest';
import { box, defineComponent, run, type SignalMessage } from 'kamaelia-xstate';
import { createChildActor } from '../src/kernel/childActors.js';
import { deliverToInbox } from '../src/kernel/routing.js';
import { until } from './helpers/net.js';

/** Ends on any inbox message; throws if the message is 'explode'. */
const Child = defineComponent({
  name: 'Child',
  inboxes: { inbox: box<string>() },
  outboxes: {},
  body: ({ on, finish }) => {
    on('inbox', (message) => {
      if (message === 'explode') throw new Error('child exploded');
      finish();
    });
  },
});

function Parent(ended: { id: string; error?: unknown }[]) {
  return defineComponent({
    name: 'Parent',
    inboxes: { inbox: box<string>(), control: box<SignalMessage>() },
    outboxes: {},
    body: ({ on, onChildEnded, actor }) => {
      const children = ['1', '2'].map((id) => {
        const child = createChildActor(actor!, Child, id, `${id}:Child`);
        child.start();
        return child;
      });
      onChildEnded((id, failure) => ended.push(failure ? { id, error: failure.error } : { id }));
      on('inbox', (message) => {
        const [index, text] = message.split(':') as [string, string];
        deliverToInbox(children[Number(index)]!, 'inbox', text);
      });
    },
  });
}

describe('scope.onChildEnded', () => {
  it('reports a child that finished and one that failed, with its error', async () => {
    const ended: { id: string; error?: unknown }[] = [];
    const parent = run(Parent(ended));
    try {
      parent.send('inbox', '0:bye');
      await until(() => ended.length === 1, 'the first child to end');
      expect(ended[0]).toEqual({ id: '1' });
      parent.send('inbox', '1:explode');
      await until(() => ended.length === 2, 'the second child to fail');
      expect(ended[1]).toMatchObject({ id: '2', error: expect.objectContaining({ message: 'child exploded' }) });
    } finally {
      parent.stop();
    }
  });
});

// Typed linkages: `npm run typecheck` fails if any @ts-expect-error below stops being an error,
// so each line proves that a mistake is caught by the compiler. The runtime assertions show the
// same mistakes are also caught for plain JavaScript callers.
import { describe, expect, expectTypeOf, it } from 'vitest';
import { box, defineComponent, Graphline, Pipeline, type SignalMessage } from 'kamaelia-xstate';

const Numbers = () =>
  defineComponent({
    name: 'Numbers',
    inboxes: { inbox: box<unknown>(), control: box<SignalMessage>() },
    outboxes: { outbox: box<number>(), signal: box<SignalMessage>() },
    body: ({ finish }) => finish(),
  });
const Texts = () =>
  defineComponent({
    name: 'Texts',
    inboxes: { inbox: box<string>(), control: box<SignalMessage>(), extra: box<number>() },
    outboxes: { outbox: box<string>(), signal: box<SignalMessage>() },
    body: ({ finish }) => finish(),
  });
const Anything = () =>
  defineComponent({
    name: 'Anything',
    inboxes: { inbox: box<unknown>(), control: box<SignalMessage>() },
    outboxes: { outbox: box<boolean>(), signal: box<SignalMessage>() },
    body: ({ finish }) => finish(),
  });

describe('typed linkages', () => {
  it('accepts linkages whose message types fit', () => {
    const g = Graphline(
      { n: Numbers(), t: Texts(), any: Anything() },
      { 'n.outbox': 't.extra', 't.outbox': 'any.inbox', 'n.signal': 't.control', 'self.inbox': 't.inbox', 'any.outbox': 'self.outbox' },
    );
    expect(g.inboxes).toEqual(['inbox', 'control']);
    expectTypeOf<NonNullable<typeof g.__types>['in']['inbox']>().toEqualTypeOf<string>();
    expectTypeOf<NonNullable<typeof g.__types>['out']['outbox']>().toEqualTypeOf<boolean>();
    const p = Pipeline(Texts(), Anything());
    expect(p.outboxes).toEqual(['outbox', 'signal']);
    expectTypeOf<NonNullable<typeof p.__types>['out']['outbox']>().toEqualTypeOf<boolean>();
  });

  it('rejects a misspelt child, a misspelt box and a message type the target cannot take', () => {
    expect(() =>
      Graphline(
        { n: Numbers(), t: Texts() },
        // @ts-expect-error -- no child "m"
        { 'm.outbox': 't.inbox' },
      ),
    ).toThrow(/names no child/);
    expect(() =>
      Graphline(
        { n: Numbers(), t: Texts() },
        // @ts-expect-error -- Numbers has no outbox "outbx"
        { 'n.outbx': 't.extra' },
      ),
    ).toThrow(/has no outbox "outbx"/);
    expect(() =>
      Graphline(
        { n: Numbers(), t: Texts() },
        // @ts-expect-error -- Texts has no inbox "inbx"
        { 'n.outbox': 't.inbx' },
      ),
    ).toThrow(/has no inbox "inbx"/);
    // A number is not a string: the compiler refuses; at run time JavaScript cannot tell.
    // @ts-expect-error -- Numbers.outbox sends number, Texts.inbox takes string
    Graphline({ n: Numbers(), t: Texts() }, { 'n.outbox': 't.inbox' });
    // @ts-expect-error -- Numbers.outbox sends number, Texts.inbox takes string
    Pipeline(Numbers(), Texts());
  });
});

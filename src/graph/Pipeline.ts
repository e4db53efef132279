// Pipeline(a, b, c): each outbox → the next inbox, each signal → the next control; the pipeline's
// inbox/control pass through to the first child, the last child's outbox/signal come out of the
// pipeline's. It intercepts nothing and ends when all its children have (Kamaelia P1-P6).
import { assertComponent, type AnyComponent, type Component, type InboxesOf, type Link, type OutboxesOf } from '../kernel/component.js';
import { graphComponent } from './graphComponent.js';

type BoxMessage<Boxes, Name extends string> = Name extends keyof Boxes ? Boxes[Name] : never;
type InboxMessage<C> = BoxMessage<InboxesOf<C>, 'inbox'>;
type OutboxMessage<C> = BoxMessage<OutboxesOf<C>, 'outbox'>;

/** Where a pipeline's outbox → inbox types disagree, this stands in for the offending component. */
export interface PipelineMismatch<Sent, Accepted> {
  readonly pipelineError: "the previous component's outbox sends messages this component's inbox does not accept";
  readonly sent: Sent;
  readonly accepted: Accepted;
}

/** Maps a tuple of components to itself, replacing a component whose inbox can't take what the one before sends. */
export type CheckedPipeline<T extends readonly unknown[], Prev = never, Acc extends readonly unknown[] = []> = number extends T['length']
  ? T // an array of unknown length (spread at run time) cannot be checked pairwise
  : T extends readonly [
  infer Head,
  ...infer Rest,
]
  ? CheckedPipeline<
      Rest,
      Head,
      [...Acc, [Prev] extends [never] ? Head : [OutboxMessage<Prev>] extends [InboxMessage<Head>] ? Head : PipelineMismatch<OutboxMessage<Prev>, InboxMessage<Head>>]
    >
  : Acc;

type First<T extends readonly unknown[]> = T extends readonly [infer F, ...unknown[]] ? F : T[number];
type Last<T extends readonly unknown[]> = T extends readonly [...unknown[], infer L] ? L : T[number];

export type PipelineInboxes<T extends readonly unknown[]> = {
  inbox: InboxMessage<First<T>>;
  control: BoxMessage<InboxesOf<First<T>>, 'control'>;
};
export type PipelineOutboxes<T extends readonly unknown[]> = {
  outbox: OutboxMessage<Last<T>>;
  signal: BoxMessage<OutboxesOf<Last<T>>, 'signal'>;
};

/**
 * Chains components: each one's `outbox` → the next one's `inbox`, `signal` → the next `control`; the pipeline's `inbox`/`control` go to the first and the last one's `outbox`/`signal` come out. It ends when every child has. A pair whose message types do not fit is a compile error.
 * @param components - the stages, in order (at least one)
 * @example
 * ```ts
 * await run(Pipeline(DataSource(['hello ', 'world\n']), ConsoleEchoer())).done;
 * ```
 */
export function Pipeline<const T extends readonly AnyComponent[]>(
  ...components: T & CheckedPipeline<T>
): Component<PipelineInboxes<T>, PipelineOutboxes<T>> {
  if (components.length === 0) throw new TypeError('Pipeline: needs at least one component');
  components.forEach((component, index) => assertComponent(component, `Pipeline: argument ${index}`));
  const last = components.length - 1;
  const links: Link[] = [
    { from: { child: 'self', box: 'inbox' }, to: { child: 0, box: 'inbox' } },
    { from: { child: 'self', box: 'control' }, to: { child: 0, box: 'control' } },
    { from: { child: last, box: 'outbox' }, to: { child: 'self', box: 'outbox' } },
    { from: { child: last, box: 'signal' }, to: { child: 'self', box: 'signal' } },
  ];
  for (let index = 0; index < last; index++) {
    links.push({ from: { child: index, box: 'outbox' }, to: { child: index + 1, box: 'inbox' } });
    links.push({ from: { child: index, box: 'signal' }, to: { child: index + 1, box: 'control' } });
  }
  const children = components.map((component) => ({ name: component.name, component }));
  return graphComponent('Pipeline', { children, links }, ['inbox', 'control'], ['outbox', 'signal']);
}

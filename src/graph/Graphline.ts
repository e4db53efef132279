// Graphline(children, linkages): named children wired by `{ 'A.outbox': 'B.inbox' }`. `self` names
// the Graphline's own boxes: `'self.inbox': 'A.inbox'` passes its inbox through to A, and
// `'A.outbox': 'self.outbox'` brings A's outbox out; a new name creates that box. Linkages are
// type-checked: an unknown child or box, or a message type the target box can't take, is a
// compile error. (Kamaelia treats any unknown name as the Graphline itself; we reserve `self` so a
// typo is an error instead of a silent passthrough.)
import { assertComponent, type AnyComponent, type Component, type InboxesOf, type Link, type OutboxesOf } from '../kernel/component.js';
import { graphComponent } from './graphComponent.js';
import type { SignalMessage } from '../kernel/messages.js';

type Names<C> = keyof C & string;
type InNames<X> = keyof InboxesOf<X> & string;
type OutNames<X> = keyof OutboxesOf<X> & string;
type SelfBox = `self.${string}`;

/** Every `child.outbox` that may be a linkage source. */
export type ChildSource<C> = { [N in Names<C>]: `${N}.${OutNames<C[N]>}` }[Names<C>];
/** Every `child.inbox` that may be a linkage target. */
export type ChildTarget<C> = { [N in Names<C>]: `${N}.${InNames<C[N]>}` }[Names<C>];

type SourceMessage<C, K> = K extends `${infer N}.${infer B}`
  ? N extends Names<C>
    ? B extends keyof OutboxesOf<C[N]>
      ? OutboxesOf<C[N]>[B]
      : never
    : never
  : never;

type TargetMessage<C, T> = T extends `${infer N}.${infer B}`
  ? N extends Names<C>
    ? B extends keyof InboxesOf<C[N]>
      ? InboxesOf<C[N]>[B]
      : unknown
    : unknown
  : unknown;

/** The targets that accept messages of type M (a Graphline's own outboxes accept anything). */
export type TargetsAccepting<C, M> =
  | { [N in Names<C>]: { [B in InNames<C[N]>]: [M] extends [InboxesOf<C[N]>[B]] ? `${N}.${B}` : never }[InNames<C[N]>] }[Names<C>]
  | SelfBox;

/** A Graphline's linkages, `'child.outbox': 'child.inbox'` (or `self.box` for the Graphline's own boxes), checked against the children's box names and message types. */
export type Linkages<C> = { readonly [K in ChildSource<C>]?: TargetsAccepting<C, SourceMessage<C, K>> } & {
  readonly [K in SelfBox]?: ChildTarget<C> | SelfBox;
};

type OwnInboxes<C, L> = {
  [K in keyof L as K extends `self.${infer B}` ? B : never]: TargetMessage<C, L[K]>;
};
type OwnOutboxes<C, L> = {
  [K in keyof L as L[K] extends `self.${infer B}` ? B : never]: K extends `self.${string}` ? unknown : SourceMessage<C, K>;
};

export type GraphlineInboxes<C, L> = Omit<{ inbox: unknown; control: unknown }, keyof OwnInboxes<C, L>> & OwnInboxes<C, L>;
export type GraphlineOutboxes<C, L> = Omit<{ outbox: never; signal: SignalMessage }, keyof OwnOutboxes<C, L>> & OwnOutboxes<C, L>;

/** `"a, b, c"` from the string union `U` (in the compiler's order of the union). */
type Join<U extends string, Last = LastOf<U>> = [U] extends [never] ? '' : [Exclude<U, Last>] extends [never] ? `${U}` : `${Last & string}, ${Join<Exclude<U, Last & string>>}`;
// One member of a union: its members as parameters of functions, intersected (overloads), and the last overload's parameter inferred.
type LastOf<U> = ((U extends unknown ? (f: (u: U) => void) => void : never) extends (f: infer I) => void ? I : never) extends (u: infer L) => void ? L : never;

/**
 * What a linkage key that names no child outbox must be instead: a sentence naming the valid
 * sources near it (the child's outboxes, or the children), so the compiler's error says it. Short,
 * as the compiler cuts types longer than 160 characters in its messages.
 */
type UnknownSource<C, K> = K extends `${infer N}.${infer B}`
  ? N extends Names<C>
    ? `${N} has no outbox '${B}'; its linkage sources: ${Join<`${N}.${OutNames<C[N]>}`>}`
    : `no child '${N}'; the children: ${Join<Names<C>>}`
  : `a linkage source is 'child.outbox' or 'self.box'`;

/**
 * The linkages as given, except that a key naming no child outbox (and not `self.<box>`) must map
 * to {@link UnknownSource}, which no target is: the error on that key names the valid sources.
 */
type CheckedLinkages<C, L> = { readonly [K in keyof L]: K extends ChildSource<C> | SelfBox ? L[K] : UnknownSource<C, K> };

/**
 * Named children wired by linkages. `self` names the Graphline's own boxes; a misspelt child or box, or a message type the target cannot take, is a compile error (and a TypeError at run time). It ends when every child has, with Kamaelia's shutdown rules.
 * @param children - the children by name
 * @param linkages - which outbox goes to which inbox
 * @example
 * ```ts
 * run(Graphline(
 *   { greeting: OneShot('hi\n'), echo: ConsoleEchoer() },
 *   { 'greeting.outbox': 'echo.inbox', 'greeting.signal': 'echo.control' },
 * ));
 * ```
 */
export function Graphline<const C extends Readonly<Record<string, AnyComponent>>, const L extends Linkages<C>>(
  children: C,
  linkages: CheckedLinkages<C, L>,
): Component<GraphlineInboxes<C, L>, GraphlineOutboxes<C, L>> {
  if (children === null || typeof children !== 'object') throw new TypeError('Graphline: children must be an object of named components');
  if (linkages === null || linkages === undefined || typeof linkages !== 'object') {
    throw new TypeError('Graphline: linkages are required (use {} for none)');
  }
  const names = Object.keys(children);
  const entries = names.map((name) => {
    if (name === 'self') throw new TypeError('Graphline: "self" names the Graphline itself and cannot be a child');
    if (name.includes('.')) throw new TypeError(`Graphline: child name ${JSON.stringify(name)} must not contain "."`);
    const component: unknown = children[name];
    assertComponent(component, `Graphline: child ${JSON.stringify(name)}`);
    return { name, component };
  });
  const indexOf = new Map(names.map((name, index) => [name, index]));
  const ownInboxes = ['inbox', 'control'];
  const ownOutboxes = ['outbox', 'signal'];

  const endpoint = (spec: unknown, side: 'source' | 'target'): { child: number | 'self'; box: string } => {
    if (typeof spec !== 'string' || !/^[^.]+\.[^.]+$/.test(spec)) {
      throw new TypeError(`Graphline: linkage ${side} ${JSON.stringify(spec)} must look like "child.box"`);
    }
    const [name, box] = spec.split('.') as [string, string];
    if (name === 'self') {
      (side === 'source' ? ownInboxes : ownOutboxes).push(box);
      return { child: 'self', box };
    }
    const index = indexOf.get(name);
    if (index === undefined) {
      throw new TypeError(`Graphline: linkage ${side} ${JSON.stringify(spec)} names no child (children: ${names.join(', ') || 'none'})`);
    }
    const component = entries[index]!.component;
    const boxes: readonly string[] = side === 'source' ? component.outboxes : component.inboxes;
    if (!boxes.includes(box)) {
      throw new TypeError(
        `Graphline: linkage ${side} ${JSON.stringify(spec)}: ${component.name} has no ${side === 'source' ? 'outbox' : 'inbox'} "${box}" (it has ${boxes.join(', ')})`,
      );
    }
    return { child: index, box };
  };

  const links: Link[] = Object.entries(linkages as Record<string, unknown>).map(([from, to]) => {
    const link = { from: endpoint(from, 'source'), to: endpoint(to, 'target') };
    if (link.from.child === 'self' && link.to.child === 'self') {
      throw new TypeError(`Graphline: linkage ${from} → ${String(to)} joins the Graphline to itself; link through a child instead`);
    }
    return link;
  });
  return graphComponent('Graphline', { children: entries, links }, ownInboxes, ownOutboxes);
}

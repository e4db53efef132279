// A value a machine carries in its context but must never serialise: a socket, a queue of buffers.
// Inspectors and persistence JSON-encode snapshots; a raw net.Socket there is circular and a
// 32 MiB queue would be copied. JSON sees only the label.
/** A value a machine carries in its context that JSON must not copy (a socket, a queue): it serialises as its label. */
export class Opaque<T> {
  constructor(
    readonly value: T,
    readonly label: string,
  ) {}

  /** The label: what inspectors and persistence see instead of the value. */
  toJSON(): string {
    return this.label;
  }
}

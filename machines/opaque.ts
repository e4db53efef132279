// A value a machine carries in its context but must never serialise: a socket, a queue of buffers.
// Inspectors and persistence JSON-encode snapshots; a raw net.Socket there is circular and a
// 32 MiB queue would be copied. JSON sees only the label.
export class Opaque<T> {
  constructor(
    readonly value: T,
    readonly label: string,
  ) {}

  toJSON(): string {
    return this.label;
  }
}

// What a benchmark server process needs from an echo server, raw or ours.
export interface EchoServer {
  readonly port: number;
  /** Connections open right now, if the server can tell. */
  connections(): number | undefined;
  close(): Promise<void>;
}

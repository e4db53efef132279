// Kamaelia's control/signal vocabulary as plain objects tagged by `kind`.
// Kamaelia dispatches by isinstance, so subclass relations matter: a socketShutdown counts as a
// producerFinished and a serverShutdown as a shutdownMicroprocess. The predicates below keep that.

/** Why something ended badly: a stable code (ECONNREFUSED, ETIMEDOUT, ECOMPONENT, ...) and a sentence. */
export interface Reason {
  readonly code: string;
  readonly message: string;
}

/** "I have no more to send" (Kamaelia's producerFinished): a component's last word on `signal`, and a request on `control` to finish after what is queued. */
export interface ProducerFinished {
  readonly kind: 'producerFinished';
  /** Present when an error ended the producer. */
  readonly reason?: Reason;
  /** Who finished, for people reading logs and the inspector. */
  readonly source?: string;
  /** Queued bytes that were never written (set by socket components on an abrupt close). */
  readonly unsentBytes?: number;
}

/** "Stop now" (Kamaelia's shutdownMicroprocess): sent to `control` to end a component at once. */
export interface ShutdownMicroprocess {
  readonly kind: 'shutdownMicroprocess';
  readonly reason?: Reason;
}

/** "The connection is closed". A producerFinished in Kamaelia's class hierarchy. */
export interface SocketShutdown {
  readonly kind: 'socketShutdown';
  readonly reason?: Reason;
  readonly source?: string;
  readonly unsentBytes?: number;
}

/** "Stop listening". A shutdownMicroprocess in Kamaelia's class hierarchy. */
export interface ServerShutdown {
  readonly kind: 'serverShutdown';
  readonly reason?: Reason;
}

/** Who is on the other end of an accepted connection: what a server's `protocol(info)` is called with. */
export interface PeerInfo {
  /** The client's address: the socket's peer, or the source a trusted proxy's PROXY header gave. */
  readonly peer: string;
  readonly peerPort: number;
  readonly localIp: string;
  readonly localPort: number;
  /** Set when the server takes the PROXY protocol: the proxy's own address (the socket's peer). */
  readonly proxy?: string;
  readonly proxyPort?: number;
  /** The PROXY header as the proxy sent it (version, command, addresses, v2 TLVs). */
  readonly proxyHeader?: ProxyHeader;
}

/** A Type-Length-Value record of a PROXY v2 header (ALPN, authority, SSL, unique id, ...), kept as sent. */
export interface ProxyTlv {
  readonly type: number;
  readonly value: Uint8Array;
}

/** What a valid PROXY protocol header (v1 or v2) said. */
export interface ProxyHeader {
  readonly version: 1 | 2;
  /** LOCAL: the proxy speaks for itself (a health check); the connection's own addresses hold. */
  readonly command: 'PROXY' | 'LOCAL';
  /** UNKNOWN (v1) or UNSPEC/UNIX (v2) carry no TCP addresses: the connection's own addresses hold. */
  readonly family: 'TCP4' | 'TCP6' | 'UNKNOWN';
  readonly source?: string;
  readonly sourcePort?: number;
  readonly destination?: string;
  readonly destinationPort?: number;
  /**
   * v2 TLVs in the order sent; empty for v1. The header keeps the TLVs' bytes (at most
   * PROXY_V2_MAX_LENGTH) in one array and builds this list from them each time it is read, so a
   * connection holds its TLVs in about their own size: read it once and keep the result if you
   * look at it often. Each `value` is a view into those bytes.
   */
  readonly tlvs: readonly ProxyTlv[];
}

/** A server accepted a connection; `csa` is the connection's component handle (opaque here). */
export interface NewCSA<Csa = unknown> {
  readonly kind: 'newCSA';
  readonly id: number;
  readonly csa: Csa;
  readonly info: PeerInfo;
}

/** A server's connection has closed (on TCPServer's `protocolHandlerSignal`); `reason` when an error closed it. */
export interface ShutdownCSA<Csa = unknown> {
  readonly kind: 'shutdownCSA';
  readonly id: number;
  readonly csa: Csa;
  readonly reason?: Reason;
}

/** A server is bound and accepting: sent once on its `listening` outbox. */
export interface Listening {
  readonly kind: 'listening';
  /** The bound address; for a Unix domain socket (`path`), the path. */
  readonly address: string;
  /** The bound port; 0 for a Unix domain socket. */
  readonly port: number;
  readonly family: 'IPv4' | 'IPv6' | 'Unix';
}

/** A component inside a graph threw; it was stopped and nothing else was. */
export interface ComponentFailed {
  readonly kind: 'componentFailed';
  /** The failed component's path in the graph, e.g. `Pipeline/1:TCPClient`. */
  readonly component: string;
  readonly reason: Reason;
}

/** A message sent to a box that cannot take it (wrong type, malformed). Reported, then dropped. */
export interface BadMessage {
  readonly kind: 'badMessage';
  readonly box: string;
  readonly reason: Reason;
}

/** Every message that asks a component to end, or says one has: what `control` inboxes take. */
export type ControlMessage = ProducerFinished | ShutdownMicroprocess | SocketShutdown | ServerShutdown;
/** What `signal` outboxes send: a control message, a `componentFailed` report or a `badMessage` report. */
export type SignalMessage = ControlMessage | ComponentFailed | BadMessage;

/** Extra facts a finished-producer message may carry. */
export interface FinishedDetails {
  readonly source?: string;
  readonly unsentBytes?: number;
}

function finished<K extends 'producerFinished' | 'socketShutdown'>(kind: K, reason: Reason | undefined, details: FinishedDetails) {
  const message: { kind: K; reason?: Reason; source?: string; unsentBytes?: number } = { kind };
  if (reason) message.reason = reason;
  if (details.source !== undefined) message.source = details.source;
  if (details.unsentBytes !== undefined) message.unsentBytes = details.unsentBytes;
  return message;
}

/**
 * Makes a {@link ProducerFinished}.
 * @param reason - set when an error ended the producer
 * @param details - who finished (`source`) and bytes never written (`unsentBytes`)
 * @example
 * ```ts
 * handle.send('control', producerFinished()); // send what is queued, then close
 * ```
 */
export function producerFinished(reason?: Reason, details: FinishedDetails = {}): ProducerFinished {
  return finished('producerFinished', reason, details);
}

/**
 * Makes a {@link ShutdownMicroprocess}.
 * @param reason - why, if an error is the cause
 */
export function shutdownMicroprocess(reason?: Reason): ShutdownMicroprocess {
  return reason ? { kind: 'shutdownMicroprocess', reason } : { kind: 'shutdownMicroprocess' };
}

/**
 * Makes a {@link SocketShutdown}.
 * @param reason - set when an error closed the connection
 * @param details - who closed (`source`) and bytes never written (`unsentBytes`)
 */
export function socketShutdown(reason?: Reason, details: FinishedDetails = {}): SocketShutdown {
  return finished('socketShutdown', reason, details);
}

/**
 * Makes a {@link ServerShutdown}: send it to a server's `control` to stop accepting and drain.
 * @param reason - why, if an error is the cause
 * @example
 * ```ts
 * process.once('SIGINT', () => server.send('control', serverShutdown()));
 * ```
 */
export function serverShutdown(reason?: Reason): ServerShutdown {
  return reason ? { kind: 'serverShutdown', reason } : { kind: 'serverShutdown' };
}

/**
 * Makes a {@link NewCSA} announcement.
 * @param id - the connection's number within its server
 * @param csa - the connection's CSA actor
 * @param info - who is on the other end
 */
export function newCSA<Csa>(id: number, csa: Csa, info: PeerInfo): NewCSA<Csa> {
  return { kind: 'newCSA', id, csa, info };
}

/**
 * Makes a {@link ShutdownCSA} announcement.
 * @param id - the connection's number within its server
 * @param csa - the connection's CSA actor
 * @param reason - set when an error closed it
 */
export function shutdownCSA<Csa>(id: number, csa: Csa, reason?: Reason): ShutdownCSA<Csa> {
  return reason ? { kind: 'shutdownCSA', id, csa, reason } : { kind: 'shutdownCSA', id, csa };
}

/**
 * Makes a {@link Listening} announcement.
 * @param address - the bound address (a path for a Unix domain socket)
 * @param port - the bound port (0 for a Unix domain socket)
 * @param family - `'IPv4'`, `'IPv6'` or `'Unix'`
 */
export function listening(address: string, port: number, family: Listening['family']): Listening {
  return { kind: 'listening', address, port, family };
}

/**
 * Makes a {@link ComponentFailed} report.
 * @param component - the failed component's path in its graph
 * @param reason - what it threw
 */
export function componentFailed(component: string, reason: Reason): ComponentFailed {
  return { kind: 'componentFailed', component, reason };
}

/**
 * Makes a {@link BadMessage} report.
 * @param box - the inbox the message arrived on
 * @param reason - what is wrong with it
 */
export function badMessage(box: string, reason: Reason): BadMessage {
  return { kind: 'badMessage', box, reason };
}

/**
 * How an error report names a value it rejected: its type and a short look at it (`string "abc"`,
 * `Buffer(12)`). Never throws, even for a hostile Proxy.
 */
export function describeValue(value: unknown): string {
  try {
    if (value === null) return 'null';
    if (value instanceof Uint8Array) return `${value.constructor.name}(${value.length})`;
    if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
    if (typeof value === 'string') return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
    return `${typeof value} ${String(value)}`;
  } catch {
    return `${typeof value} (unreadable: reading it threw)`;
  }
}

/** Uint8Array or string (what a socket writes), false for anything else; never throws. */
export function isBytes(value: unknown): value is Uint8Array | string {
  if (typeof value === 'string') return true;
  try {
    return value instanceof Uint8Array;
  } catch {
    return false;
  }
}

/**
 * Makes a {@link Reason}.
 * @param code - a stable code (`ECONNREFUSED`, `ETIMEDOUT`, ...)
 * @param message - a sentence for people
 */
export function reason(code: string, message: string): Reason {
  return { code, message };
}

/** Turns anything thrown into a Reason, keeping Node's `code` when there is one. */
export function reasonFromError(error: unknown, fallbackCode = 'ECOMPONENT'): Reason {
  if (error && typeof error === 'object') {
    const { code, message } = error as { code?: unknown; message?: unknown };
    return {
      code: typeof code === 'string' && code ? code : fallbackCode,
      message: typeof message === 'string' && message ? message : String(error),
    };
  }
  return { code: fallbackCode, message: String(error) };
}

/** What kindOf returns for a message whose `kind` cannot be read (a getter or Proxy trap threw). */
export const UNREADABLE_KIND: unique symbol = Symbol('kamaelia.unreadableKind');

/**
 * A message's `kind` tag, read so that a hostile message (a throwing getter, a throwing Proxy)
 * cannot throw past the component that received it: undefined when it has none, UNREADABLE_KIND
 * when reading it threw.
 */
export function kindOf(message: unknown): unknown {
  if (message === null || (typeof message !== 'object' && typeof message !== 'function')) return undefined;
  try {
    return (message as { kind?: unknown }).kind;
  } catch {
    return UNREADABLE_KIND;
  }
}

/** True when reading the message's `kind` throws: it can only be reported and dropped. */
export function isUnreadable(message: unknown): boolean {
  return kindOf(message) === UNREADABLE_KIND;
}

/**
 * True for the messages a control inbox understands: producerFinished, shutdownMicroprocess and their
 * subclasses. The same test as {@link isShutdownRequest}, under the name control inboxes use.
 */
export function isControlMessage(message: unknown): message is ControlMessage {
  return isShutdownRequest(message);
}

/** True for producerFinished and its Kamaelia subclass socketShutdown. */
export function isProducerFinished(message: unknown): message is ProducerFinished | SocketShutdown {
  const kind = kindOf(message);
  return kind === 'producerFinished' || kind === 'socketShutdown';
}

/** True for shutdownMicroprocess and its Kamaelia subclass serverShutdown. */
export function isShutdownMicroprocess(message: unknown): message is ShutdownMicroprocess | ServerShutdown {
  const kind = kindOf(message);
  return kind === 'shutdownMicroprocess' || kind === 'serverShutdown';
}

/**
 * True for {@link SocketShutdown} only (not a plain producerFinished).
 * @param message - any value
 */
export function isSocketShutdown(message: unknown): message is SocketShutdown {
  return kindOf(message) === 'socketShutdown';
}

/**
 * True for {@link ServerShutdown} only (not a plain shutdownMicroprocess).
 * @param message - any value
 */
export function isServerShutdown(message: unknown): message is ServerShutdown {
  return kindOf(message) === 'serverShutdown';
}

/** Either way of asking a component to end. */
export function isShutdownRequest(message: unknown): message is ControlMessage {
  const kind = kindOf(message); // read once: a hostile getter may answer differently each time
  return kind === 'producerFinished' || kind === 'socketShutdown' || kind === 'shutdownMicroprocess' || kind === 'serverShutdown';
}

/**
 * True for a {@link NewCSA} announcement.
 * @param message - any value
 */
export function isNewCSA(message: unknown): message is NewCSA {
  return kindOf(message) === 'newCSA';
}

/**
 * True for a {@link ShutdownCSA} announcement.
 * @param message - any value
 */
export function isShutdownCSA(message: unknown): message is ShutdownCSA {
  return kindOf(message) === 'shutdownCSA';
}

/**
 * True for a {@link Listening} announcement.
 * @param message - any value
 */
export function isListening(message: unknown): message is Listening {
  return kindOf(message) === 'listening';
}

/**
 * True for a {@link ComponentFailed} report.
 * @param message - any value
 */
export function isComponentFailed(message: unknown): message is ComponentFailed {
  return kindOf(message) === 'componentFailed';
}

/**
 * True for a {@link BadMessage} report.
 * @param message - any value
 */
export function isBadMessage(message: unknown): message is BadMessage {
  return kindOf(message) === 'badMessage';
}

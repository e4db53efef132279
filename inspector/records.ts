// The records the inspector streams to its page and writes to a recording, one JSON object each.
// They are derived from XState's inspection events rather than being those events: payloads are
// reduced to sizes, connection lifecycles are named, and components carry their boxes and links.
// The page (inspector/page/store.js) is the other end of this format.

/** The connection lifecycle states the swimlanes draw. */
export const LIFECYCLE_STATES = ['delaying', 'connecting', 'connected', 'upgradingTls', 'flushing', 'closed', 'failed'] as const;
/** A connection lifecycle state the inspector draws as a swimlane segment. */
export type LifecycleState = (typeof LIFECYCLE_STATES)[number];
export const TERMINAL_STATES: ReadonlySet<string> = new Set<LifecycleState>(['closed', 'failed']);

/** Why a connection ended badly, as a record carries it. */
export interface ReasonRecord {
  readonly code?: string;
  readonly message: string;
}

/** First record of a stream or recording. */
export interface HelloRecord {
  readonly k: 'hello';
  readonly t: number;
  readonly version: 1;
  /** How many leading payload bytes log records may carry (0: none, sizes only). */
  readonly showPayloadBytes: number;
  /** Whether machine definitions carry their context values (else keys and types only). */
  readonly showContext?: boolean;
  /** The server's history limits, which the page applies to what it holds too. */
  readonly limits?: {
    /** Finished connections (and ended actors) kept, the newest. */
    readonly keepFinished: number;
    /** Steps kept per actor: its first ones and its latest ones. */
    readonly stepsPerActor: number;
  };
  /** In a recording cut into files (`recordMaxBytes`): this file's number, 1 for the first. A later
   *  file starts with the history kept at that moment, then goes on. */
  readonly part?: number;
}

/** An actor was created. Components carry their boxes; graphs their children and linkages. */
export interface ActorRecord {
  readonly k: 'actor';
  readonly t: number;
  /** XState session id, unique within the process (`x:12`). */
  readonly id: string;
  readonly parent: string | null;
  /** Slash-separated path from the root, e.g. `Graphline/0:server`. */
  readonly path: string;
  /** Name within its graph (`1:TCPClient`), or the actor id for a non-component actor. */
  readonly name: string;
  /** The component's name; null for an actor that is not a component (an internal helper). */
  readonly component: string | null;
  readonly inboxes?: readonly string[];
  readonly outboxes?: readonly string[];
  /** Key of the {@link MachineRecord} describing its machine, when its logic is a state machine. */
  readonly machine?: string;
  readonly graph?: {
    readonly children: readonly { readonly name: string; readonly component: string }[];
    readonly links: readonly { readonly from: BoxRef; readonly to: BoxRef }[];
  };
}

/** One end of a linkage in a graph record: a component's box. */
export interface BoxRef {
  readonly child: number | 'self';
  readonly box: string;
}

/**
 * A state machine's definition, sent once per machine before the first actor that runs it: its
 * config as XState holds it (`machine.config`), with functions replaced by `{ type: name }` — the
 * same form @statelyai/inspect sends, so the page draws users' machines and ours alike.
 */
export interface MachineRecord {
  readonly k: 'machine';
  readonly t: number;
  readonly machine: string;
  readonly definition: unknown;
  /**
   * Set when the definition arrived cut short (@statelyai/inspect replaces what lies deeper than its
   * `serializationDepthLimit` with `"[Object]"`/`"[Array]"`): the paths where it was cut.
   */
  readonly truncated?: readonly string[];
}

/** A machine actor's state value changed (its first one included), and the event that did it. */
export interface StepRecord {
  readonly k: 'step';
  readonly t: number;
  readonly id: string;
  readonly value: unknown;
  readonly event: string;
}

/** Steps of an actor left out between its first and its latest ones (the per-actor step cap). */
export interface StepsDroppedRecord {
  readonly k: 'stepsDropped';
  readonly t: number;
  readonly id: string;
  readonly count: number;
}

/** Finished connections and ended actors dropped from the history before this snapshot (the `keepFinished` cap). */
export interface TrimmedRecord {
  readonly k: 'trimmed';
  readonly t: number;
  readonly lanes: number;
  readonly actors: number;
}

/** Another actor (a client's socket adapter) now feeds a connection's lane. */
export interface JoinRecord {
  readonly k: 'join';
  readonly t: number;
  readonly lane: string;
  readonly id: string;
}

/** A connection's TLS handshake finished with this protocol (`TLSv1.3`). */
export interface TlsRecord {
  readonly k: 'tls';
  readonly t: number;
  readonly lane: string;
  readonly protocol: string;
}

/** An actor stopped running. */
export interface EndRecord {
  readonly k: 'end';
  readonly t: number;
  readonly id: string;
  readonly status: 'done' | 'error' | 'stopped';
  readonly reason?: ReasonRecord;
}

/** A connection appeared: one swimlane, keyed by the actor that owns its lifecycle. */
export interface LaneRecord {
  readonly k: 'lane';
  readonly t: number;
  readonly lane: string;
  readonly side: 'client' | 'server';
  readonly path: string;
}

/** A connection entered a lifecycle state. */
export interface StateRecord {
  readonly k: 'state';
  readonly t: number;
  readonly lane: string;
  readonly state: LifecycleState;
  /** Set when the state is terminal and something said why. */
  readonly reason?: ReasonRecord;
}

/** Who the connection talks to, once known. */
export interface PeerRecord {
  readonly k: 'peer';
  readonly t: number;
  readonly lane: string;
  readonly peer: string;
  /** Our end of it (`127.0.0.1:8080`), when known. */
  readonly local?: string;
}

/** Outbox → inbox links made at run time between two actors (a server's socket adapter and its handler). */
export interface WireRecord {
  readonly k: 'wire';
  readonly t: number;
  readonly from: string;
  readonly outbox: string;
  readonly to: string;
  readonly inbox: string;
}

/** Byte totals of a connection so far (coalesced: one per lane per batch at most). */
export interface BytesRecord {
  readonly k: 'bytes';
  readonly t: number;
  readonly lane: string;
  readonly in: number;
  readonly out: number;
}

/** One event an actor received (inbox deliveries are `{ type: <inbox> }`). */
export interface LogRecord {
  readonly k: 'log';
  readonly t: number;
  readonly id: string;
  readonly type: string;
  /** Sender's session id, when an actor sent it. */
  readonly from?: string;
  /** Payload size in bytes, for Uint8Array or string data. */
  readonly size?: number;
  /** The first payload bytes as hex, only when showPayloadBytes > 0. */
  readonly head?: string;
  /** The `kind` of a control/signal message (`producerFinished`, ...). */
  readonly kind?: string;
}

/** Log records left out of a batch because there were too many (counted, not sent). */
export interface DroppedRecord {
  readonly k: 'dropped';
  readonly t: number;
  readonly count: number;
}

/** Everything the inspector sends its page or writes to a recording, one JSON object a record. */
export type InspectorRecord =
  | HelloRecord
  | ActorRecord
  | MachineRecord
  | StepRecord
  | StepsDroppedRecord
  | TrimmedRecord
  | JoinRecord
  | TlsRecord
  | WireRecord
  | EndRecord
  | LaneRecord
  | StateRecord
  | PeerRecord
  | BytesRecord
  | LogRecord
  | DroppedRecord;

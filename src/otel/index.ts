// kamaelia-xstate/otel: OpenTelemetry metrics from the servers' diagnostics_channel events
// (src/internet/diagnostics.ts), with the instruments ASP.NET Core's Kestrel defines for the same
// facts (kestrel.active_connections, kestrel.connection.duration, ...) under our own prefix, and the
// same attributes (network.transport, server.address, server.port, error.type). Only this subpath
// imports @opentelemetry/api (an optional peer dependency); the main entry never does.
import diagnosticsChannel from 'node:diagnostics_channel';
import { metrics, type Attributes, type MeterProvider, type ObservableResult } from '@opentelemetry/api';
import {
  DIAGNOSTICS_CHANNELS,
  type ConnectionCloseMessage,
  type ConnectionOpenMessage,
  type DiagnosticsServer,
  type ProxyRejectedMessage,
  type ServerErrorMessage,
  type TlsHandshakeErrorMessage,
  type TlsHandshakeMessage,
  type TlsHandshakeStartMessage,
} from '../internet/diagnostics.js';

/** Options of {@link instrumentServers}. */
export interface ServerMetricsOptions {
  /** Where the instruments are made. @defaultValue the global one (`metrics.getMeterProvider()` of @opentelemetry/api) */
  readonly meterProvider?: MeterProvider;
  /** Instrument names start with this and a dot: `kamaelia.active_connections`, ... @defaultValue 'kamaelia' */
  readonly prefix?: string;
}

/** The instruments' names without the prefix, as Kestrel names them (plus accept_errors). */
export const SERVER_METRICS = {
  /** UpDownCounter (asynchronous), `{connection}`: connections open now. */
  activeConnections: 'active_connections',
  /** Histogram, seconds: how long each connection lasted; `error.type` when an error ended it. */
  connectionDuration: 'connection.duration',
  /** Counter, `{connection}`: connections turned away (maxConnections, or at the PROXY gate); `error.type` says which. */
  rejectedConnections: 'rejected_connections',
  /** Histogram, seconds: implicit-TLS handshakes; `error.type` when one failed. */
  tlsHandshakeDuration: 'tls_handshake.duration',
  /** UpDownCounter (asynchronous), `{handshake}`: implicit-TLS handshakes under way. */
  activeTlsHandshakes: 'active_tls_handshakes',
  /** Counter, `{error}`: accept() errors the server survived; `error.type` is the code. */
  acceptErrors: 'accept_errors',
} as const;

/** How many connection durations wait to be recorded at most (see flushDurations). */
const DURATION_BATCH = 256;

/** Kestrel's bucket boundaries for durations, in seconds. */
const DURATION_BUCKETS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];

/** What {@link instrumentServers} returns. */
export interface ServerMetrics {
  /** Unsubscribes from the channels (the instruments stay with their meter). */
  stop(): void;
}

/**
 * Records OpenTelemetry metrics for every TCPServer, ConnectedServer and SingleServer in this
 * process from now on (and, in a cluster's primary, for its workers, relayed with `kamaelia.worker`
 * when this runs before the server): subscribes to the diagnostics channels. Instruments (names
 * prefixed `kamaelia.` by default): `active_connections`, `connection.duration`,
 * `rejected_connections`, `tls_handshake.duration`, `active_tls_handshakes`, `accept_errors`; see
 * {@link SERVER_METRICS}. Attributes: `network.transport`, `server.address`, `server.port`, and
 * `error.type` where something failed, `tls.protocol.version` on handshakes.
 *
 * @example
 * ```ts
 * import { MeterProvider } from '@opentelemetry/sdk-metrics';
 * import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
 * const meterProvider = new MeterProvider({ readers: [new PrometheusExporter({ port: 9464 })] });
 * instrumentServers({ meterProvider });
 * ```
 */
export function instrumentServers(options: ServerMetricsOptions = {}): ServerMetrics {
  if (options === null || typeof options !== 'object') throw new TypeError('instrumentServers: options must be an object');
  const prefix = options.prefix ?? 'kamaelia';
  if (typeof prefix !== 'string' || !/^[A-Za-z][A-Za-z0-9_.-]*$/.test(prefix)) {
    throw new TypeError(`instrumentServers: prefix must start with a letter and hold only letters, digits, _ . -, got ${JSON.stringify(prefix)}`);
  }
  const provider = options.meterProvider ?? metrics.getMeterProvider();
  const meter = provider.getMeter('kamaelia-xstate');
  const name = (short: string): string => `${prefix}.${short}`;
  // The two gauges of things under way are asynchronous UpDownCounters read at collection time from
  // plain per-server counts: a connection then costs one SDK call (its duration), not three.
  const activeConnections = meter.createObservableUpDownCounter(name(SERVER_METRICS.activeConnections), { unit: '{connection}', description: 'Number of connections that are currently active on the server.' });
  const connectionDuration = meter.createHistogram(name(SERVER_METRICS.connectionDuration), {
    unit: 's',
    description: 'The duration of connections on the server.',
    advice: { explicitBucketBoundaries: DURATION_BUCKETS },
  });
  const rejectedConnections = meter.createCounter(name(SERVER_METRICS.rejectedConnections), { unit: '{connection}', description: 'Number of connections rejected by the server.' });
  const tlsHandshakeDuration = meter.createHistogram(name(SERVER_METRICS.tlsHandshakeDuration), {
    unit: 's',
    description: 'The duration of TLS handshakes on the server.',
    advice: { explicitBucketBoundaries: DURATION_BUCKETS },
  });
  const activeTlsHandshakes = meter.createObservableUpDownCounter(name(SERVER_METRICS.activeTlsHandshakes), { unit: '{handshake}', description: 'Number of TLS handshakes that are currently in progress on the server.' });
  const acceptErrors = meter.createCounter(name(SERVER_METRICS.acceptErrors), { unit: '{error}', description: 'Number of accept errors the server went on after.' });

  // One record per server (its attributes and counts), not per connection: the common case allocates nothing.
  interface ServerRecord {
    readonly attributes: Attributes;
    /** The attributes with each error.type seen, made once (a stream of resets allocates nothing). */
    readonly withError: Map<string, Attributes>;
    connections: number;
    handshakes: number;
  }
  const recordOf = new WeakMap<DiagnosticsServer, ServerRecord>();
  /** By attributes (a server that binds again is a new DiagnosticsServer with the same attributes). */
  const records = new Map<string, ServerRecord>();
  const recordFor = (server: DiagnosticsServer): ServerRecord => {
    let record = recordOf.get(server);
    if (record === undefined) {
      const key = `${server.transport}|${server.address}|${server.port}|${server.worker ?? ''}`;
      record = records.get(key);
      if (record === undefined) {
        const attributes: Attributes = {
          'network.transport': server.transport,
          'server.address': server.address,
          ...(server.transport === 'tcp' ? { 'server.port': server.port } : {}),
          ...(server.worker !== undefined ? { 'kamaelia.worker': server.worker } : {}),
        };
        record = { attributes, withError: new Map(), connections: 0, handshakes: 0 };
        records.set(key, record);
      }
      recordOf.set(server, record);
    }
    return record;
  };
  const base = (server: DiagnosticsServer): Attributes => recordFor(server).attributes;
  // Connection durations are handed to the SDK in batches, at most DURATION_BATCH at a time and at
  // every collection (the SDK runs observable callbacks before it reads its histograms): one tight
  // loop of records costs less per connection than a record in the middle of each close.
  const pendingDurations = new Float64Array(DURATION_BATCH);
  const pendingAttributes: Attributes[] = new Array<Attributes>(DURATION_BATCH);
  let pending = 0;
  const flushDurations = (): void => {
    for (let i = 0; i < pending; i++) connectionDuration.record(pendingDurations[i]!, pendingAttributes[i]);
    pending = 0;
  };
  const observeConnections = (result: ObservableResult): void => {
    flushDurations();
    for (const record of records.values()) result.observe(record.connections, record.attributes);
  };
  const observeHandshakes = (result: ObservableResult): void => {
    for (const record of records.values()) result.observe(record.handshakes, record.attributes);
  };
  activeConnections.addCallback(observeConnections);
  activeTlsHandshakes.addCallback(observeHandshakes);
  const withError = (server: DiagnosticsServer, code: string | undefined): Attributes => {
    const record = recordFor(server);
    if (code === undefined) return record.attributes;
    let attributes = record.withError.get(code);
    if (attributes === undefined) {
      attributes = { ...record.attributes, 'error.type': code };
      record.withError.set(code, attributes);
    }
    return attributes;
  };

  const handlers: Array<[string, (message: unknown) => void]> = [
    [DIAGNOSTICS_CHANNELS.connectionOpen, (message) => void recordFor((message as ConnectionOpenMessage).server).connections++],
    [
      DIAGNOSTICS_CHANNELS.connectionClose,
      (message) => {
        const { server, durationMs, reason } = message as ConnectionCloseMessage;
        recordFor(server).connections--;
        pendingDurations[pending] = durationMs / 1000;
        pendingAttributes[pending++] = withError(server, reason?.code);
        if (pending === DURATION_BATCH) flushDurations();
      },
    ],
    [DIAGNOSTICS_CHANNELS.connectionRejected, (message) => rejectedConnections.add(1, withError((message as ServerErrorMessage).server, (message as ServerErrorMessage).reason.code))],
    [DIAGNOSTICS_CHANNELS.proxyRejected, (message) => rejectedConnections.add(1, withError((message as ProxyRejectedMessage).server, (message as ProxyRejectedMessage).reason.code))],
    [DIAGNOSTICS_CHANNELS.acceptError, (message) => acceptErrors.add(1, withError((message as ServerErrorMessage).server, (message as ServerErrorMessage).reason.code))],
    [DIAGNOSTICS_CHANNELS.tlsHandshakeStart, (message) => void recordFor((message as TlsHandshakeStartMessage).server).handshakes++],
    [
      DIAGNOSTICS_CHANNELS.tlsHandshake,
      (message) => {
        const { server, durationMs, protocol } = message as TlsHandshakeMessage;
        recordFor(server).handshakes--;
        // tls.protocol.version as OpenTelemetry writes it: '1.3' for 'TLSv1.3'.
        tlsHandshakeDuration.record(durationMs / 1000, protocol ? { ...base(server), 'tls.protocol.version': protocol.replace(/^TLSv/, '') } : base(server));
      },
    ],
    [
      DIAGNOSTICS_CHANNELS.tlsHandshakeError,
      (message) => {
        const { server, durationMs, reason } = message as TlsHandshakeErrorMessage;
        recordFor(server).handshakes--;
        tlsHandshakeDuration.record(durationMs / 1000, withError(server, reason.code));
      },
    ],
  ];
  for (const [channel, handler] of handlers) diagnosticsChannel.subscribe(channel, handler);
  let stopped = false;
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      for (const [channel, handler] of handlers) diagnosticsChannel.unsubscribe(channel, handler);
      flushDurations();
      activeConnections.removeCallback(observeConnections);
      activeTlsHandshakes.removeCallback(observeHandshakes);
    },
  };
}

// kamaelia-xstate/otel with the real OpenTelemetry SDK (@opentelemetry/sdk-metrics 2.x) and its
// in-memory exporter: Kestrel's instruments under our prefix, with their attributes, from real
// loopback connections (plain, reset, over maxConnections, implicit TLS good and bad).
import net from 'node:net';
import tls from 'node:tls';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader, type DataPoint, type Histogram } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { ConnectedServer, EchoProtocol, run } from 'kamaelia-xstate';
import { instrumentServers } from 'kamaelia-xstate/otel';
import { serverDiagnostics } from '../src/internet/diagnostics.js';
import { closed, connect, readBytes, testCertificates } from './server-helpers.js';
import { cleanupsAfterEach } from './helpers/cleanups.js';

const cleanups = cleanupsAfterEach();

function metricsSdk(prefix?: string) {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const bridge = instrumentServers({ meterProvider, ...(prefix ? { prefix } : {}) });
  cleanups.push(async () => {
    bridge.stop();
    await meterProvider.shutdown();
  });
  /** The data points of instrument `name` now. */
  const points = async (name: string): Promise<DataPoint<unknown>[]> => {
    exporter.reset();
    await reader.forceFlush();
    const found = exporter
      .getMetrics()
      .flatMap((resource) => resource.scopeMetrics)
      .flatMap((scope) => scope.metrics)
      .filter((metric) => metric.descriptor.name === name);
    return found.flatMap((metric) => metric.dataPoints as DataPoint<unknown>[]);
  };
  const sum = async (name: string): Promise<number> => (await points(name)).reduce((total, point) => total + (point.value as number), 0);
  /** Collects until `accept` takes the data points of `name` (the server's events land asynchronously). */
  const pointsWhen = async (name: string, accept: (found: DataPoint<unknown>[]) => boolean, what: string): Promise<DataPoint<unknown>[]> => {
    let found: DataPoint<unknown>[] = [];
    const deadline = Date.now() + 5000;
    for (;;) {
      found = await points(name);
      if (accept(found)) return found;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(found)}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  return { points, sum, pointsWhen, bridge, meterProvider };
}

const count = (found: DataPoint<unknown>[]): number => found.reduce((total, point) => total + (point.value as Histogram).count, 0);
const total = (found: DataPoint<unknown>[]): number => found.reduce((sum, point) => sum + (point.value as number), 0);

async function echo(socket: net.Socket | tls.TLSSocket, text: string): Promise<void> {
  socket.write(text);
  expect((await readBytes(socket, text.length)).toString()).toBe(text);
}

describe('instrumentServers (OpenTelemetry metrics bridge)', () => {
  it('counts active connections and records connection durations, with error.type for a reset', async () => {
    const { pointsWhen } = metricsSdk();
    const server = run(ConnectedServer({ host: '127.0.0.1', protocol: () => EchoProtocol() }));
    cleanups.push(() => server.stop());
    const { port } = await server.next('listening');
    const sockets = [await connect(port), await connect(port), await connect(port)];
    for (const socket of sockets) await echo(socket, 'metrics');
    await pointsWhen('kamaelia.active_connections', (found) => total(found) === 3, 'three active connections');
    const [first, second, third] = sockets as [net.Socket, net.Socket, net.Socket];
    first.end();
    second.end();
    await Promise.all([closed(first), closed(second)]);
    third.resetAndDestroy();
    const durations = await pointsWhen('kamaelia.connection.duration', (found) => count(found) === 3, 'three connection durations');
    const attributes = { 'network.transport': 'tcp', 'server.address': '127.0.0.1', 'server.port': port };
    const clean = durations.find((point) => point.attributes['error.type'] === undefined)!;
    const reset = durations.find((point) => point.attributes['error.type'] !== undefined)!;
    expect(clean.attributes).toEqual(attributes);
    expect((clean.value as Histogram).count).toBe(2);
    expect(reset.attributes).toEqual({ ...attributes, 'error.type': 'ECONNRESET' });
    expect((reset.value as Histogram).count).toBe(1);
    expect((clean.value as Histogram).sum).toBeGreaterThan(0);
    expect((clean.value as Histogram).sum).toBeLessThan(10); // seconds, not milliseconds
    await pointsWhen('kamaelia.active_connections', (found) => found.length === 1 && total(found) === 0, 'no active connection');
  });

  it('counts connections over maxConnections as rejected (error.type EMAXCONNECTIONS), under a chosen prefix', async () => {
    const { pointsWhen } = metricsSdk('myapp.tcp');
    const server = run(ConnectedServer({ host: '127.0.0.1', maxConnections: 1, protocol: () => EchoProtocol() }));
    cleanups.push(() => server.stop());
    const { port } = await server.next('listening');
    const held = await connect(port);
    await echo(held, 'hold');
    const refused = await connect(port);
    refused.on('error', () => {});
    await closed(refused);
    const rejected = await pointsWhen('myapp.tcp.rejected_connections', (found) => found.length > 0, 'a rejected connection');
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.attributes).toMatchObject({ 'server.port': port, 'error.type': 'EMAXCONNECTIONS' });
    expect(rejected[0]!.value).toBe(1);
    held.destroy();
  });

  it('records implicit-TLS handshakes (tls.protocol.version; error.type when one fails) and counts those under way', async () => {
    const { pointsWhen } = metricsSdk();
    const certs = await testCertificates();
    const server = run(ConnectedServer({ host: '127.0.0.1', tls: { secure: true, key: certs.serverKey, cert: certs.serverCert }, protocol: () => EchoProtocol() }));
    cleanups.push(() => server.stop());
    const { port } = await server.next('listening');
    const stalled = await connect(port); // sends nothing: its handshake stays under way
    await pointsWhen('kamaelia.active_tls_handshakes', (found) => total(found) === 1, 'one handshake under way');
    const secured = tls.connect({ port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost' });
    await new Promise((resolve, reject) => secured.once('secureConnect', resolve).once('error', reject));
    await echo(secured, 'over tls');
    stalled.on('error', () => {});
    stalled.write('not a ClientHello\r\n\r\n');
    await closed(stalled);
    const handshakes = await pointsWhen('kamaelia.tls_handshake.duration', (found) => count(found) === 2, 'two handshakes recorded');
    const good = handshakes.find((point) => point.attributes['error.type'] === undefined)!;
    const bad = handshakes.find((point) => point.attributes['error.type'] !== undefined)!;
    expect(good.attributes).toEqual({ 'network.transport': 'tcp', 'server.address': '127.0.0.1', 'server.port': port, 'tls.protocol.version': '1.3' });
    expect(bad.attributes['error.type']).toEqual(expect.any(String));
    await pointsWhen('kamaelia.active_tls_handshakes', (found) => found.length === 1 && total(found) === 0, 'no handshake under way');
    secured.destroy();
  });

  it('hands durations to the SDK in batches: all of them by each collection, and on stop()', async () => {
    const { pointsWhen, bridge } = metricsSdk();
    const observer = serverDiagnostics('Batch', undefined);
    observer.listening('127.0.0.1', 1, 'IPv4');
    const sockets = Array.from({ length: 300 }, () => new net.Socket());
    for (const [id, socket] of sockets.entries()) observer.opened(id, socket);
    for (const [id, socket] of sockets.entries()) observer.closed(id, socket, undefined);
    // 256 went at once, the other 44 at the collection.
    await pointsWhen('kamaelia.connection.duration', (found) => count(found) === 300, 'all 300 durations');
    for (const [id, socket] of sockets.slice(0, 10).entries()) observer.opened(id, socket);
    for (const [id, socket] of sockets.slice(0, 10).entries()) observer.closed(id, socket, undefined);
    bridge.stop();
    await pointsWhen('kamaelia.connection.duration', (found) => count(found) === 310, 'the 10 pending at stop()');
    for (const socket of sockets) socket.destroy();
  });

  it('stop() unsubscribes; a bad prefix is refused', async () => {
    const { sum, bridge } = metricsSdk();
    bridge.stop();
    const server = run(ConnectedServer({ host: '127.0.0.1', protocol: () => EchoProtocol() }));
    cleanups.push(() => server.stop());
    const { port } = await server.next('listening');
    const socket = await connect(port);
    await echo(socket, 'unobserved');
    expect(await sum('kamaelia.active_connections')).toBe(0);
    socket.destroy();
    expect(() => instrumentServers({ prefix: '9 lives' })).toThrow(/prefix must start with a letter/);
  });
});

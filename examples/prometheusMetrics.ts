// examples/prometheusMetrics.ts — an echo server whose metrics Prometheus scrapes: kamaelia-xstate/otel
// records Kestrel-style instruments from the server's diagnostics_channel events, and
// @opentelemetry/exporter-prometheus serves them on http://127.0.0.1:<metricsPort>/metrics.
// npx tsx examples/prometheusMetrics.ts [port] [metricsPort] [workers]
// then: nc 127.0.0.1 1601; curl http://127.0.0.1:9464/metrics       (Ctrl-C stops it gracefully)
// With workers, the bridge runs in the primary only (before run()): the workers' events reach it.
import cluster from 'node:cluster';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { ConnectedServer, EchoProtocol, run, shutdownOn } from 'kamaelia-xstate';
import { instrumentServers } from 'kamaelia-xstate/otel';

const port = Number(process.argv[2] ?? 1601);
const metricsPort = Number(process.argv[3] ?? 9464);
const workers = Number(process.argv[4] ?? 0) || undefined;

if (cluster.isPrimary) {
  const exporter = new PrometheusExporter({ host: '127.0.0.1', port: metricsPort });
  instrumentServers({ meterProvider: new MeterProvider({ readers: [exporter] }) });
  console.log(`metrics on http://127.0.0.1:${metricsPort}/metrics`);
}
const server = run(ConnectedServer({ host: '127.0.0.1', port, workers, protocol: () => EchoProtocol() }));
if (cluster.isPrimary) {
  shutdownOn(server, ['SIGINT', 'SIGTERM']);
  const { address, port: bound } = await server.next('listening');
  console.log(`echo server on ${address}:${bound}`);
}

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { GatewayStats } from '../gateway/types.js';
import type { HttpListen } from './config.js';

const PREFIX = 'interlink_tunnel_gateway_';

/** The gateway's stats plus the Service publisher's. */
export interface GatewayMetricsSource extends GatewayStats {
  /** Pods with a published Service now (0 when not publishing). */
  readonly publishedServices: number;
  /** Failed calls to the local API while publishing (retried), since start. */
  readonly publishErrorsTotal: number;
}

type Source = () => GatewayMetricsSource;

/** Builds a registry whose metrics read the gateway's counters at scrape time, plus Node's process metrics. */
export function createGatewayRegistry(stats: Source): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const gauge = (name: string, help: string, pick: (s: GatewayMetricsSource) => number) =>
    new Gauge({
      name: PREFIX + name,
      help,
      registers: [registry],
      collect() {
        this.set(pick(stats()));
      },
    });
  const counter = (name: string, help: string, pick: (s: GatewayMetricsSource) => number) =>
    new Counter({
      name: PREFIX + name,
      help,
      registers: [registry],
      collect() {
        // The gateway keeps the running total; the metric mirrors it.
        this.reset();
        this.inc(pick(stats()));
      },
    });
  gauge('ssh_connections', 'SSH connections open now, authenticated or not.', (s) => s.sshConnections);
  counter('ssh_connections_total', 'SSH connections that authenticated.', (s) => s.sshConnectionsTotal);
  gauge('tunnels_active', 'Reverse forwards (tunnels) listening now.', (s) => s.activeTunnels);
  gauge('streams_active', 'TCP connections open through the tunnels now.', (s) => s.activeStreams);
  counter('streams_total', 'TCP connections accepted on allocated ports.', (s) => s.streamsTotal);
  counter('stream_open_failures_total', 'Accepted TCP connections the bastion would not take.', (s) => s.streamOpenFailuresTotal);
  counter('bytes_in_total', 'Bytes from local clients into the tunnels.', (s) => s.bytesIn);
  counter('bytes_out_total', 'Bytes from the tunnels to local clients.', (s) => s.bytesOut);
  counter('auth_failures_total', 'Rejected SSH authentication attempts.', (s) => s.authFailuresTotal);
  counter('refused_requests_total', 'Refused forward requests and other global requests.', (s) => s.refusedRequestsTotal);
  gauge('published_services', 'Offloaded pods with a Service published in the local cluster.', (s) => s.publishedServices);
  counter('publish_errors_total', 'Failed local API calls while publishing Services (retried).', (s) => s.publishErrorsTotal);
  return registry;
}

/** Serves `/healthz` (200 while `healthy()`, else 503) and `/metrics` (Prometheus text). */
export function startHttp(listen: HttpListen, registry: Registry, healthy: () => boolean): Promise<{ server: Server; address: AddressInfo }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/healthz') {
      const ok = healthy();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: ok ? 'ok' : 'unavailable' }));
    } else if (path === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (error: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error)),
      );
    } else {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not found' }));
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve({ server, address: server.address() as AddressInfo });
    });
  });
}

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GatewayStats } from '../gateway/types.js';
import type { HttpListen } from './config.js';

// `import ... from 'node:http'` would wrap the module for ESM, which reads every
// export, lazy ones included: that loads Node's bundled undici for
// `http.WebSocket` and friends, which the gateway never uses (docs/benchmarks.md,
// "The undici trap").
const { createServer } = process.getBuiltinModule('node:http');
const { readdirSync } = process.getBuiltinModule('node:fs');

const PREFIX = 'interlink_tunnel_gateway_';

/** The Prometheus text exposition format's content type. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** The gateway's stats plus the Service publisher's. */
export interface GatewayMetricsSource extends GatewayStats {
  /** Pods with a published Service now (0 when not publishing). */
  readonly publishedServices: number;
  /** Failed calls to the local API while publishing (retried), since start. */
  readonly publishErrorsTotal: number;
}

/** One sample: a value, with labels when the metric has them. */
interface Sample {
  readonly labels?: Readonly<Record<string, string>>;
  readonly value: number;
}

/** What one scrape reads, once, for every metric. */
interface Scrape {
  readonly stats: GatewayMetricsSource;
  readonly cpu: NodeJS.CpuUsage;
  readonly memory: NodeJS.MemoryUsage;
}

/** A metric read at scrape time. */
interface Metric {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge';
  readonly samples: (scrape: Scrape) => readonly Sample[];
}

/** Renders metrics in the Prometheus text format (version 0.0.4). */
export type MetricsRenderer = () => string;

const labelValue = (value: string) => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

function render(metrics: readonly Metric[], scrape: Scrape): string {
  const lines: string[] = [];
  for (const metric of metrics) {
    lines.push(`# HELP ${metric.name} ${metric.help}`, `# TYPE ${metric.name} ${metric.type}`);
    for (const { labels, value } of metric.samples(scrape)) {
      const labelText = labels === undefined ? '' : `{${Object.entries(labels).map(([key, text]) => `${key}="${labelValue(text)}"`).join(',')}}`;
      lines.push(`${metric.name}${labelText} ${String(value)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

const one = (value: number): readonly Sample[] => [{ value }];

function openFileDescriptors(): readonly Sample[] {
  try {
    return one(readdirSync('/proc/self/fd').length - 1); // less the one reading the directory
  } catch {
    return []; // not Linux: no sample
  }
}

/**
 * The process metrics Prometheus clients conventionally export (the names
 * prom-client and the Go client use), for dashboards that expect them. The
 * gateway writes its exposition itself: prom-client weighed on its memory
 * budget (docs/benchmarks.md, "Memory"; docs/adr/0010-gateway-memory-budget.md).
 */
function processMetrics(): Metric[] {
  // Floored: a start time rounded up could lie after the moment of a scrape.
  const startSeconds = Math.floor((Date.now() - process.uptime() * 1000) / 1000);
  const [major = '', minor = '', patch = ''] = process.versions.node.split('.');
  return [
    { name: 'process_cpu_user_seconds_total', help: 'User CPU time spent in seconds.', type: 'counter', samples: ({ cpu }) => one(cpu.user / 1e6) },
    { name: 'process_cpu_system_seconds_total', help: 'System CPU time spent in seconds.', type: 'counter', samples: ({ cpu }) => one(cpu.system / 1e6) },
    { name: 'process_cpu_seconds_total', help: 'Total user and system CPU time spent in seconds.', type: 'counter', samples: ({ cpu }) => one((cpu.user + cpu.system) / 1e6) },
    { name: 'process_start_time_seconds', help: 'Start time of the process since unix epoch in seconds.', type: 'gauge', samples: () => one(startSeconds) },
    { name: 'process_resident_memory_bytes', help: 'Resident memory size in bytes.', type: 'gauge', samples: ({ memory }) => one(memory.rss) },
    { name: 'process_open_fds', help: 'Number of open file descriptors.', type: 'gauge', samples: openFileDescriptors },
    { name: 'nodejs_heap_size_total_bytes', help: 'Process heap size from Node.js in bytes.', type: 'gauge', samples: ({ memory }) => one(memory.heapTotal) },
    { name: 'nodejs_heap_size_used_bytes', help: 'Process heap size used from Node.js in bytes.', type: 'gauge', samples: ({ memory }) => one(memory.heapUsed) },
    { name: 'nodejs_external_memory_bytes', help: 'Node.js external memory size in bytes.', type: 'gauge', samples: ({ memory }) => one(memory.external) },
    { name: 'nodejs_version_info', help: 'Node.js version info.', type: 'gauge', samples: () => [{ labels: { version: process.version, major, minor, patch }, value: 1 }] },
  ];
}

/** The gateway's metrics, read from `stats()` once per scrape, plus the process metrics. */
export function createGatewayMetrics(stats: () => GatewayMetricsSource): MetricsRenderer {
  const own = (type: Metric['type'], name: string, help: string, pick: (s: GatewayMetricsSource) => number): Metric => ({ name: PREFIX + name, help, type, samples: (scrape) => one(pick(scrape.stats)) });
  const metrics = [
    own('gauge', 'ssh_connections', 'SSH connections open now, authenticated or not.', (s) => s.sshConnections),
    own('counter', 'ssh_connections_total', 'SSH connections that authenticated.', (s) => s.sshConnectionsTotal),
    own('gauge', 'tunnels_active', 'Reverse forwards (tunnels) listening now.', (s) => s.activeTunnels),
    own('gauge', 'streams_active', 'TCP connections open through the tunnels now.', (s) => s.activeStreams),
    own('counter', 'streams_total', 'TCP connections accepted on allocated ports.', (s) => s.streamsTotal),
    own('counter', 'stream_open_failures_total', 'Accepted TCP connections the bastion would not take.', (s) => s.streamOpenFailuresTotal),
    own('counter', 'bytes_in_total', 'Bytes from local clients into the tunnels.', (s) => s.bytesIn),
    own('counter', 'bytes_out_total', 'Bytes from the tunnels to local clients.', (s) => s.bytesOut),
    own('counter', 'auth_failures_total', 'Rejected SSH authentication attempts.', (s) => s.authFailuresTotal),
    own('counter', 'refused_requests_total', 'Refused forward requests and other global requests.', (s) => s.refusedRequestsTotal),
    own('gauge', 'published_services', 'Offloaded pods with a Service published in the local cluster.', (s) => s.publishedServices),
    own('counter', 'publish_errors_total', 'Failed local API calls while publishing Services (retried).', (s) => s.publishErrorsTotal),
    ...processMetrics(),
  ];
  // The stats, CPU and memory are read once per scrape, so the figures of one scrape agree.
  return () => render(metrics, { stats: stats(), cpu: process.cpuUsage(), memory: process.memoryUsage() });
}

/** Serves `/healthz` (200 while `healthy()`, else 503) and `/metrics` (Prometheus text). */
export function startHttp(listen: HttpListen, metrics: MetricsRenderer, healthy: () => boolean): Promise<{ server: Server; address: AddressInfo }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/healthz') {
      const ok = healthy();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: ok ? 'ok' : 'unavailable' }));
    } else if (path === '/metrics') {
      let text: string;
      try {
        text = metrics();
      } catch (error) {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
        return;
      }
      res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE }).end(text);
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

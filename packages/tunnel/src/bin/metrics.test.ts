import { afterAll, describe, expect, it } from '@jest/globals';
import type { Server } from 'node:http';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { httpGet } from '../__tests__/helpers.js';
import { createGatewayMetrics, startHttp, type GatewayMetricsSource } from './metrics.js';

const stats: GatewayMetricsSource = {
  sshConnections: 3,
  sshConnectionsTotal: 7,
  activeTunnels: 2,
  activeStreams: 1,
  streamsTotal: 40,
  streamOpenFailuresTotal: 1,
  bytesIn: 1234,
  bytesOut: 5678,
  authFailuresTotal: 5,
  refusedRequestsTotal: 2,
  publishedServices: 4,
  publishErrorsTotal: 1,
};

describe('the gateway HTTP endpoint', () => {
  let healthy = true;
  let server: Server | undefined;
  let port = 0;

  afterAll(() => {
    server?.close();
  });

  it('serves the gateway counters as Prometheus text, read at scrape time', async () => {
    let current = stats;
    const started = await startHttp({ host: '127.0.0.1', port: 0 }, createGatewayMetrics(() => current), () => healthy);
    server = started.server;
    port = started.address.port;

    const first = await httpGet(port, '/metrics');
    expect(first.status).toBe(200);
    expect(first.body).toMatch(/^interlink_tunnel_gateway_tunnels_active 2$/m);
    expect(first.body).toMatch(/^interlink_tunnel_gateway_bytes_out_total 5678$/m);
    expect(first.body).toMatch(/^interlink_tunnel_gateway_auth_failures_total 5$/m);
    expect(first.body).toMatch(/^# TYPE interlink_tunnel_gateway_streams_total counter$/m);
    expect(first.body).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(first.body).toMatch(/^interlink_tunnel_gateway_published_services 4$/m);
    expect(first.body).toMatch(/^interlink_tunnel_gateway_publish_errors_total 1$/m);

    // The whole exposition parses with an independent parser: every family has its help and type, every sample a number.
    const families = parsePrometheusTextFormat(first.body);
    expect(families.length).toBeGreaterThanOrEqual(20);
    for (const family of families) {
      expect(family.help).not.toBe('');
      expect(['COUNTER', 'GAUGE']).toContain(family.type); // the parser writes types as prom2json does
      expect(family.metrics.length).toBeGreaterThan(0);
      for (const sample of family.metrics) expect(Number.isFinite(Number(sample.value))).toBe(true);
      if (family.type === 'COUNTER') expect(family.name).toMatch(/_total$/);
    }
    const byName = new Map(families.map((family) => [family.name, family]));
    expect(byName.get('interlink_tunnel_gateway_ssh_connections_total')?.metrics).toEqual([{ value: '7' }]);
    expect(byName.get('nodejs_version_info')?.metrics[0]?.labels).toMatchObject({ version: process.version });
    expect(Number(byName.get('process_resident_memory_bytes')?.metrics[0]?.value)).toBeGreaterThan(1 << 20);
    expect(Number(byName.get('process_start_time_seconds')?.metrics[0]?.value)).toBeLessThanOrEqual(Date.now() / 1000);

    current = { ...stats, activeTunnels: 0, bytesOut: 9000 };
    const second = await httpGet(port, '/metrics');
    expect(second.body).toMatch(/^interlink_tunnel_gateway_tunnels_active 0$/m);
    expect(second.body).toMatch(/^interlink_tunnel_gateway_bytes_out_total 9000$/m);
  });

  it('answers 500, not a crash, when the stats cannot be read', async () => {
    const started = await startHttp(
      { host: '127.0.0.1', port: 0 },
      createGatewayMetrics(() => {
        throw new Error('stats unavailable');
      }),
      () => true,
    );
    try {
      await expect(httpGet(started.address.port, '/metrics')).resolves.toMatchObject({ status: 500, body: 'Error: stats unavailable' });
      await expect(httpGet(started.address.port, '/healthz')).resolves.toMatchObject({ status: 200 });
    } finally {
      started.server.close();
    }
  });

  it('answers /healthz with 200 while the gateway listens and 503 otherwise', async () => {
    await expect(httpGet(port, '/healthz')).resolves.toEqual({ status: 200, body: '{"status":"ok"}' });
    healthy = false;
    await expect(httpGet(port, '/healthz')).resolves.toEqual({ status: 503, body: '{"status":"unavailable"}' });
    await expect(httpGet(port, '/nothing')).resolves.toMatchObject({ status: 404 });
  });
});

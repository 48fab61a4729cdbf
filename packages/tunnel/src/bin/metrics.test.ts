import { afterAll, describe, expect, it } from '@jest/globals';
import type { Server } from 'node:http';
import { httpGet } from '../__tests__/helpers.js';
import { createGatewayRegistry, startHttp, type GatewayMetricsSource } from './metrics.js';

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
    const started = await startHttp({ host: '127.0.0.1', port: 0 }, createGatewayRegistry(() => current), () => healthy);
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

    current = { ...stats, activeTunnels: 0, bytesOut: 9000 };
    const second = await httpGet(port, '/metrics');
    expect(second.body).toMatch(/^interlink_tunnel_gateway_tunnels_active 0$/m);
    expect(second.body).toMatch(/^interlink_tunnel_gateway_bytes_out_total 9000$/m);
  });

  it('answers /healthz with 200 while the gateway listens and 503 otherwise', async () => {
    await expect(httpGet(port, '/healthz')).resolves.toEqual({ status: 200, body: '{"status":"ok"}' });
    healthy = false;
    await expect(httpGet(port, '/healthz')).resolves.toEqual({ status: 503, body: '{"status":"unavailable"}' });
    await expect(httpGet(port, '/nothing')).resolves.toMatchObject({ status: 404 });
  });
});

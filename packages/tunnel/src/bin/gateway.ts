#!/usr/bin/env node
/**
 * The gateway's entry point: reads the environment (see the README), starts
 * the SSH server and the `/healthz` + `/metrics` HTTP server, logs the
 * gateway's events as JSON lines, and stops gracefully on SIGTERM/SIGINT.
 *
 * Exit codes: 0 after a graceful shutdown, 2 for a configuration error, 1
 * for any other failure.
 */
import type { Logger } from 'pino';
import { TunnelGateway } from '../gateway/gateway.js';
import type { GatewayEvents } from '../gateway/types.js';
import { loadGatewayConfig } from './config.js';
import { createGatewayRegistry, startHttp } from './metrics.js';
import { createLogger, readIfExists, reportStartFailure, shutdownOnSignals } from './runtime.js';

function logEvents(logger: Logger): GatewayEvents {
  return {
    onForwardAdded: (forward) => {
      logger.info({ event: 'forwardAdded', ...forward }, `forward ${forward.requestedAddress}:${forward.requestedPort} -> port ${forward.allocatedPort}`);
    },
    onForwardRemoved: (forward, reason) => {
      logger.info({ event: 'forwardRemoved', reason, ...forward }, `forward on port ${forward.allocatedPort} removed (${reason})`);
    },
    onClientAuthenticated: (client) => {
      logger.info({ event: 'clientAuthenticated', ...client }, 'client authenticated');
    },
    onClientClosed: (client, error) => {
      logger.info({ event: 'clientClosed', ...client, error: error?.message }, 'client disconnected');
    },
    onAuthFailure: (failure) => {
      logger.warn({ event: 'authFailure', ...failure }, 'authentication refused');
    },
    onRequestRefused: (request) => {
      logger.warn({ event: 'requestRefused', ...request }, `refused ${request.name}`);
    },
    onError: (error) => {
      logger.error({ err: error }, 'gateway error');
    },
  };
}

async function main(): Promise<void> {
  const config = loadGatewayConfig(process.env, readIfExists);
  const logger = createLogger('interlink-tunnel-gateway', config.logLevel);
  const gateway = TunnelGateway.fromConfig(config.gateway, logEvents(logger));
  const ssh = await gateway.listen();
  const registry = createGatewayRegistry(() => gateway.stats());
  const http = await startHttp(config.http, registry, () => gateway.listening);
  logger.info(
    { event: 'listening', ssh: { host: ssh.address, port: ssh.port }, http: { host: http.address.address, port: http.address.port }, portRange: config.gateway.portRange },
    `SSH on ${ssh.address}:${ssh.port}, health and metrics on ${http.address.address}:${http.address.port}`,
  );
  shutdownOnSignals({
    logger,
    timeoutMs: 10_000,
    shutdown: async () => {
      http.server.close();
      await gateway.close();
    },
  });
}

main().catch((error: unknown) => {
  process.exit(reportStartFailure('interlink-tunnel-gateway', error));
});

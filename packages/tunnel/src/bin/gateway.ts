#!/usr/bin/env node
/**
 * The gateway's entry point: reads the environment (see the README), starts
 * the SSH server and the `/healthz` + `/metrics` HTTP server, logs the
 * gateway's events as JSON lines, and stops gracefully on SIGTERM/SIGINT.
 *
 * Exit codes: 0 after a graceful shutdown, 2 for a configuration error, 1
 * for any other failure.
 */
import { readFileSync } from 'node:fs';
import { TunnelGateway } from '../gateway/gateway.js';
import type { GatewayEvents } from '../gateway/types.js';
import { KubeRestClient } from '../publish/kube-client.js';
import { ServicePublisher, type PublisherEvents } from '../publish/publisher.js';
import { loadGatewayConfig, type PublishConfig } from './config.js';
import { createGatewayMetrics, startHttp } from './metrics.js';
import { createLogger, type Logger } from './log.js';
import { readIfExists, reportStartFailure, shutdownOnSignals } from './runtime.js';

function logEvents(logger: Logger, publisher: ServicePublisher | undefined): GatewayEvents {
  return {
    onForwardAdded: (forward) => {
      logger.info({ event: 'forwardAdded', ...forward }, `forward ${forward.requestedAddress}:${forward.requestedPort} -> port ${forward.allocatedPort}`);
      publisher?.forwardAdded(forward);
    },
    onForwardRemoved: (forward, reason) => {
      logger.info({ event: 'forwardRemoved', reason, ...forward }, `forward on port ${forward.allocatedPort} removed (${reason})`);
      publisher?.forwardRemoved(forward, reason);
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

function publisherEvents(logger: Logger, counts: { publishErrors: number }): PublisherEvents {
  return {
    onPublished: (service, ports) => {
      logger.info({ event: 'servicePublished', service: `${service.namespace}/${service.name}`, podUid: service.pod.uid, ports }, `Service ${service.namespace}/${service.name} published`);
    },
    onUnpublished: (service, reason) => {
      logger.info({ event: 'serviceDeleted', service: `${service.namespace}/${service.name}`, podUid: service.pod.uid, reason }, `Service ${service.namespace}/${service.name} deleted (${reason})`);
    },
    onSkipped: (_subject, reason, detail) => {
      logger.warn({ event: 'publishSkipped', reason }, `no Service: ${detail}`);
    },
    onError: (error, pod) => {
      counts.publishErrors++;
      logger.error({ event: 'publishFailed', pod: `${pod.namespace}/${pod.name}`, err: error }, 'publishing failed; retrying');
    },
  };
}

function startPublisher(config: PublishConfig, logger: Logger, counts: { publishErrors: number }): { publisher: ServicePublisher; close: () => void } {
  const api = new KubeRestClient({ ...config.kube, token: () => readFileSync(config.kube.tokenFile, 'utf8') });
  const publisher = new ServicePublisher(api, config.publisher, publisherEvents(logger, counts));
  return {
    publisher,
    close: () => {
      publisher.close();
      api.close();
    },
  };
}

async function main(): Promise<void> {
  const config = loadGatewayConfig(process.env, readIfExists);
  const logger = createLogger('interlink-tunnel-gateway', config.logLevel);
  const counts = { publishErrors: 0 };
  const publishing = config.publish === undefined ? undefined : startPublisher(config.publish, logger, counts);
  const publisher = publishing?.publisher;
  const gateway = TunnelGateway.fromConfig(config.gateway, logEvents(logger, publisher));
  // Take over the Services of an earlier gateway before bastions come back; an API outage here only delays that.
  await publisher?.start().catch((error: unknown) => {
    logger.error({ event: 'publishFailed', err: error }, 'could not list the Services published earlier; they stay until their pods go');
  });
  const ssh = await gateway.listen();
  const metrics = createGatewayMetrics(() => ({ ...gateway.stats(), publishedServices: publisher?.size ?? 0, publishErrorsTotal: counts.publishErrors }));
  const http = await startHttp(config.http, metrics, () => gateway.listening);
  logger.info(
    { event: 'listening', ssh: { host: ssh.address, port: ssh.port }, http: { host: http.address.address, port: http.address.port }, portRange: config.gateway.portRange },
    `SSH on ${ssh.address}:${ssh.port}, health and metrics on ${http.address.address}:${http.address.port}`,
  );
  shutdownOnSignals({
    logger,
    timeoutMs: 10_000,
    shutdown: async () => {
      http.server.close();
      publishing?.close();
      await gateway.close();
    },
  });
}

main().catch((error: unknown) => {
  process.exit(reportStartFailure('interlink-tunnel-gateway', error));
});

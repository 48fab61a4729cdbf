#!/usr/bin/env node
/**
 * The bastion's entry point: reads the environment (see the README), keeps
 * the reverse forwards up through the gateway, logs its events as JSON lines,
 * and stops gracefully on SIGTERM/SIGINT.
 *
 * Exit codes: 0 after a graceful shutdown, 2 for a configuration error, 1
 * for any other failure.
 */
import { Bastion, TargetUnreachableError } from '../bastion/bastion.js';
import { TunnelError } from '../errors.js';
import { loadBastionConfig } from './config.js';
import { createLogger } from './log.js';
import { readIfExists, reportStartFailure, shutdownOnSignals } from './runtime.js';

function main(): void {
  const config = loadBastionConfig(process.env, readIfExists);
  const logger = createLogger('interlink-tunnel-bastion', config.logLevel);
  const bastion = Bastion.fromConfig(config.bastion);
  const gateway = `${config.bastion.host}:${config.bastion.port ?? 2222}`;
  bastion.on('connected', (event) => {
    logger.info({ event: 'connected', ...event }, `connected to ${gateway}`);
  });
  bastion.on('forwardReady', (event) => {
    logger.info({ event: 'forwardReady', ...event }, `forward ${event.bindPort} -> ${event.targetHost}:${event.targetPort} ready`);
  });
  bastion.on('disconnected', (event) => {
    logger.info({ event: 'disconnected', error: event.error?.message, retryInMs: event.retryInMs }, `disconnected from ${gateway}`);
  });
  bastion.on('error', (error) => {
    const fields = { event: 'error', kind: error.name };
    // A pod port that is not open yet is routine; our own errors carry their
    // cause in the message; anything else gets its stack.
    if (error instanceof TargetUnreachableError) logger.warn(fields, error.message);
    else if (error instanceof TunnelError) logger.error(fields, error.message);
    else logger.error({ ...fields, err: error }, error.message);
  });
  logger.info({ event: 'starting', gateway, forwards: config.bastion.forwards }, 'starting');
  bastion.start();
  shutdownOnSignals({ logger, timeoutMs: 10_000, shutdown: () => bastion.stop() });
}

try {
  main();
} catch (error) {
  process.exit(reportStartFailure('interlink-tunnel-bastion', error));
}

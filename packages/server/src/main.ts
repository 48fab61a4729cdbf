#!/usr/bin/env node
/**
 * The plugin server's entry point (the package's `bin`): reads the
 * configuration, starts the Kubernetes provider, listens, and shuts down
 * gracefully on SIGTERM/SIGINT. The only module that touches `process.env`.
 *
 * Exit codes: 0 after a graceful shutdown, 2 for a configuration error, 1
 * for any other failure.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '@interlink-k8s/protocol';
import { KubernetesProvider } from '@interlink-k8s/remote-k8s';
import { ConfigError, type FileReader } from '@interlink-k8s/contract';
import { loadConfig } from './config/load.js';
import { providerEvents } from './events.js';
import { describeAddress, shutdownOnSignals } from './listen.js';
import { createLogger } from './logger.js';
import { createMetrics } from './metrics.js';
import { startServer } from './server.js';
import { packageVersion } from './version.js';

const readIfExists: FileReader = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if (typeof error === 'object' && error !== null && 'code' in error && error.code === 'ENOENT') return undefined;
    throw error;
  }
};

async function main(): Promise<number | undefined> {
  let config;
  try {
    config = loadConfig(process.env, readIfExists);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`interlink-k8s: ${error.message}\n`);
    return 2;
  }

  const logger = createLogger(config.log);
  const version = packageVersion();
  for (const warning of config.warnings) logger.warn(warning);
  logger.info({ version, configFile: config.configFile ?? null }, 'starting');

  const metrics = createMetrics();
  let provider;
  try {
    provider = KubernetesProvider.fromConfig(config.provider, providerEvents(logger, metrics));
  } catch (error) {
    // A kubeconfig that cannot be loaded is a configuration error too.
    if (error instanceof InputError) {
      process.stderr.write(`interlink-k8s: ${error.message}\n`);
      logger.fatal({ err: error }, 'cannot build the Kubernetes provider');
      return 2;
    }
    throw error;
  }

  let server;
  try {
    await provider.start();
    server = await startServer(config, provider, logger, { metrics, version });
  } catch (error) {
    logger.fatal({ err: error }, 'start-up failed');
    await provider.stop().catch(() => undefined);
    return 1;
  }
  logger.info({ address: server.address }, `listening on ${describeAddress(server.address)}`);

  const running = server;
  shutdownOnSignals({
    source: process,
    shutdown: () => running.close(),
    exit: (code) => process.exit(code),
    logger,
  });
  return undefined;
}

main().then(
  (code) => {
    // Exit now: a half-started provider may hold timers that keep the process alive.
    if (code !== undefined) process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(`interlink-k8s: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);

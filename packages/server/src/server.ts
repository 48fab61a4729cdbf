import type { OffloadProvider } from '@interlink-k8s/remote-k8s';
import { createApp } from './app.js';
import type { ListenAddress, ServerConfig } from './config/load.js';
import { listen } from './listen.js';
import type { Logger } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';

/** A running plugin server. */
export interface RunningServer {
  /** Where it listens (for TCP, the actual port). */
  readonly address: ListenAddress;
  /**
   * Graceful shutdown: `/readyz` turns 503 and log streams end, the listener
   * stops accepting, in-flight requests get up to `shutdownTimeoutMs`, then
   * the provider is stopped and the socket file removed. Idempotent.
   */
  close(): Promise<void>;
}

/** Optional parts of {@link startServer}. */
export interface StartServerOptions {
  /** Metrics shared with the provider's events; default a fresh set. */
  metrics?: Metrics;
  /** Version stated in the OpenAPI document. */
  version?: string;
}

/**
 * Builds the app for a started provider and listens where the configuration
 * says. The returned `close()` also stops the provider.
 */
export async function startServer(
  config: ServerConfig,
  provider: OffloadProvider,
  logger: Logger,
  options: StartServerOptions = {},
): Promise<RunningServer> {
  const shutdown = new AbortController();
  const app = createApp({
    provider,
    logger,
    metrics: options.metrics ?? createMetrics(),
    metricsEnabled: config.metricsEnabled,
    docsPath: config.docsPath,
    bodyLimitBytes: config.bodyLimitBytes,
    logRequestBodies: config.log.requestsEnabled,
    shutdown: shutdown.signal,
    ...(options.version === undefined ? {} : { version: options.version }),
  });
  const listener = await listen(app, config.listen);
  let closed: Promise<void> | undefined;
  return {
    address: listener.address,
    close() {
      closed ??= (async () => {
        shutdown.abort();
        try {
          await listener.close(config.shutdownTimeoutMs);
        } finally {
          await provider.stop();
        }
      })();
      return closed;
    },
  };
}

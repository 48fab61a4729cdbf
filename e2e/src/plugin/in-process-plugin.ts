import { PluginClient, type PluginTarget } from '@interlink-k8s/protocol';
import { ClientNodeRemoteApi, KubernetesProvider, buildKubeConfig } from '@interlink-k8s/remote-k8s';
import { createLogger, createMetrics, loadConfig, startServer, type ServerConfig } from '@interlink-k8s/server';
import { freePorts } from '../harness/ports.js';
import { eventually as poll } from '../harness/eventually.js';

/** The plugin server running in this process, as `main.ts` would run it. */
export interface InProcessPlugin {
  /** The configuration it was started with. */
  config: ServerConfig;
  /** Its provider (tests call `sweep()` directly). */
  provider: KubernetesProvider;
  /** Calls it as InterLink does. */
  client: PluginClient;
  /** Messages of every remote failure it reported (`ProviderEvents.remoteError`), in order. */
  remoteErrors: string[];
  /** Graceful shutdown, provider included. */
  close(): Promise<void>;
}

/** Options of {@link startInProcessPlugin}. */
export interface InProcessPluginOptions {
  /**
   * Leftovers younger than this are never swept (default one hour: a sweep
   * then only lists, so it cannot touch what other tests on the shared
   * control plane made).
   */
  sweepGraceMs?: number;
}

/**
 * Starts the plugin (express app, configuration read by the real loader
 * from `env` named as in production, `KubernetesProvider`) on a free
 * loopback port unless `env` sets `APP_SOCKET_ADDRESS` to a unix socket.
 * The periodic sweep is off; call `provider.sweep()`.
 */
export async function startInProcessPlugin(
  env: Readonly<Record<string, string>>,
  options: InProcessPluginOptions = {},
): Promise<InProcessPlugin> {
  const [port] = await freePorts(1);
  if (port === undefined) throw new Error('no free port');
  const config = loadConfig(
    { APP_SOCKET_ADDRESS: 'http://127.0.0.1', APP_SOCKET_PORT: String(port), LOG_LEVEL: 'silent', ...env },
    () => undefined,
  );
  const remoteErrors: string[] = [];
  const { kubeconfig, clientOverrides, translate, fieldManager } = config.provider;
  const provider = new KubernetesProvider(
    new ClientNodeRemoteApi(buildKubeConfig(kubeconfig, clientOverrides)),
    { translate, fieldManager, sweepIntervalMs: 0, sweepGraceMs: options.sweepGraceMs ?? 3_600_000 },
    {
      remoteError: (_operation, error) => {
        remoteErrors.push(error.message);
      },
    },
    true,
  );
  await provider.start();
  const logger = createLogger({ level: config.log.level });
  const server = await startServer(config, provider, logger, { metrics: createMetrics() });
  const target: PluginTarget =
    config.listen.kind === 'unix' ? { socketPath: config.listen.path } : { host: '127.0.0.1', port: config.listen.port };
  return { config, provider, client: new PluginClient(target), remoteErrors, close: () => server.close() };
}

/** Polls `check` every 100 ms until it returns something other than `undefined`, or gives up after `timeoutMs`. */
export const eventually = <T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> =>
  poll(what, check, timeoutMs, { intervalMs: 100, retryOnError: false });

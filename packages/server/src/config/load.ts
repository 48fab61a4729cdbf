import { ConfigError, type Environment, type FileReader } from '@interlink-k8s/contract';
import { formatIssues } from '../issues.js';
import { isRoutePath } from '../http/routes.js';
import type {
  BastionKeySource,
  ClientOverrides,
  KubeconfigSource,
  KubernetesProviderConfig,
  LocalClusterSource,
  TunnelOptions,
} from '@interlink-k8s/remote-k8s';
import { parseIni, type IniDocument } from './ini.js';
import {
  BASTION_IMAGE_REPOSITORY,
  CONFIG_FILE_ENV,
  DEFAULT_CONFIG_FILE,
  configKeys,
  ignoredReferenceKeys,
  type ClientConfiguration,
  type ConfigKey,
  type ConfigKeyName,
  type ConfigValues,
  type LogLevel,
} from './keys.js';
import { messageOf } from '../cross-realm-errors.js';
import { tunnelVersion } from '../version.js';
import { KeyMaterialError, parseHostPublicKeys, parsePodKeySecret, parsePrivateKeyText } from './tunnel-keys.js';

/** Where a configuration value came from. */
export type ConfigSource = { kind: 'default' } | { kind: 'file'; path: string } | { kind: 'env'; name: string };

/** Where the server listens. */
export type ListenAddress = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

/**
 * The `tcp_tunnel.*` keys as given (key material as text, unparsed: never
 * log it). What the translation uses is `provider.translate.tunnel`, set
 * when the tunnel is enabled.
 */
export interface TcpTunnelSettings {
  readonly enabled: boolean;
  readonly gatewayHost: string | undefined;
  readonly gatewayPort: number;
  /** The gateway host public key(s) as given. */
  readonly gatewayHostPublicKey: string | undefined;
  /** Base64 pod-key secret; never log it. */
  readonly podKeySecret: string | undefined;
  /** Base64 private key shared by the bastions (the reference's format); never log it. */
  readonly gatewaySshPrivateKey: string | undefined;
  /** The bastion image, the default filled in. */
  readonly bastionImage: string;
  readonly ciphers: string | undefined;
}

/** The `mesh.*` keys, kept for compatibility; nothing reads them yet. */
export interface MeshSettings {
  readonly initContainer: boolean;
  readonly startupProbe: boolean;
  readonly slurmSetupScript: boolean;
}

/** The whole server configuration, read once at start-up and frozen. */
export interface ServerConfig {
  /** The ini file that was read, if any. */
  readonly configFile: string | undefined;
  readonly listen: ListenAddress;
  /** Path of the HTML API docs. */
  readonly docsPath: string;
  readonly shutdownTimeoutMs: number;
  readonly metricsEnabled: boolean;
  readonly bodyLimitBytes: number;
  readonly log: { readonly level: LogLevel; readonly requestsEnabled: boolean };
  /** What `KubernetesProvider.fromConfig` takes. */
  readonly provider: Readonly<KubernetesProviderConfig>;
  readonly tcpTunnel: TcpTunnelSettings;
  readonly mesh: MeshSettings;
  /** Things worth a warning at start-up (unknown keys, ignored settings); never fatal. */
  readonly warnings: readonly string[];
}

/** Says where a value came from, for error messages. */
export function describeSource(source: ConfigSource): string {
  switch (source.kind) {
    case 'default':
      return 'default';
    case 'file':
      return `file ${source.path}`;
    case 'env':
      return `environment ${source.name}`;
  }
}

/**
 * Reads the configuration: each key's default, overridden by the ini file
 * (`CONFIG_FILE_PATH`, default `private/config.ini`), overridden by the
 * environment variable `SECTION_KEY`. Only `main` passes `process.env`.
 * @throws ConfigError naming every bad key and where its value came from.
 */
export function loadConfig(env: Environment, readFile: FileReader): ServerConfig {
  const problems: string[] = [];
  const warnings: string[] = [];

  const explicitFile = env[CONFIG_FILE_ENV];
  const configFile = explicitFile === undefined || explicitFile.trim() === '' ? DEFAULT_CONFIG_FILE : explicitFile;
  let doc: IniDocument = new Map();
  let fileRead: string | undefined;
  try {
    const text = readFile(configFile);
    if (text === undefined) {
      if (configFile !== DEFAULT_CONFIG_FILE) {
        problems.push(`${CONFIG_FILE_ENV}: the configuration file ${configFile} does not exist`);
      }
    } else {
      doc = parseIni(text);
      fileRead = configFile;
    }
  } catch (error) {
    problems.push(`${configFile}: ${messageOf(error)}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const sources = new Map<string, ConfigSource>();
  const values = new Map<string, unknown>();
  const allKeys: readonly ConfigKey[] = configKeys;
  for (const spec of allKeys) {
    const { source, raw } = resolve(spec, env, doc, configFile);
    sources.set(spec.key, source);
    const parsed = spec.schema.safeParse(raw);
    if (parsed.success) values.set(spec.key, parsed.data);
    else problems.push(`${spec.key} (${describeSource(source)}): ${formatIssues(parsed.error.issues)}`);
  }
  warnings.push(...unknownKeys(doc, configFile));
  if (problems.length > 0) throw new ConfigError(problems);

  // One typed view of the map just filled from the same table.
  const get = <K extends ConfigKeyName>(key: K): ConfigValues[K] => values.get(key) as ConfigValues[K];
  const where = (key: ConfigKeyName) => `${key} (${describeSource(sources.get(key) ?? { kind: 'default' })})`;

  const socket = get('app.socket_address');
  const port = get('app.socket_port');
  let listen: ListenAddress;
  if (socket.kind === 'unix') {
    listen = socket;
  } else {
    listen = { kind: 'tcp', host: socket.host, port };
    if (port === 0) problems.push(`${where('app.socket_port')}: must be > 0 when app.socket_address is http://`);
  }

  const docsPath = get('app.api_docs_path');
  // The app's own routes; the docs page may not take their place.
  if (isRoutePath(docsPath)) {
    problems.push(`${where('app.api_docs_path')}: ${docsPath} is an API route; choose another path`);
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const inline = get('k8s.kubeconfig');
  const kubeconfigPath = get('k8s.kubeconfig_path');
  let kubeconfig: KubeconfigSource;
  if (inline !== undefined) {
    kubeconfig = { kind: 'inline', content: inline };
    if (kubeconfigPath !== undefined) {
      warnings.push(`k8s.kubeconfig and k8s.kubeconfig_path are both set; the inline k8s.kubeconfig is used`);
    }
  } else if (kubeconfigPath !== undefined) {
    kubeconfig = { kind: 'file', path: kubeconfigPath };
  } else {
    kubeconfig = { kind: 'default' };
  }

  const localPath = get('local.kubeconfig_path');
  const localInCluster = get('local.in_cluster');
  let local: LocalClusterSource | undefined;
  if (localPath !== undefined) {
    local = { kind: 'file', path: localPath };
    if (localInCluster) warnings.push('local.kubeconfig_path and local.in_cluster are both set; the local kubeconfig file is used');
  } else if (localInCluster) {
    local = { kind: 'in-cluster' };
  }
  if (local !== undefined && get('offloading.sweep_interval_seconds') === 0) {
    warnings.push(
      `${where('offloading.sweep_interval_seconds')}: the sweep is disabled, so the local cluster is never read and remote pods whose local pod is gone stay`,
    );
  }

  const client = get('k8s.client_configuration');
  const { overrides, ignored } = clientOverrides(client);
  if (ignored.length > 0) {
    warnings.push(`${where('k8s.client_configuration')}: ignored unknown option(s) ${ignored.join(', ')}`);
  }

  const tcpTunnel: TcpTunnelSettings = {
    enabled: get('tcp_tunnel.enabled'),
    gatewayHost: get('tcp_tunnel.gateway_host'),
    gatewayPort: get('tcp_tunnel.gateway_port'),
    gatewayHostPublicKey: get('tcp_tunnel.gateway_host_public_key'),
    podKeySecret: get('tcp_tunnel.pod_key_secret'),
    gatewaySshPrivateKey: get('tcp_tunnel.gateway_ssh_private_key'),
    bastionImage: get('tcp_tunnel.bastion_image') ?? `${BASTION_IMAGE_REPOSITORY}:${tunnelVersion()}`,
    ciphers: get('tcp_tunnel.ciphers'),
  };
  const tunnel = tcpTunnel.enabled ? tunnelOptions(tcpTunnel, where, problems, warnings) : undefined;
  if (tcpTunnel.enabled) {
    for (const key of ['tcp_tunnel.bastion_namespace', 'tcp_tunnel.bastion_chart_path'] as const) {
      if (get(key) !== undefined) {
        warnings.push(`${where(key)}: ignored; the bastion now runs as a sidecar in each offloaded pod, not from a chart in a namespace of its own`);
      }
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const config: ServerConfig = {
    configFile: fileRead,
    listen,
    docsPath,
    shutdownTimeoutMs: get('app.shutdown_timeout_seconds') * 1000,
    metricsEnabled: get('app.metrics_enabled'),
    bodyLimitBytes: get('app.max_body_mib') * 1024 * 1024,
    log: { level: get('log.level'), requestsEnabled: get('log.requests_enabled') },
    provider: {
      kubeconfig,
      clientOverrides: overrides,
      translate: {
        namespacePrefix: get('offloading.namespace_prefix'),
        namespacePrefixExclusions: get('offloading.namespace_prefix_exclusions'),
        nodeSelector: get('offloading.node_selector'),
        tolerations: get('offloading.node_tolerations'),
        ...(tunnel === undefined ? {} : { tunnel }),
      },
      fieldManager: get('k8s.field_manager'),
      sweepIntervalMs: get('offloading.sweep_interval_seconds') * 1000,
      local,
    },
    tcpTunnel,
    mesh: {
      initContainer: get('mesh.init_container'),
      startupProbe: get('mesh.startup_probe'),
      slurmSetupScript: get('mesh.slurm_setup_script'),
    },
    warnings,
  };
  return deepFreeze(config);
}

/**
 * The bastion settings of an enabled tunnel: the gateway's address and host
 * key(s) are required, and a per-pod key secret or a shared key (the secret
 * wins, with a warning that the shared key is unused). Problems name the key
 * and never quote key material.
 */
function tunnelOptions(
  settings: TcpTunnelSettings,
  where: (key: ConfigKeyName) => string,
  problems: string[],
  warnings: string[],
): TunnelOptions | undefined {
  const required = (key: ConfigKeyName) => `${key}: required when tcp_tunnel.enabled is true`;
  const parse = <T>(key: ConfigKeyName, value: string, parser: (text: string) => T): T | undefined => {
    try {
      return parser(value);
    } catch (error) {
      problems.push(`${where(key)}: ${error instanceof KeyMaterialError ? error.message : 'cannot be read'}`);
      return undefined;
    }
  };

  const count = problems.length;
  if (settings.gatewayHost === undefined) problems.push(required('tcp_tunnel.gateway_host'));
  let hostKeys: string | undefined;
  if (settings.gatewayHostPublicKey === undefined) problems.push(required('tcp_tunnel.gateway_host_public_key'));
  else hostKeys = parse('tcp_tunnel.gateway_host_public_key', settings.gatewayHostPublicKey, parseHostPublicKeys);

  let bastionKey: BastionKeySource | undefined;
  if (settings.podKeySecret !== undefined) {
    const secret = parse('tcp_tunnel.pod_key_secret', settings.podKeySecret, parsePodKeySecret);
    if (secret !== undefined) bastionKey = { kind: 'per-pod', secret };
    if (settings.gatewaySshPrivateKey !== undefined) {
      warnings.push(
        `${where('tcp_tunnel.gateway_ssh_private_key')}: unused; tcp_tunnel.pod_key_secret is set, so each bastion gets a key derived for its own pod`,
      );
    }
  } else if (settings.gatewaySshPrivateKey !== undefined) {
    const privateKey = parse('tcp_tunnel.gateway_ssh_private_key', settings.gatewaySshPrivateKey, parsePrivateKeyText);
    if (privateKey !== undefined) bastionKey = { kind: 'shared', privateKey };
  } else {
    problems.push('tcp_tunnel.pod_key_secret: required when tcp_tunnel.enabled is true, unless tcp_tunnel.gateway_ssh_private_key is set');
  }

  if (problems.length > count || settings.gatewayHost === undefined || hostKeys === undefined || bastionKey === undefined) {
    return undefined;
  }
  return {
    gatewayHost: settings.gatewayHost,
    gatewayPort: settings.gatewayPort,
    gatewayHostKeys: hostKeys,
    bastionKey,
    image: settings.bastionImage,
    ...(settings.ciphers === undefined ? {} : { ciphers: settings.ciphers }),
  };
}

/** The value of one key by precedence: environment, then file, then default. */
function resolve(
  spec: ConfigKey,
  env: Environment,
  doc: IniDocument,
  configFile: string,
): { source: ConfigSource; raw: string | undefined } {
  const fromEnv = env[spec.env];
  const fromFile = doc.get(spec.section)?.get(spec.name);
  let source: ConfigSource;
  let text: string | undefined;
  if (fromEnv !== undefined) {
    source = { kind: 'env', name: spec.env };
    text = fromEnv;
  } else if (fromFile !== undefined) {
    source = { kind: 'file', path: configFile };
    text = fromFile;
  } else {
    return { source: { kind: 'default' }, raw: spec.default };
  }
  text = text.trim();
  // As in the reference plugin, an empty value means "not set" (the default applies).
  if (text === '' && !spec.emptyIsValue) return { source, raw: spec.default };
  return { source, raw: text };
}

function unknownKeys(doc: IniDocument, configFile: string): string[] {
  const known = new Set<string>([...configKeys.map((k) => k.key), ...ignoredReferenceKeys]);
  const out: string[] = [];
  for (const [section, keys] of doc) {
    for (const key of keys.keys()) {
      const name = `${section}.${key}`;
      if (!known.has(name)) out.push(`${configFile}: unknown key ${name} (ignored)`);
    }
  }
  return out;
}

/** Maps the Python client's option names onto the provider's. */
function clientOverrides(client: ClientConfiguration | undefined): { overrides: ClientOverrides; ignored: string[] } {
  if (client === undefined) return { overrides: {}, ignored: [] };
  const { verify_ssl, ssl_ca_cert, cert_file, key_file, host, proxy, ...rest } = client;
  const overrides: ClientOverrides = {};
  if (verify_ssl !== undefined) overrides.insecureSkipTlsVerify = !verify_ssl;
  if (ssl_ca_cert !== undefined) overrides.caFile = ssl_ca_cert;
  if (cert_file !== undefined) overrides.certFile = cert_file;
  if (key_file !== undefined) overrides.keyFile = key_file;
  if (host !== undefined) overrides.server = host;
  if (proxy !== undefined) overrides.proxyUrl = proxy;
  return { overrides, ignored: Object.keys(rest) };
}

function deepFreeze<T>(value: T): T {
  // A typed array (the pod-key secret) cannot be frozen; nothing writes to it.
  if (typeof value === 'object' && value !== null && !ArrayBuffer.isView(value) && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

import type { BastionConfig, ForwardSpec } from '../bastion/bastion.js';
import type { GatewayConfig } from '../gateway/gateway.js';
import { messageOf } from '../errors.js';
import { parseAuthorizedKeys, parsePrivateKey, parsePublicKeys } from '../keys.js';
import { anyText, bool, ciphers, endpointAddress, envVar, host, httpsUrl, integer, keyMaterial, list, logLevel, podKeySecret, port, portRange, readEnv, type EnvVar, type Parser } from './env.js';
import { ConfigError, type Environment, type FileReader } from '@interlink-k8s/contract';
import { SUPPORTED_CIPHERS } from '@interlink-k8s/contract';
import type { KubeConnection } from '../publish/kube-client.js';
import type { LogLevel } from './log.js';
import { PUBLISHER_DEFAULTS, type PublisherOptions } from '../publish/publisher.js';

/** Where the gateway's health and metrics endpoint listens. */
export interface HttpListen {
  readonly host: string;
  readonly port: number;
}

/** Where and how the gateway publishes Services in the local cluster (the token is read at each request). */
export interface PublishConfig {
  readonly publisher: PublisherOptions;
  readonly kube: Omit<KubeConnection, 'token'> & { readonly tokenFile: string };
}

/** Everything the gateway entry point needs, read once from the environment. */
export interface GatewayAppConfig {
  readonly gateway: GatewayConfig;
  readonly http: HttpListen;
  /** Absent when `TUNNEL_GATEWAY_PUBLISH_SERVICES` is false. */
  readonly publish?: PublishConfig;
  readonly logLevel: LogLevel;
}

/** Everything the bastion entry point needs, read once from the environment. */
export interface BastionAppConfig {
  readonly bastion: BastionConfig;
  readonly logLevel: LogLevel;
}

const shared = {
  ciphers: envVar('TUNNEL_CIPHERS', {
    description: `Comma-separated ciphers to offer (e.g. \`aes128-gcm@openssh.com\`); unset: ssh2's default list. Supported: ${SUPPORTED_CIPHERS.join(', ')}.`,
    optional: true,
    parse: ciphers(),
  }),
  logLevel: envVar('TUNNEL_LOG_LEVEL', { default: 'info', description: 'Log level: fatal, error, warn, info, debug, trace or silent. Logs are JSON lines on stdout.', parse: logLevel() }),
};

/** The gateway's environment variables (the README's table is checked against this). */
export function gatewayVariables(reader: FileReader) {
  return {
    hostKey: envVar('TUNNEL_GATEWAY_HOST_KEY', {
      required: true,
      description: 'The gateway\'s SSH host private key: a file path, or the key inline (OpenSSH/PEM text or its base64). Bastions pin its public half.',
      parse: keyMaterial(reader, (text) => parsePrivateKey(text, undefined, 'host key')),
    }),
    authorizedKeys: envVar('TUNNEL_GATEWAY_AUTHORIZED_KEYS', {
      description:
        'Shared bastion public keys allowed in, `authorized_keys` format (one per line, no options): a file path, or inline text or its base64. A pod such a key names is only its claim. Required unless `TUNNEL_GATEWAY_POD_KEY_SECRET` is set.',
      optional: true,
      parse: keyMaterial(reader, (text) => {
        if (parseAuthorizedKeys(text).length === 0) throw new Error('no key in the list');
      }),
    }),
    podKeySecret: envVar('TUNNEL_GATEWAY_POD_KEY_SECRET', {
      description:
        'The secret per-pod bastion keys are derived from, shared with the plugin (`tcp_tunnel.pod_key_secret`): base64 of at least 32 bytes, inline or in a file. A bastion logging in as `namespace=..,pod=..,uid=..` with that pod\'s key is let in, bound to that pod.',
      optional: true,
      parse: podKeySecret(reader),
    }),
    listenHost: envVar('TUNNEL_GATEWAY_LISTEN_HOST', { default: '0.0.0.0', description: 'Address of the SSH server.', parse: host() }),
    listenPort: envVar('TUNNEL_GATEWAY_LISTEN_PORT', { default: '2222', description: 'Port of the SSH server.', parse: port(true) }),
    forwardHost: envVar('TUNNEL_GATEWAY_FORWARD_HOST', {
      default: '0.0.0.0',
      description: 'Address the allocated forward ports listen on (whatever bind address a client asks for).',
      parse: host(),
    }),
    portRange: envVar('TUNNEL_GATEWAY_PORT_RANGE', { default: '20000-20999', description: 'Inclusive range the forward ports are allocated from.', parse: portRange() }),
    maxForwards: envVar('TUNNEL_GATEWAY_MAX_FORWARDS_PER_CONNECTION', { default: '64', description: 'Reverse forwards one SSH connection may hold.', parse: integer(1, 65535) }),
    maxAuthAttempts: envVar('TUNNEL_GATEWAY_MAX_AUTH_ATTEMPTS', { default: '6', description: 'Rejected authentication attempts before a connection is dropped.', parse: integer(1, 100) }),
    loginGraceMs: envVar('TUNNEL_GATEWAY_LOGIN_GRACE_MS', { default: '20000', description: 'Time a connection has to authenticate, ms.', parse: integer(1000, 600_000) }),
    keepaliveIntervalMs: envVar('TUNNEL_GATEWAY_KEEPALIVE_INTERVAL_MS', {
      default: '15000',
      description: 'SSH keepalive towards bastions, ms. A silent bastion loses its forwards after interval × (count max + 1).',
      parse: integer(1000, 3_600_000),
    }),
    keepaliveCountMax: envVar('TUNNEL_GATEWAY_KEEPALIVE_COUNT_MAX', { default: '3', description: 'Unanswered keepalives before a bastion is dropped.', parse: integer(0, 1000) }),
    httpHost: envVar('TUNNEL_GATEWAY_HTTP_HOST', { default: '0.0.0.0', description: 'Address of the HTTP server for `/healthz` and `/metrics`.', parse: host() }),
    httpPort: envVar('TUNNEL_GATEWAY_HTTP_PORT', { default: '9090', description: 'Port of the HTTP server for `/healthz` and `/metrics` (0: any free port, logged).', parse: port(true) }),
    publishServices: envVar('TUNNEL_GATEWAY_PUBLISH_SERVICES', {
      default: 'false',
      description: 'Publish a Service and an EndpointSlice in the local cluster for each offloaded pod with forwards (`true`/`false`).',
      parse: bool(),
    }),
    advertiseAddress: envVar('TUNNEL_GATEWAY_ADVERTISE_ADDRESS', {
      description: 'The gateway\'s IP address as local clients reach it (the pod IP, from the downward API): the endpoint of every published Service. Required when publishing.',
      optional: true,
      parse: endpointAddress(),
    }),
    namespaces: envVar('TUNNEL_GATEWAY_NAMESPACES', {
      description: 'Comma-separated namespaces the gateway publishes in (its RBAC is then per namespace); unset: all namespaces.',
      optional: true,
      parse: list(),
    }),
    kubeApiUrl: envVar('TUNNEL_GATEWAY_KUBE_API_URL', {
      description: 'The local API server, `https://host:port`; unset: `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT` (in a pod).',
      optional: true,
      parse: httpsUrl(),
    }),
    kubeTokenFile: envVar('TUNNEL_GATEWAY_KUBE_TOKEN_FILE', {
      default: '/var/run/secrets/kubernetes.io/serviceaccount/token',
      description: 'Bearer token file for the local API server, read at each request (projected tokens rotate).',
      parse: anyText(),
    }),
    kubeCaFile: envVar('TUNNEL_GATEWAY_KUBE_CA_FILE', {
      default: '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt',
      description: 'CA bundle the local API server\'s certificate must chain to.',
      parse: anyText(),
    }),
    serviceGraceMs: envVar('TUNNEL_GATEWAY_SERVICE_GRACE_MS', {
      default: '30000',
      description: 'How long a published Service stays after its pod\'s last forward went (its endpoints are removed at once), ms.',
      parse: integer(0, 86_400_000),
    }),
    ...shared,
  } satisfies Record<string, EnvVar<unknown>>;
}

/** `PORT`, `PORT:TARGET_PORT` or `PORT:TARGET_HOST:TARGET_PORT`, comma-separated. */
const forwardList =
  (bindAddress: string, targetHost: string): Parser<ForwardSpec[]> =>
  (text) =>
    text.split(',').map((part) => {
      const item = part.trim();
      const match = /^(\d+)(?::(?:([A-Za-z0-9.:_-]+):)?(\d+))?$/.exec(item);
      const bindPort = Number(match?.[1]);
      const targetPort = Number(match?.[3] ?? match?.[1]);
      if (match === null || bindPort > 65535 || targetPort < 1 || targetPort > 65535) {
        throw new Error(`"${item}": expected PORT, PORT:TARGET_PORT or PORT:TARGET_HOST:TARGET_PORT`);
      }
      return { bindAddress, bindPort, targetHost: match[2] ?? targetHost, targetPort };
    });

/** `key=value,key=value`. */
const labelList = (): Parser<Record<string, string>> => (text) => {
  const labels: Record<string, string> = {};
  for (const item of text.split(',').map((part) => part.trim())) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new Error(`"${item}": expected key=value`);
    labels[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return labels;
};

/** The bastion's environment variables (the README's table is checked against this). */
export function bastionVariables(reader: FileReader) {
  return {
    gatewayHost: envVar('TUNNEL_BASTION_GATEWAY_HOST', { required: true, description: 'Host name or address of the gateway\'s SSH server.', parse: host() }),
    gatewayPort: envVar('TUNNEL_BASTION_GATEWAY_PORT', { default: '2222', description: 'Port of the gateway\'s SSH server.', parse: port() }),
    gatewayHostKey: envVar('TUNNEL_BASTION_GATEWAY_HOST_KEY', {
      required: true,
      description: 'The gateway\'s host public key(s) to pin, one per line (`ssh-ed25519 AAAA...`): a file path, inline text or its base64. Any other key is refused; there is no trust on first use.',
      parse: keyMaterial(reader, (text) => parsePublicKeys(text, 'gateway host key')),
    }),
    privateKey: envVar('TUNNEL_BASTION_PRIVATE_KEY', {
      required: true,
      description: 'The bastion\'s private key: a file path, or the key inline (OpenSSH/PEM text or its base64, as the reference\'s `tcp_tunnel.gateway_ssh_private_key`).',
      parse: keyMaterial(reader, (text) => parsePrivateKey(text)),
    }),
    username: envVar('TUNNEL_BASTION_USERNAME', { description: 'SSH user name; default `bastion`. Exclusive with `TUNNEL_BASTION_LABELS`.', optional: true, parse: anyText() }),
    labels: envVar('TUNNEL_BASTION_LABELS', {
      description: '`key=value,...` sent to the gateway in the user name (values percent-encoded) and handed to its forward events, e.g. `pod=web,namespace=shop`.',
      optional: true,
      parse: labelList(),
    }),
    bindAddress: envVar('TUNNEL_BASTION_BIND_ADDRESS', {
      default: '0.0.0.0',
      description: 'Bind address put in each `tcpip-forward` request (our gateway ignores it; OpenSSH `sshd` uses it with `GatewayPorts clientspecified`).',
      parse: anyText(),
    }),
    targetHost: envVar('TUNNEL_BASTION_TARGET_HOST', { default: '127.0.0.1', description: 'Where forwarded connections go unless a forward names a host (the pod itself when a sidecar).', parse: host() }),
    forwards: envVar('TUNNEL_BASTION_FORWARDS', {
      required: true,
      description: 'Comma-separated forwards: `PORT` (container port, also the target port), `PORT:TARGET_PORT` or `PORT:TARGET_HOST:TARGET_PORT`.',
      parse: anyText(),
    }),
    keepaliveIntervalMs: envVar('TUNNEL_BASTION_KEEPALIVE_INTERVAL_MS', { default: '10000', description: 'SSH keepalive interval, ms; 0 disables.', parse: integer(0, 3_600_000) }),
    keepaliveCountMax: envVar('TUNNEL_BASTION_KEEPALIVE_COUNT_MAX', { default: '3', description: 'Unanswered keepalives before the connection is dropped and re-made.', parse: integer(1, 1000) }),
    readyTimeoutMs: envVar('TUNNEL_BASTION_READY_TIMEOUT_MS', { default: '15000', description: 'Time allowed for connect, handshake and authentication, ms.', parse: integer(1000, 600_000) }),
    backoffInitialMs: envVar('TUNNEL_BASTION_BACKOFF_INITIAL_MS', { default: '200', description: 'First reconnect delay, ms; doubles per failed attempt, with up to 50 % random reduction (jitter).', parse: integer(10, 600_000) }),
    backoffMaxMs: envVar('TUNNEL_BASTION_BACKOFF_MAX_MS', { default: '3000', description: 'Cap of the reconnect delay, ms (a bastion is back within about this long after its gateway returns).', parse: integer(10, 3_600_000) }),
    ...shared,
  } satisfies Record<string, EnvVar<unknown>>;
}

/** Reads the gateway's configuration; throws `ConfigError` naming every bad variable. */
export function loadGatewayConfig(env: Environment, reader: FileReader): GatewayAppConfig {
  const blank = (name: string) => (env[name]?.trim() ?? '') === '';
  const problems: string[] = [];
  if (blank('TUNNEL_GATEWAY_AUTHORIZED_KEYS') && blank('TUNNEL_GATEWAY_POD_KEY_SECRET')) {
    problems.push('TUNNEL_GATEWAY_AUTHORIZED_KEYS: required unless TUNNEL_GATEWAY_POD_KEY_SECRET is set (give either or both)');
  }
  let v: ReturnType<typeof readEnv<ReturnType<typeof gatewayVariables>>>;
  try {
    v = readEnv(gatewayVariables(reader), env);
  } catch (error) {
    throw error instanceof ConfigError ? new ConfigError([...error.problems, ...problems]) : error;
  }
  let publish: PublishConfig | undefined;
  if (v.publishServices) {
    const inCluster = env.KUBERNETES_SERVICE_HOST === undefined ? undefined : `https://${hostForUrl(env.KUBERNETES_SERVICE_HOST)}:${env.KUBERNETES_SERVICE_PORT ?? '443'}`;
    const server = v.kubeApiUrl ?? inCluster;
    if (server === undefined) problems.push('TUNNEL_GATEWAY_KUBE_API_URL: required when publishing outside a pod (KUBERNETES_SERVICE_HOST is not set)');
    if (v.advertiseAddress === undefined) problems.push('TUNNEL_GATEWAY_ADVERTISE_ADDRESS: required when TUNNEL_GATEWAY_PUBLISH_SERVICES is true');
    const ca = readFileOrProblem(reader, v.kubeCaFile, 'TUNNEL_GATEWAY_KUBE_CA_FILE', problems);
    if (reader(v.kubeTokenFile) === undefined) problems.push(`TUNNEL_GATEWAY_KUBE_TOKEN_FILE: ${v.kubeTokenFile} does not exist`);
    if (server !== undefined && v.advertiseAddress !== undefined && ca !== undefined) {
      publish = {
        publisher: {
          address: v.advertiseAddress,
          graceMs: v.serviceGraceMs,
          namespaces: v.namespaces ?? [],
          verifiedOnly: v.podKeySecret !== undefined,
          retryInitialMs: PUBLISHER_DEFAULTS.retryInitialMs,
          retryMaxMs: PUBLISHER_DEFAULTS.retryMaxMs,
        },
        kube: { server, ca, tokenFile: v.kubeTokenFile, namespaces: v.namespaces ?? [] },
      };
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    ...(publish === undefined ? {} : { publish }),
    gateway: {
      hostKeys: [v.hostKey],
      authorizedKeys: v.authorizedKeys ?? '',
      ...(v.podKeySecret === undefined ? {} : { podKeySecret: v.podKeySecret }),
      listenHost: v.listenHost,
      listenPort: v.listenPort,
      forwardHost: v.forwardHost,
      portRange: v.portRange,
      maxForwardsPerConnection: v.maxForwards,
      maxAuthAttempts: v.maxAuthAttempts,
      loginGraceMs: v.loginGraceMs,
      keepaliveIntervalMs: v.keepaliveIntervalMs,
      keepaliveCountMax: v.keepaliveCountMax,
      ...(v.ciphers === undefined ? {} : { ciphers: v.ciphers }),
    },
    http: { host: v.httpHost, port: v.httpPort },
    logLevel: v.logLevel,
  });
}

/** `[::1]` for an IPv6 address in a URL. */
function hostForUrl(hostName: string): string {
  return hostName.includes(':') ? `[${hostName}]` : hostName;
}

function readFileOrProblem(reader: FileReader, file: string, name: string, problems: string[]): string | undefined {
  try {
    const text = reader(file);
    if (text === undefined) problems.push(`${name}: ${file} does not exist`);
    return text;
  } catch (error) {
    problems.push(`${name}: cannot read ${file}: ${messageOf(error)}`);
    return undefined;
  }
}

/** Reads the bastion's configuration; throws `ConfigError` naming every bad variable. */
export function loadBastionConfig(env: Environment, reader: FileReader): BastionAppConfig {
  const v = readEnv(bastionVariables(reader), env);
  const problems: string[] = [];
  if (v.username !== undefined && v.labels !== undefined) problems.push('TUNNEL_BASTION_USERNAME: give either a user name or TUNNEL_BASTION_LABELS, not both');
  if (v.backoffMaxMs < v.backoffInitialMs) problems.push('TUNNEL_BASTION_BACKOFF_MAX_MS: must be at least TUNNEL_BASTION_BACKOFF_INITIAL_MS');
  let forwards: ForwardSpec[] = [];
  try {
    forwards = forwardList(v.bindAddress, v.targetHost)(v.forwards);
  } catch (error) {
    problems.push(`TUNNEL_BASTION_FORWARDS: ${messageOf(error)}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    bastion: {
      host: v.gatewayHost,
      port: v.gatewayPort,
      ...(v.labels === undefined ? { username: v.username ?? 'bastion' } : { labels: v.labels }),
      privateKey: v.privateKey,
      hostKeys: v.gatewayHostKey,
      forwards,
      keepaliveIntervalMs: v.keepaliveIntervalMs,
      keepaliveCountMax: v.keepaliveCountMax,
      readyTimeoutMs: v.readyTimeoutMs,
      backoff: { initialMs: v.backoffInitialMs, maxMs: v.backoffMaxMs, multiplier: 2, jitter: 0.5 },
      ...(v.ciphers === undefined ? {} : { ciphers: v.ciphers }),
    },
    logLevel: v.logLevel,
  });
}

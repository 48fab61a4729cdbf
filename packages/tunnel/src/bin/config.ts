import { z } from 'zod';
import type { BastionConfig, ForwardSpec } from '../bastion/bastion.js';
import type { GatewayConfig } from '../gateway/gateway.js';
import { parseAuthorizedKeys, parsePrivateKey, parsePublicKeys } from '../keys.js';
import { ConfigError, ciphers, envVar, host, integer, keyMaterial, logLevel, port, portRange, readEnv, type Environment, type EnvVar, type FileReader } from './env.js';

/** Where the gateway's health and metrics endpoint listens. */
export interface HttpListen {
  readonly host: string;
  readonly port: number;
}

/** Everything the gateway entry point needs, read once from the environment. */
export interface GatewayAppConfig {
  readonly gateway: GatewayConfig;
  readonly http: HttpListen;
  readonly logLevel: string;
}

/** Everything the bastion entry point needs, read once from the environment. */
export interface BastionAppConfig {
  readonly bastion: BastionConfig;
  readonly logLevel: string;
}

const shared = {
  ciphers: envVar('TUNNEL_CIPHERS', {
    description: 'Comma-separated ciphers to offer (e.g. `aes128-gcm@openssh.com`); unset: ssh2\'s default list. Supported: aes128-gcm@openssh.com, aes256-gcm@openssh.com, chacha20-poly1305@openssh.com, aes128-ctr, aes192-ctr, aes256-ctr.',
    schema: ciphers().optional(),
  }),
  logLevel: envVar('TUNNEL_LOG_LEVEL', { default: 'info', description: 'Log level: fatal, error, warn, info, debug, trace or silent. Logs are JSON lines on stdout.', schema: logLevel() }),
};

/** The gateway's environment variables (the README's table is checked against this). */
export function gatewayVariables(reader: FileReader) {
  return {
    hostKey: envVar('TUNNEL_GATEWAY_HOST_KEY', {
      required: true,
      description: 'The gateway\'s SSH host private key: a file path, or the key inline (OpenSSH/PEM text or its base64). Bastions pin its public half.',
      schema: keyMaterial(reader, (text) => parsePrivateKey(text, undefined, 'host key')),
    }),
    authorizedKeys: envVar('TUNNEL_GATEWAY_AUTHORIZED_KEYS', {
      required: true,
      description: 'The bastion public keys allowed in, `authorized_keys` format (one per line, no options): a file path, or inline text or its base64.',
      schema: keyMaterial(reader, (text) => {
        if (parseAuthorizedKeys(text).length === 0) throw new Error('no key in the list');
      }),
    }),
    listenHost: envVar('TUNNEL_GATEWAY_LISTEN_HOST', { default: '0.0.0.0', description: 'Address of the SSH server.', schema: host() }),
    listenPort: envVar('TUNNEL_GATEWAY_LISTEN_PORT', { default: '2222', description: 'Port of the SSH server.', schema: port(true) }),
    forwardHost: envVar('TUNNEL_GATEWAY_FORWARD_HOST', {
      default: '0.0.0.0',
      description: 'Address the allocated forward ports listen on (whatever bind address a client asks for).',
      schema: host(),
    }),
    portRange: envVar('TUNNEL_GATEWAY_PORT_RANGE', { default: '20000-20999', description: 'Inclusive range the forward ports are allocated from.', schema: portRange() }),
    maxForwards: envVar('TUNNEL_GATEWAY_MAX_FORWARDS_PER_CONNECTION', { default: '64', description: 'Reverse forwards one SSH connection may hold.', schema: integer(1, 65535) }),
    maxAuthAttempts: envVar('TUNNEL_GATEWAY_MAX_AUTH_ATTEMPTS', { default: '6', description: 'Rejected authentication attempts before a connection is dropped.', schema: integer(1, 100) }),
    loginGraceMs: envVar('TUNNEL_GATEWAY_LOGIN_GRACE_MS', { default: '20000', description: 'Time a connection has to authenticate, ms.', schema: integer(1000, 600_000) }),
    keepaliveIntervalMs: envVar('TUNNEL_GATEWAY_KEEPALIVE_INTERVAL_MS', {
      default: '15000',
      description: 'SSH keepalive towards bastions, ms. A silent bastion loses its forwards after interval × (count max + 1).',
      schema: integer(1000, 3_600_000),
    }),
    keepaliveCountMax: envVar('TUNNEL_GATEWAY_KEEPALIVE_COUNT_MAX', { default: '3', description: 'Unanswered keepalives before a bastion is dropped.', schema: integer(0, 1000) }),
    httpHost: envVar('TUNNEL_GATEWAY_HTTP_HOST', { default: '0.0.0.0', description: 'Address of the HTTP server for `/healthz` and `/metrics`.', schema: host() }),
    httpPort: envVar('TUNNEL_GATEWAY_HTTP_PORT', { default: '9090', description: 'Port of the HTTP server for `/healthz` and `/metrics` (0: any free port, logged).', schema: port(true) }),
    ...shared,
  } satisfies Record<string, EnvVar<unknown>>;
}

/** `PORT`, `PORT:TARGET_PORT` or `PORT:TARGET_HOST:TARGET_PORT`, comma-separated. */
const forwardList = (bindAddress: string, targetHost: string) =>
  z.string().transform((text, ctx): ForwardSpec[] => {
    const forwards: ForwardSpec[] = [];
    for (const item of text.split(',').map((part) => part.trim())) {
      const match = /^(\d+)(?::(?:([A-Za-z0-9.:_-]+):)?(\d+))?$/.exec(item);
      const bindPort = Number(match?.[1]);
      const targetPort = Number(match?.[3] ?? match?.[1]);
      if (match === null || bindPort > 65535 || targetPort < 1 || targetPort > 65535) {
        ctx.addIssue({ code: 'custom', message: `"${item}": expected PORT, PORT:TARGET_PORT or PORT:TARGET_HOST:TARGET_PORT` });
        return z.NEVER;
      }
      forwards.push({ bindAddress, bindPort, targetHost: match[2] ?? targetHost, targetPort });
    }
    return forwards;
  });

/** `key=value,key=value`. */
const labelList = () =>
  z.string().transform((text, ctx) => {
    const labels: Record<string, string> = {};
    for (const item of text.split(',').map((part) => part.trim())) {
      const eq = item.indexOf('=');
      if (eq <= 0) {
        ctx.addIssue({ code: 'custom', message: `"${item}": expected key=value` });
        return z.NEVER;
      }
      labels[item.slice(0, eq)] = item.slice(eq + 1);
    }
    return labels;
  });

/** The bastion's environment variables (the README's table is checked against this). */
export function bastionVariables(reader: FileReader) {
  return {
    gatewayHost: envVar('TUNNEL_BASTION_GATEWAY_HOST', { required: true, description: 'Host name or address of the gateway\'s SSH server.', schema: host() }),
    gatewayPort: envVar('TUNNEL_BASTION_GATEWAY_PORT', { default: '2222', description: 'Port of the gateway\'s SSH server.', schema: port() }),
    gatewayHostKey: envVar('TUNNEL_BASTION_GATEWAY_HOST_KEY', {
      required: true,
      description: 'The gateway\'s host public key(s) to pin, one per line (`ssh-ed25519 AAAA...`): a file path, inline text or its base64. Any other key is refused; there is no trust on first use.',
      schema: keyMaterial(reader, (text) => parsePublicKeys(text, 'gateway host key')),
    }),
    privateKey: envVar('TUNNEL_BASTION_PRIVATE_KEY', {
      required: true,
      description: 'The bastion\'s private key: a file path, or the key inline (OpenSSH/PEM text or its base64, as the reference\'s `tcp_tunnel.gateway_ssh_private_key`).',
      schema: keyMaterial(reader, (text) => parsePrivateKey(text)),
    }),
    username: envVar('TUNNEL_BASTION_USERNAME', { description: 'SSH user name; default `bastion`. Exclusive with `TUNNEL_BASTION_LABELS`.', schema: z.string().optional() }),
    labels: envVar('TUNNEL_BASTION_LABELS', {
      description: '`key=value,...` sent to the gateway in the user name (values percent-encoded) and handed to its forward events, e.g. `pod=web,namespace=shop`.',
      schema: labelList().optional(),
    }),
    bindAddress: envVar('TUNNEL_BASTION_BIND_ADDRESS', {
      default: '0.0.0.0',
      description: 'Bind address put in each `tcpip-forward` request (our gateway ignores it; OpenSSH `sshd` uses it with `GatewayPorts clientspecified`).',
      schema: z.string(),
    }),
    targetHost: envVar('TUNNEL_BASTION_TARGET_HOST', { default: '127.0.0.1', description: 'Where forwarded connections go unless a forward names a host (the pod itself when a sidecar).', schema: host() }),
    forwards: envVar('TUNNEL_BASTION_FORWARDS', {
      required: true,
      description: 'Comma-separated forwards: `PORT` (container port, also the target port), `PORT:TARGET_PORT` or `PORT:TARGET_HOST:TARGET_PORT`.',
      schema: z.string(),
    }),
    keepaliveIntervalMs: envVar('TUNNEL_BASTION_KEEPALIVE_INTERVAL_MS', { default: '10000', description: 'SSH keepalive interval, ms; 0 disables.', schema: integer(0, 3_600_000) }),
    keepaliveCountMax: envVar('TUNNEL_BASTION_KEEPALIVE_COUNT_MAX', { default: '3', description: 'Unanswered keepalives before the connection is dropped and re-made.', schema: integer(1, 1000) }),
    readyTimeoutMs: envVar('TUNNEL_BASTION_READY_TIMEOUT_MS', { default: '15000', description: 'Time allowed for connect, handshake and authentication, ms.', schema: integer(1000, 600_000) }),
    backoffInitialMs: envVar('TUNNEL_BASTION_BACKOFF_INITIAL_MS', { default: '200', description: 'First reconnect delay, ms; doubles per failed attempt, with up to 50 % random reduction (jitter).', schema: integer(10, 600_000) }),
    backoffMaxMs: envVar('TUNNEL_BASTION_BACKOFF_MAX_MS', { default: '5000', description: 'Cap of the reconnect delay, ms.', schema: integer(10, 3_600_000) }),
    ...shared,
  } satisfies Record<string, EnvVar<unknown>>;
}

/** Reads the gateway's configuration; throws `ConfigError` naming every bad variable. */
export function loadGatewayConfig(env: Environment, reader: FileReader): GatewayAppConfig {
  const v = readEnv(gatewayVariables(reader), env);
  return Object.freeze({
    gateway: {
      hostKeys: [v.hostKey],
      authorizedKeys: v.authorizedKeys,
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

/** Reads the bastion's configuration; throws `ConfigError` naming every bad variable. */
export function loadBastionConfig(env: Environment, reader: FileReader): BastionAppConfig {
  const v = readEnv(bastionVariables(reader), env);
  const problems: string[] = [];
  if (v.username !== undefined && v.labels !== undefined) problems.push('TUNNEL_BASTION_USERNAME: give either a user name or TUNNEL_BASTION_LABELS, not both');
  if (v.backoffMaxMs < v.backoffInitialMs) problems.push('TUNNEL_BASTION_BACKOFF_MAX_MS: must be at least TUNNEL_BASTION_BACKOFF_INITIAL_MS');
  const forwards = forwardList(v.bindAddress, v.targetHost).safeParse(v.forwards);
  if (!forwards.success) problems.push(`TUNNEL_BASTION_FORWARDS: ${forwards.error.issues.map((issue) => issue.message).join('; ')}`);
  if (problems.length > 0 || !forwards.success) throw new ConfigError(problems);
  return Object.freeze({
    bastion: {
      host: v.gatewayHost,
      port: v.gatewayPort,
      ...(v.labels === undefined ? { username: v.username ?? 'bastion' } : { labels: v.labels }),
      privateKey: v.privateKey,
      hostKeys: v.gatewayHostKey,
      forwards: forwards.data,
      keepaliveIntervalMs: v.keepaliveIntervalMs,
      keepaliveCountMax: v.keepaliveCountMax,
      readyTimeoutMs: v.readyTimeoutMs,
      backoff: { initialMs: v.backoffInitialMs, maxMs: v.backoffMaxMs, multiplier: 2, jitter: 0.5 },
      ...(v.ciphers === undefined ? {} : { ciphers: v.ciphers }),
    },
    logLevel: v.logLevel,
  });
}

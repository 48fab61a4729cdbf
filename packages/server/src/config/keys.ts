import { z } from 'zod';
import { messageOf } from '../cross-realm-errors.js';
import { SUPPORTED_CIPHERS } from '@interlink-k8s/contract';

/** One configuration key: where it is read from, its default and how its text is parsed. */
export interface ConfigKey<K extends string = string, T = unknown> {
  /** `section.name`, as in the ini file. */
  readonly key: K;
  /** The ini section. */
  readonly section: string;
  /** The key within its section. */
  readonly name: string;
  /** The environment variable that overrides the file: `SECTION_NAME` upper-cased. */
  readonly env: string;
  /** The default, written as it would be in the file; `undefined` when the key is unset by default. */
  readonly default: string | undefined;
  /** What the README shows as the default of a key whose default is computed at start-up (`default` is then undefined). */
  readonly documentedDefault: string | undefined;
  /** One or two sentences for the README's configuration table. */
  readonly description: string;
  /** Parses the trimmed text; receives `undefined` when the key is unset and has no default. */
  readonly schema: z.ZodType<T, string | undefined>;
  /** Whether an empty value means "empty" (otherwise it means "unset": the default applies). */
  readonly emptyIsValue: boolean;
}

interface KeySpec<T> {
  default?: string;
  documentedDefault?: string;
  description: string;
  schema: z.ZodType<T, string | undefined>;
  emptyIsValue?: boolean;
}

function defineKey<K extends `${string}.${string}`, T>(key: K, spec: KeySpec<T>): ConfigKey<K, T> {
  const [section = '', name = ''] = key.split('.');
  return {
    key,
    section,
    name,
    env: `${section}_${name}`.toUpperCase(),
    default: spec.default,
    documentedDefault: spec.documentedDefault,
    description: spec.description,
    schema: spec.schema,
    emptyIsValue: spec.emptyIsValue ?? false,
  };
}

// --- value parsers --------------------------------------------------------

const bool = () =>
  z.stringbool({ error: 'expected true or false (also accepted: yes/no, on/off, 1/0)', case: 'insensitive' });

const integer = (min: number, max: number) =>
  z
    .string()
    .regex(/^[+-]?\d+$/, { error: 'expected a whole number' })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, { error: `expected at least ${min}` })
        .max(max, { error: `expected at most ${max}` }),
    );

/** Text holding JSON, checked by `schema`; `what` names the expected JSON in error messages. */
const json = <T>(what: string, schema: z.ZodType<T>) =>
  z
    .string()
    .transform((text, ctx): unknown => {
      try {
        return JSON.parse(text);
      } catch (error) {
        const reason = messageOf(error);
        ctx.addIssue({ code: 'custom', message: `expected ${what} (invalid JSON: ${reason})` });
        return z.NEVER;
      }
    })
    .pipe(schema);

const optionalJson = <T>(what: string, schema: z.ZodType<T>) => json(what, schema).optional();

const optionalText = () => z.string().optional();

/** An RFC 1123 label, as Kubernetes namespace names are. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A host name or IP address (IPv6 without brackets), as the bastion accepts it. */
const HOST = /^[A-Za-z0-9.:_-]+$/;

/** Repository of the tunnel image; its tag is the version of `@interlink-k8s/tunnel`. */
export const BASTION_IMAGE_REPOSITORY = 'ghcr.io/interlink-k8s/tcp-tunnel';

/** `unix:///path` or `http://host`, before the port is joined in. */
export type SocketAddress = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string };

const socketAddress = z.string().transform((text, ctx): SocketAddress => {
  if (text.startsWith('unix://')) {
    const path = text.slice('unix://'.length);
    if (path !== '') return { kind: 'unix', path };
    ctx.addIssue({ code: 'custom', message: 'unix:// needs a socket path, e.g. unix:///var/run/.plugin.sock' });
    return z.NEVER;
  }
  const bad = (message: string) => {
    ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  };
  if (text.startsWith('https://')) return bad('TLS is not supported (InterLink speaks plain HTTP): use http://host');
  if (!text.startsWith('http://')) return bad('expected unix:///path/to/socket or http://host');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return bad('expected http://host with a host name or IP address');
  }
  if (url.port !== '') return bad('put the port in app.socket_port, not in the address');
  if (url.username !== '' || url.password !== '' || (url.pathname !== '/' && url.pathname !== '')) {
    return bad('expected only a host after http://');
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { kind: 'tcp', host };
});

/** A URL path served by the app: `/` then letters, digits, `.`, `_`, `~`, `-` and `/` (no route patterns). */
const urlPath = z
  .string()
  .regex(/^\/[A-Za-z0-9._~/-]*$/, { error: 'expected a URL path such as /docs (letters, digits, . _ ~ - /)' });

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
/** A pino log level. */
export type LogLevel = (typeof LOG_LEVELS)[number];
/** Python's level names (the reference plugin's) mapped to pino's. */
const PYTHON_LEVELS: Readonly<Record<string, LogLevel>> = {
  notset: 'trace',
  warning: 'warn',
  critical: 'fatal',
};
const logLevel = z
  .string()
  .transform((text) => {
    const lower = text.toLowerCase();
    return PYTHON_LEVELS[lower] ?? lower;
  })
  .pipe(z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')} (or Python's WARNING, CRITICAL)` }));

/**
 * The reference plugin's `k8s.client_configuration`: attributes of the Python
 * Kubernetes client's `Configuration`. The ones with a meaning here are typed;
 * others are kept so they can be reported as ignored.
 */
const clientConfiguration = z.looseObject({
  verify_ssl: z.boolean({ error: 'expected true or false' }).optional(),
  ssl_ca_cert: z.string().min(1).optional(),
  cert_file: z.string().min(1).optional(),
  key_file: z.string().min(1).optional(),
  host: z.url({ protocol: /^https?$/, error: 'expected the API server URL, e.g. https://host:6443' }).optional(),
  proxy: z.url({ error: 'expected a proxy URL, e.g. http://proxy:3128' }).optional(),
});
/** The parsed `k8s.client_configuration`. */
export type ClientConfiguration = z.output<typeof clientConfiguration>;

const toleration = z.looseObject({
  key: z.string().optional(),
  operator: z.enum(['Exists', 'Equal']).optional(),
  value: z.string().optional(),
  effect: z.enum(['', 'NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
  tolerationSeconds: z.number().int().optional(),
});

// --- the keys ---------------------------------------------------------------

/**
 * Every configuration key, in README order. The reference plugin's keys keep
 * their names; `app.shutdown_timeout_seconds`, `app.metrics_enabled`,
 * `app.max_body_mib`, `k8s.field_manager`, `local.kubeconfig_path`,
 * `local.in_cluster`, `offloading.sweep_interval_seconds`,
 * `tcp_tunnel.gateway_host_public_key`,
 * `tcp_tunnel.pod_key_secret`, `tcp_tunnel.bastion_image` and
 * `tcp_tunnel.ciphers` are new.
 */
export const configKeys = [
  defineKey('app.socket_address', {
    default: 'http://127.0.0.1',
    description:
      'Where InterLink reaches the plugin: `unix:///path/to/socket` (created with mode 0600) or `http://host` (plain HTTP; `0.0.0.0` for all interfaces).',
    schema: socketAddress,
  }),
  defineKey('app.socket_port', {
    default: '4000',
    description: 'TCP port; must be > 0 with an `http://` address, ignored for a unix socket.',
    schema: integer(0, 65535),
  }),
  defineKey('app.api_docs_path', {
    default: '/docs',
    description: 'Path of the HTML API documentation (the OpenAPI document is at `/openapi.json`).',
    schema: urlPath,
  }),
  defineKey('app.shutdown_timeout_seconds', {
    default: '25',
    description:
      'On SIGTERM/SIGINT, how long in-flight requests may take to finish before connections are closed. Keep it below the pod\'s `terminationGracePeriodSeconds`.',
    schema: integer(0, 3600),
  }),
  defineKey('app.metrics_enabled', {
    default: 'true',
    description: 'Serve Prometheus metrics at `/metrics`.',
    schema: bool(),
  }),
  defineKey('app.max_body_mib', {
    default: '64',
    description: 'Largest accepted request body in MiB (a create carries the pod\'s ConfigMaps and Secrets).',
    schema: integer(1, 1024),
  }),
  defineKey('log.level', {
    default: 'info',
    description:
      'Log level: `trace`, `debug`, `info`, `warn`, `error`, `fatal` or `silent`; Python\'s names (`DEBUG`, `WARNING`, ...) are accepted.',
    schema: logLevel,
  }),
  defineKey('log.requests_enabled', {
    default: 'false',
    description: 'Log every request body at `debug` level (Secret data, projected tokens and env values are redacted).',
    schema: bool(),
  }),
  defineKey('k8s.kubeconfig_path', {
    description:
      'Kubeconfig file of the **remote** cluster. Unset together with `k8s.kubeconfig`: the client\'s default lookup (`KUBECONFIG`, `~/.kube/config`, in-cluster).',
    schema: optionalText(),
  }),
  defineKey('k8s.kubeconfig', {
    description:
      'The remote kubeconfig inline, as JSON (`yq -o=json -I=0 kubeconfig.yaml`; YAML is accepted too); wins over `k8s.kubeconfig_path`.',
    schema: z
      .string()
      .superRefine((text, ctx) => {
        // JSON (the reference's format) is checked here; YAML is left to the Kubernetes client.
        if (!text.startsWith('{')) return;
        try {
          JSON.parse(text);
        } catch (error) {
          const reason = messageOf(error);
          ctx.addIssue({ code: 'custom', message: `expected a kubeconfig as a JSON object (invalid JSON: ${reason})` });
        }
      })
      .optional(),
  }),
  defineKey('k8s.client_configuration', {
    description:
      'JSON object overriding the kubeconfig: `verify_ssl` (bool), `ssl_ca_cert`, `cert_file`, `key_file` (file paths), `host` (API server URL), `proxy` (URL).',
    schema: optionalJson('a JSON object', clientConfiguration),
  }),
  defineKey('k8s.field_manager', {
    default: 'interlink-k8s',
    description: 'Server-side apply field manager on the remote cluster; one per installation.',
    schema: z
      .string()
      .min(1)
      .max(128, { error: 'expected at most 128 characters' })
      .regex(/^[\x21-\x7e]+$/, { error: 'expected printable ASCII without spaces' }),
  }),
  defineKey('local.kubeconfig_path', {
    description:
      'Kubeconfig file of the **local** cluster (where InterLink\'s virtual node is), allowed to `get` `pods`. With it (or `local.in_cluster`), the sweep also deletes remote pods whose local pod no longer exists or was re-created: InterLink sends each delete once, and one lost while the plugin was down would leave the remote pod running. Unset together with `local.in_cluster`: the local cluster is never read.',
    schema: optionalText(),
  }),
  defineKey('local.in_cluster', {
    default: 'false',
    description:
      'Read the local cluster with the plugin pod\'s own ServiceAccount (the Helm chart\'s default), as `local.kubeconfig_path` would; the file wins when both are set.',
    schema: bool(),
  }),
  defineKey('offloading.namespace_prefix', {
    default: 'offloading',
    description: 'Remote namespace is `<prefix>-<local namespace>`; set it empty for the local name unchanged.',
    emptyIsValue: true,
    schema: z.union([
      z.literal(''),
      z
        .string()
        .max(40, { error: 'expected at most 40 characters (namespaces are at most 63 with the local name)' })
        .regex(DNS_LABEL, { error: 'expected lower-case letters, digits and "-" (an RFC 1123 label)' }),
    ]),
  }),
  defineKey('offloading.namespace_prefix_exclusions', {
    default: '[]',
    description: 'JSON list of local namespaces offloaded without the prefix.',
    schema: json('a JSON list of namespace names', z.array(z.string(), { error: 'expected a JSON list of namespace names' })),
  }),
  defineKey('offloading.node_selector', {
    default: '{}',
    description: 'JSON object merged into every remote pod\'s `nodeSelector` (the pod\'s own keys win).',
    schema: json('a JSON object', z.record(z.string(), z.string(), { error: 'expected a JSON object of strings' })),
  }),
  defineKey('offloading.node_tolerations', {
    default: '[]',
    description: 'JSON list of tolerations appended to every remote pod.',
    schema: json('a JSON list of tolerations', z.array(toleration, { error: 'expected a JSON list of tolerations' })),
  }),
  defineKey('offloading.sweep_interval_seconds', {
    default: '300',
    description:
      'How often objects left behind on the remote cluster (their pod gone) are removed, and, with `local.*` set, remote pods whose local pod is gone (also once right after start-up); `0` disables the sweep.',
    schema: integer(0, 86400),
  }),
  defineKey('tcp_tunnel.enabled', {
    default: 'false',
    description:
      'Give every offloaded pod with TCP container ports a bastion sidecar that opens a reverse SSH tunnel to the gateway (`packages/tunnel`), so the pod\'s ports are reachable from the local cluster. A pod opts out with the annotation `interlink.io/tcp-tunnel: "false"`.',
    schema: bool(),
  }),
  defineKey('tcp_tunnel.gateway_host', {
    description: 'Host name or address of the gateway\'s SSH server, as the remote cluster reaches it. Required when the tunnel is enabled.',
    schema: z.string().regex(HOST, { error: 'expected a host name or IP address' }).optional(),
  }),
  defineKey('tcp_tunnel.gateway_port', {
    default: '2222',
    description: 'Port of the gateway\'s SSH server (the reference used the NodePort 30222: set it when the gateway is exposed that way).',
    schema: integer(1, 65535),
  }),
  defineKey('tcp_tunnel.gateway_host_public_key', {
    description:
      'The gateway\'s SSH host public key(s) the bastions pin, one per line (`ssh-ed25519 AAAA...`), or that text base64-encoded. Required when the tunnel is enabled; there is no trust on first use.',
    schema: optionalText(),
  }),
  defineKey('tcp_tunnel.pod_key_secret', {
    description:
      'Base64 of at least 32 random bytes (`openssl rand -base64 32`), the same as the gateway\'s `TUNNEL_GATEWAY_POD_KEY_SECRET`: each bastion gets a key derived for its own pod, which opens only that pod\'s forwards. Wins over `gateway_ssh_private_key`. Never logged.',
    schema: optionalText(),
  }),
  defineKey('tcp_tunnel.gateway_ssh_private_key', {
    description:
      'The private key every bastion shares (the reference\'s format: the OpenSSH or PEM key text, base64-encoded; unencrypted). Used when `pod_key_secret` is unset; one of the two is required when the tunnel is enabled. Never logged.',
    schema: optionalText(),
  }),
  defineKey('tcp_tunnel.bastion_image', {
    documentedDefault: `${BASTION_IMAGE_REPOSITORY}:<tunnel version>`,
    description:
      'Image of the bastion sidecar; by default the tunnel image of the `@interlink-k8s/tunnel` release bundled with this plugin.',
    schema: z.string().regex(/^[^\s-]\S*$/, { error: 'expected an image reference, e.g. ghcr.io/interlink-k8s/tcp-tunnel:0.1.0' }).optional(),
  }),
  defineKey('tcp_tunnel.ciphers', {
    description: `Comma-separated SSH ciphers the bastions offer (their \`TUNNEL_CIPHERS\`), e.g. \`aes128-gcm@openssh.com\`; unset: the bastion's default list. Supported: ${SUPPORTED_CIPHERS.join(', ')}.`,
    schema: z
      .string()
      .transform((text) => text.split(',').map((name) => name.trim()))
      .pipe(z.array(z.enum(SUPPORTED_CIPHERS, { error: `expected a comma-separated list of: ${SUPPORTED_CIPHERS.join(', ')}` })))
      .transform((names) => names.join(','))
      .optional(),
  }),
  defineKey('tcp_tunnel.bastion_namespace', {
    description: 'Reference plugin key, accepted and ignored: the bastion runs as a sidecar in each offloaded pod (a warning says so when the tunnel is enabled).',
    schema: optionalText(),
  }),
  defineKey('tcp_tunnel.bastion_chart_path', {
    description: 'Reference plugin key, accepted and ignored: no bastion chart is installed (a warning says so when the tunnel is enabled).',
    schema: optionalText(),
  }),
  defineKey('mesh.init_container', {
    default: 'true',
    description: 'Reference plugin key (run the mesh script as a native sidecar), accepted; not used yet.',
    schema: bool(),
  }),
  defineKey('mesh.startup_probe', {
    default: 'true',
    description: 'Reference plugin key, accepted; not used yet.',
    schema: bool(),
  }),
  defineKey('mesh.slurm_setup_script', {
    default: 'false',
    description: 'Reference plugin key, accepted; not used yet.',
    schema: bool(),
  }),
] as const;

/** A configuration key name, e.g. `offloading.node_selector`. */
export type ConfigKeyName = (typeof configKeys)[number]['key'];

/** The parsed value of every key. */
export type ConfigValues = {
  [E in (typeof configKeys)[number] as E['key']]: E extends ConfigKey<string, infer T> ? T : never;
};

/**
 * Keys of the reference plugin that mean nothing here (FastAPI app metadata,
 * Python log handlers, a long-gone single-namespace mode). They are accepted
 * without a warning so that an existing `config.ini` keeps working.
 */
export const ignoredReferenceKeys: readonly string[] = [
  'app.name',
  'app.description',
  'app.version',
  'app.api_versions',
  'log.dir',
  'log.rich_enabled',
];

/** The environment variable naming the ini file, and its default (as in the reference plugin). */
export const CONFIG_FILE_ENV = 'CONFIG_FILE_PATH';
/** The ini file read when `CONFIG_FILE_PATH` is unset; it may be missing. */
export const DEFAULT_CONFIG_FILE = 'private/config.ini';

import { describe, expect, it } from '@jest/globals';
import { ConfigError, type Environment } from '@interlink-k8s/contract';
import { loadConfig, type ServerConfig } from './load.js';
import { configKeys, type ConfigKey } from './keys.js';
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { derivePodKey } from '@interlink-k8s/contract';

/** The version of packages/tunnel, read as a release script would. */
const TUNNEL_VERSION = (JSON.parse(readFileSync(new URL('../../../tunnel/package.json', import.meta.url), 'utf8')) as { version: string }).version;

const files = (entries: Record<string, string>) => (path: string) => entries[path];
const noFiles = () => undefined;

function problemsOf(env: Environment, read: (path: string) => string | undefined = noFiles): readonly string[] {
  try {
    loadConfig(env, read);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('uses the defaults when there is no file and no environment', () => {
    const config = loadConfig({}, noFiles);
    expect(config.configFile).toBeUndefined();
    expect(config.listen).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 4000 });
    expect(config.docsPath).toBe('/docs');
    expect(config.shutdownTimeoutMs).toBe(25_000);
    expect(config.metricsEnabled).toBe(true);
    expect(config.bodyLimitBytes).toBe(64 * 1024 * 1024);
    expect(config.log).toEqual({ level: 'info', requestsEnabled: false });
    expect(config.provider).toEqual({
      kubeconfig: { kind: 'default' },
      clientOverrides: {},
      translate: { namespacePrefix: 'offloading', namespacePrefixExclusions: [], nodeSelector: {}, tolerations: [] },
      fieldManager: 'interlink-k8s',
      sweepIntervalMs: 300_000,
    });
    expect(config.tcpTunnel.enabled).toBe(false);
    expect(config.mesh).toEqual({ initContainer: true, startupProbe: true, slurmSetupScript: false });
    expect(config.warnings).toEqual([]);
  });

  it('reads private/config.ini by default', () => {
    const config = loadConfig({}, files({ 'private/config.ini': '[log]\nlevel=debug\n' }));
    expect(config.configFile).toBe('private/config.ini');
    expect(config.log.level).toBe('debug');
  });

  it('reads the file named by CONFIG_FILE_PATH', () => {
    const config = loadConfig({ CONFIG_FILE_PATH: '/etc/plugin.ini' }, files({ '/etc/plugin.ini': '[log]\nlevel=warn\n' }));
    expect(config.configFile).toBe('/etc/plugin.ini');
    expect(config.log.level).toBe('warn');
  });

  it('fails when CONFIG_FILE_PATH names a missing file', () => {
    expect(problemsOf({ CONFIG_FILE_PATH: '/etc/missing.ini' })).toEqual([
      'CONFIG_FILE_PATH: the configuration file /etc/missing.ini does not exist',
    ]);
  });

  it('names the file and line of an ini syntax error', () => {
    expect(problemsOf({}, files({ 'private/config.ini': '[log]\nlevel\n' }))).toEqual([
      'private/config.ini: line 2: expected "key = value", got "level"',
    ]);
  });

  it('applies default < ini file < environment', () => {
    const ini = '[offloading]\nnamespace_prefix=from-file\nsweep_interval_seconds=60\n';
    const read = files({ 'private/config.ini': ini });
    expect(loadConfig({}, noFiles).provider.translate.namespacePrefix).toBe('offloading');
    const fromFile = loadConfig({}, read);
    expect(fromFile.provider.translate.namespacePrefix).toBe('from-file');
    expect(fromFile.provider.sweepIntervalMs).toBe(60_000);
    const fromEnv = loadConfig({ OFFLOADING_NAMESPACE_PREFIX: 'from-env' }, read);
    expect(fromEnv.provider.translate.namespacePrefix).toBe('from-env');
    expect(fromEnv.provider.sweepIntervalMs).toBe(60_000);
  });

  it('treats an empty value as unset, except for the namespace prefix', () => {
    const ini = '[app]\nsocket_port=\n[offloading]\nnamespace_prefix=\n';
    const config = loadConfig({}, files({ 'private/config.ini': ini }));
    expect(config.listen).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 4000 });
    expect(config.provider.translate.namespacePrefix).toBe('');
  });

  it('names the key and the environment variable of a bad value', () => {
    expect(problemsOf({ OFFLOADING_NODE_SELECTOR: '[1, 2]' })).toEqual([
      'offloading.node_selector (environment OFFLOADING_NODE_SELECTOR): expected a JSON object of strings',
    ]);
  });

  it('names the key and the file of a bad value, and every bad key at once', () => {
    const ini = '[app]\nsocket_port=http\n[offloading]\nnode_tolerations=[{"effect": "Sometimes"}\n';
    const problems = problemsOf({}, files({ 'private/config.ini': ini }));
    expect(problems).toHaveLength(2);
    expect(problems[0]).toBe('app.socket_port (file private/config.ini): expected a whole number');
    expect(problems[1]).toMatch(
      /^offloading\.node_tolerations \(file private\/config\.ini\): expected a JSON list of tolerations \(invalid JSON: /,
    );
  });

  it('names the element and field inside a JSON value', () => {
    const problems = problemsOf({ OFFLOADING_NODE_TOLERATIONS: '[{"key": "gpu"}, {"effect": "Sometimes"}]' });
    expect(problems[0]).toMatch(/^offloading\.node_tolerations \(environment OFFLOADING_NODE_TOLERATIONS\): \[1\]\.effect: /);
  });

  it('puts the message of every problem in the error message', () => {
    let message = '';
    try {
      loadConfig({ APP_SOCKET_PORT: 'x', LOG_LEVEL: 'loud' }, noFiles);
    } catch (error) {
      message = error instanceof Error ? error.message : '';
    }
    expect(message).toContain('app.socket_port (environment APP_SOCKET_PORT)');
    expect(message).toContain('log.level (environment LOG_LEVEL)');
  });

  it.each([
    ['unix:///var/run/.plugin.sock', '0', { kind: 'unix', path: '/var/run/.plugin.sock' }],
    ['unix://relative/plugin.sock', '0', { kind: 'unix', path: 'relative/plugin.sock' }],
    ['http://0.0.0.0', '4000', { kind: 'tcp', host: '0.0.0.0', port: 4000 }],
    ['http://localhost/', '8080', { kind: 'tcp', host: 'localhost', port: 8080 }],
    ['http://[::1]', '4000', { kind: 'tcp', host: '::1', port: 4000 }],
  ])('reads app.socket_address %s (port %s)', (address, port, expected) => {
    const config = loadConfig({ APP_SOCKET_ADDRESS: address, APP_SOCKET_PORT: port }, noFiles);
    expect(config.listen).toEqual(expected);
  });

  it.each([
    ['https://host', 'TLS is not supported'],
    ['tcp://host', 'expected unix:///path/to/socket or http://host'],
    ['http://host:4000', 'put the port in app.socket_port'],
    ['unix://', 'unix:// needs a socket path'],
  ])('rejects app.socket_address %s', (address, message) => {
    const problems = problemsOf({ APP_SOCKET_ADDRESS: address });
    expect(problems[0]).toContain('app.socket_address (environment APP_SOCKET_ADDRESS)');
    expect(problems[0]).toContain(message);
  });

  it('requires a TCP port above 0, naming where the port came from', () => {
    const ini = '[app]\nsocket_address=http://0.0.0.0\nsocket_port=0\n';
    expect(problemsOf({}, files({ 'private/config.ini': ini }))).toEqual([
      'app.socket_port (file private/config.ini): must be > 0 when app.socket_address is http://',
    ]);
  });

  it("reads the reference plugin's sample config.ini", () => {
    const sample = [
      '[app]',
      'name=interlink-kubernetes-plugin',
      'description=Interlnk Kubernetes Plugin - Offload POD to a remote Kubernetes cluster',
      'version=dev',
      'api_versions=v1',
      'api_docs_path=/docs',
      '# Unix socket mode:',
      'socket_address=unix:///var/run/.plugin.sock',
      'socket_port=0',
      '[log]',
      'level=DEBUG',
      'rich_enabled=True',
      'requests_enabled=False',
      '[k8s]',
      'kubeconfig_path=private/k8s/kubeconfig.yaml',
      '# client_configuration={"verify_ssl": true}',
      '[offloading]',
      'namespace_prefix=offloading',
      'namespace_prefix_exclusions=["kube-system"]',
      'node_selector={"nvidia/gpu-model": "T4"}',
      'node_tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]',
      '[mesh]',
      'init_container=True',
      'startup_probe=True',
      'slurm_setup_script=False',
      '[tcp_tunnel]',
      'enabled=False',
      'bastion_namespace=tcp-tunnel',
      'bastion_chart_path=infr/charts/tcp-tunnel/charts/bastion',
      'gateway_host=',
      'gateway_port=',
      'gateway_ssh_private_key=',
    ].join('\n');
    const config = loadConfig({}, files({ 'private/config.ini': sample }));
    expect(config.listen).toEqual({ kind: 'unix', path: '/var/run/.plugin.sock' });
    expect(config.log).toEqual({ level: 'debug', requestsEnabled: false });
    expect(config.provider.kubeconfig).toEqual({ kind: 'file', path: 'private/k8s/kubeconfig.yaml' });
    expect(config.provider.translate).toEqual({
      namespacePrefix: 'offloading',
      namespacePrefixExclusions: ['kube-system'],
      nodeSelector: { 'nvidia/gpu-model': 'T4' },
      tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
    });
    expect(config.tcpTunnel).toEqual({
      enabled: false,
      gatewayHost: undefined,
      gatewayPort: 2222,
      gatewayHostPublicKey: undefined,
      podKeySecret: undefined,
      gatewaySshPrivateKey: undefined,
      bastionImage: `ghcr.io/interlink-k8s/tcp-tunnel:${TUNNEL_VERSION}`,
      ciphers: undefined,
    });
    expect(config.provider.translate.tunnel).toBeUndefined();
    expect(config.warnings).toEqual([]);
  });

  it.each([
    ['WARNING', 'warn'],
    ['CRITICAL', 'fatal'],
    ['Debug', 'debug'],
    ['silent', 'silent'],
  ])('maps log.level %s to %s', (level, expected) => {
    expect(loadConfig({ LOG_LEVEL: level }, noFiles).log.level).toBe(expected);
  });

  it('maps k8s.client_configuration onto client overrides and warns about the rest', () => {
    const config = loadConfig(
      {
        K8S_CLIENT_CONFIGURATION: JSON.stringify({
          verify_ssl: false,
          ssl_ca_cert: '/certs/ca.crt',
          cert_file: '/certs/client.crt',
          key_file: '/certs/client.key',
          host: 'https://remote:6443',
          proxy: 'http://proxy:3128',
          retries: 3,
        }),
      },
      noFiles,
    );
    expect(config.provider.clientOverrides).toEqual({
      insecureSkipTlsVerify: true,
      caFile: '/certs/ca.crt',
      certFile: '/certs/client.crt',
      keyFile: '/certs/client.key',
      server: 'https://remote:6443',
      proxyUrl: 'http://proxy:3128',
    });
    expect(config.warnings).toEqual([
      'k8s.client_configuration (environment K8S_CLIENT_CONFIGURATION): ignored unknown option(s) retries',
    ]);
  });

  it('rejects a verify_ssl that is not a boolean', () => {
    expect(problemsOf({ K8S_CLIENT_CONFIGURATION: '{"verify_ssl": "no"}' })).toEqual([
      'k8s.client_configuration (environment K8S_CLIENT_CONFIGURATION): verify_ssl: expected true or false',
    ]);
  });

  it('prefers the inline kubeconfig over the path, with a warning', () => {
    const kubeconfig = '{"apiVersion": "v1", "kind": "Config", "clusters": []}';
    const config = loadConfig({ K8S_KUBECONFIG: kubeconfig, K8S_KUBECONFIG_PATH: '/kube/config' }, noFiles);
    expect(config.provider.kubeconfig).toEqual({ kind: 'inline', content: kubeconfig });
    expect(config.warnings).toHaveLength(1);
  });

  it('rejects an inline kubeconfig that is broken JSON', () => {
    expect(problemsOf({ K8S_KUBECONFIG: '{"apiVersion": ' })[0]).toMatch(
      /^k8s\.kubeconfig \(environment K8S_KUBECONFIG\): expected a kubeconfig as a JSON object/,
    );
  });

  it('rejects a namespace prefix that cannot start a namespace name', () => {
    expect(problemsOf({ OFFLOADING_NAMESPACE_PREFIX: 'Off_loading' })[0]).toContain(
      'offloading.namespace_prefix (environment OFFLOADING_NAMESPACE_PREFIX)',
    );
  });

  it('rejects a docs path that would hide an API route', () => {
    expect(problemsOf({ APP_API_DOCS_PATH: '/status' })).toEqual([
      'app.api_docs_path (environment APP_API_DOCS_PATH): /status is an API route; choose another path',
    ]);
  });

  it('warns about unknown keys but accepts the reference keys it ignores', () => {
    const ini = '[app]\nname=x\nsocket_adress=http://0.0.0.0\n[log]\nrich_enabled=True\n';
    const config = loadConfig({}, files({ 'private/config.ini': ini }));
    expect(config.warnings).toEqual(['private/config.ini: unknown key app.socket_adress (ignored)']);
  });

  it('returns a deeply frozen object', () => {
    const config: ServerConfig = loadConfig({ OFFLOADING_NODE_SELECTOR: '{"a": "b"}' }, noFiles);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.provider.translate.nodeSelector)).toBe(true);
    expect(Object.isFrozen(config.listen)).toBe(true);
  });

  it('reads every key from the environment variable named in configKeys', () => {
    for (const key of configKeys) {
      expect(key.env).toBe(key.key.replace('.', '_').toUpperCase());
    }
    const config = loadConfig({ K8S_FIELD_MANAGER: 'mine', APP_MAX_BODY_MIB: '2', MESH_SLURM_SETUP_SCRIPT: 'yes' }, noFiles);
    expect(config.provider.fieldManager).toBe('mine');
    expect(config.bodyLimitBytes).toBe(2 * 1024 * 1024);
    expect(config.mesh.slurmSetupScript).toBe(true);
  });
});

describe('loadConfig with the TCP tunnel', () => {
  const gateway = derivePodKey(Buffer.alloc(32, 9), { namespace: 'tunnel', name: 'gateway', uid: 'g' });
  const sharedKey = derivePodKey(Buffer.alloc(32, 8), { namespace: 'tunnel', name: 'shared', uid: 's' }).privateKey;
  const podKeySecret = Buffer.alloc(32, 0x5a);
  const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
  const enabled = {
    TCP_TUNNEL_ENABLED: 'true',
    TCP_TUNNEL_GATEWAY_HOST: 'gateway.local.example',
    TCP_TUNNEL_GATEWAY_HOST_PUBLIC_KEY: gateway.publicKey,
  };

  it('builds the bastion settings from a pod-key secret, with the defaults of port and image', () => {
    const config = loadConfig({ ...enabled, TCP_TUNNEL_POD_KEY_SECRET: podKeySecret.toString('base64') }, noFiles);
    expect(config.provider.translate.tunnel).toEqual({
      gatewayHost: 'gateway.local.example',
      gatewayPort: 2222,
      gatewayHostKeys: `${gateway.publicKey.split(' ').slice(0, 2).join(' ')}\n`,
      bastionKey: { kind: 'per-pod', secret: podKeySecret },
      image: `ghcr.io/interlink-k8s/tcp-tunnel:${TUNNEL_VERSION}`,
    });
    expect(config.warnings).toEqual([]);
  });

  it("uses the reference's base64 shared key when no pod-key secret is set, and the ciphers, port and image given", () => {
    const ini = [
      '[tcp_tunnel]',
      'enabled=True',
      'gateway_host=10.0.0.7',
      'gateway_port=30222',
      `gateway_host_public_key=${base64(gateway.publicKey)}`,
      `gateway_ssh_private_key=${base64(sharedKey)}`,
      'bastion_image=registry.example/tunnel:1.2.3',
      'ciphers=aes256-gcm@openssh.com, aes128-ctr',
    ].join('\n');
    const tunnel = loadConfig({}, files({ 'private/config.ini': ini })).provider.translate.tunnel;
    expect(tunnel).toMatchObject({
      gatewayHost: '10.0.0.7',
      gatewayPort: 30222,
      bastionKey: { kind: 'shared', privateKey: sharedKey },
      image: 'registry.example/tunnel:1.2.3',
      ciphers: 'aes256-gcm@openssh.com,aes128-ctr',
    });
  });

  it('prefers the pod-key secret and warns that the shared key is unused (without quoting it)', () => {
    const config = loadConfig(
      { ...enabled, TCP_TUNNEL_POD_KEY_SECRET: podKeySecret.toString('base64'), TCP_TUNNEL_GATEWAY_SSH_PRIVATE_KEY: base64(sharedKey) },
      noFiles,
    );
    expect(config.provider.translate.tunnel?.bastionKey.kind).toBe('per-pod');
    expect(config.warnings).toEqual([
      'tcp_tunnel.gateway_ssh_private_key (environment TCP_TUNNEL_GATEWAY_SSH_PRIVATE_KEY): unused; tcp_tunnel.pod_key_secret is set, so each bastion gets a key derived for its own pod',
    ]);
  });

  it('requires the gateway host, its host key and a bastion key, naming each key', () => {
    expect(problemsOf({ TCP_TUNNEL_ENABLED: 'true' })).toEqual([
      'tcp_tunnel.gateway_host: required when tcp_tunnel.enabled is true',
      'tcp_tunnel.gateway_host_public_key: required when tcp_tunnel.enabled is true',
      'tcp_tunnel.pod_key_secret: required when tcp_tunnel.enabled is true, unless tcp_tunnel.gateway_ssh_private_key is set',
    ]);
  });

  it.each([
    ['TCP_TUNNEL_POD_KEY_SECRET', Buffer.alloc(16, 1).toString('base64'), 'tcp_tunnel.pod_key_secret (environment TCP_TUNNEL_POD_KEY_SECRET): expected base64 of at least 32 bytes'],
    ['TCP_TUNNEL_GATEWAY_SSH_PRIVATE_KEY', base64('-----BEGIN OPENSSH PRIVATE KEY-----\nc2VjcmV0LWJ5dGVz\n-----END OPENSSH PRIVATE KEY-----\n'), 'tcp_tunnel.gateway_ssh_private_key (environment TCP_TUNNEL_GATEWAY_SSH_PRIVATE_KEY): not a readable OpenSSH private key'],
    ['TCP_TUNNEL_GATEWAY_SSH_PRIVATE_KEY', base64('c2VjcmV0LWJ5dGVz'), 'tcp_tunnel.gateway_ssh_private_key (environment TCP_TUNNEL_GATEWAY_SSH_PRIVATE_KEY): expected an OpenSSH or PEM'],
  ])('refuses a bad %s, naming the key and never quoting the value', (name, value, message) => {
    const error = (() => {
      try {
        loadConfig({ ...enabled, [name]: value }, noFiles);
      } catch (caught) {
        return caught as Error;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(message);
    expect(error.message).not.toContain(value);
    expect(error.message).not.toContain('c2VjcmV0LWJ5dGVz');
  });

  it('refuses a gateway host key that is not an OpenSSH public key line, naming the key', () => {
    expect(problemsOf({ ...enabled, TCP_TUNNEL_GATEWAY_HOST_PUBLIC_KEY: 'ssh-ed25519 AAAA', TCP_TUNNEL_GATEWAY_SSH_PRIVATE_KEY: base64(sharedKey) })).toEqual([
      'tcp_tunnel.gateway_host_public_key (environment TCP_TUNNEL_GATEWAY_HOST_PUBLIC_KEY): line 1: expected a public key in OpenSSH form (ssh-ed25519, ssh-rsa, ssh-dss, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384, ecdsa-sha2-nistp521 then its base64 blob)',
    ]);
  });

  it.each([
    ['TCP_TUNNEL_GATEWAY_HOST', 'https://gateway:22', 'tcp_tunnel.gateway_host (environment TCP_TUNNEL_GATEWAY_HOST): expected a host name or IP address'],
    ['TCP_TUNNEL_GATEWAY_PORT', '70000', 'tcp_tunnel.gateway_port (environment TCP_TUNNEL_GATEWAY_PORT): expected at most 65535'],
    ['TCP_TUNNEL_CIPHERS', 'aes128-cbc', 'tcp_tunnel.ciphers (environment TCP_TUNNEL_CIPHERS): [0]: expected a comma-separated list of'],
    ['TCP_TUNNEL_BASTION_IMAGE', 'two words', 'tcp_tunnel.bastion_image (environment TCP_TUNNEL_BASTION_IMAGE): expected an image reference'],
  ])('refuses a bad %s, naming the key', (name, value, message) => {
    expect(problemsOf({ [name]: value })[0]).toContain(message);
  });

  it('accepts junk in the key material while the tunnel is disabled (the reference kept it as opaque text)', () => {
    const config = loadConfig({ TCP_TUNNEL_GATEWAY_SSH_PRIVATE_KEY: 'bm90LWEtcmVhbC1rZXk=', TCP_TUNNEL_POD_KEY_SECRET: 'short' }, noFiles);
    expect(config.tcpTunnel.gatewaySshPrivateKey).toBe('bm90LWEtcmVhbC1rZXk=');
    expect(config.provider.translate.tunnel).toBeUndefined();
  });

  it('warns, with the tunnel enabled, that the bastion namespace and chart path are ignored', () => {
    const config = loadConfig(
      {
        ...enabled,
        TCP_TUNNEL_GATEWAY_SSH_PRIVATE_KEY: base64(sharedKey),
        TCP_TUNNEL_BASTION_NAMESPACE: 'tcp-tunnel',
        TCP_TUNNEL_BASTION_CHART_PATH: 'infr/charts/tcp-tunnel/charts/bastion',
      },
      noFiles,
    );
    expect(config.warnings).toEqual([
      'tcp_tunnel.bastion_namespace (environment TCP_TUNNEL_BASTION_NAMESPACE): ignored; the bastion now runs as a sidecar in each offloaded pod, not from a chart in a namespace of its own',
      'tcp_tunnel.bastion_chart_path (environment TCP_TUNNEL_BASTION_CHART_PATH): ignored; the bastion now runs as a sidecar in each offloaded pod, not from a chart in a namespace of its own',
    ]);
  });

  it('returns a deeply frozen configuration with the secret inside', () => {
    const config = loadConfig({ ...enabled, TCP_TUNNEL_POD_KEY_SECRET: podKeySecret.toString('base64') }, noFiles);
    expect(Object.isFrozen(config.provider.translate.tunnel)).toBe(true);
    expect(Object.isFrozen(config.provider.translate.tunnel?.bastionKey)).toBe(true);
  });
});

describe('loadConfig with read access to the local cluster', () => {
  it('never reads the local cluster by default', () => {
    expect(loadConfig({}, noFiles).provider.local).toBeUndefined();
  });

  it.each([
    ['a kubeconfig file', { LOCAL_KUBECONFIG_PATH: '/etc/interlink/local.kubeconfig' }, { kind: 'file', path: '/etc/interlink/local.kubeconfig' }],
    ['the pod’s ServiceAccount', { LOCAL_IN_CLUSTER: 'true' }, { kind: 'in-cluster' }],
    ['neither (in_cluster false)', { LOCAL_IN_CLUSTER: 'false' }, undefined],
  ])('reads it with %s', (_what, env, expected) => {
    const config = loadConfig(env, noFiles);
    expect(config.provider.local).toEqual(expected);
    expect(config.warnings).toEqual([]);
  });

  it('takes the keys from the ini file, the environment winning', () => {
    const read = files({ 'private/config.ini': '[local]\nkubeconfig_path = /from/file\nin_cluster = true\n' });
    expect(loadConfig({ LOCAL_KUBECONFIG_PATH: '/from/env' }, read).provider.local).toEqual({ kind: 'file', path: '/from/env' });
    // An empty value means unset: the file's in_cluster then applies.
    expect(loadConfig({ LOCAL_KUBECONFIG_PATH: '' }, read).provider.local).toEqual({ kind: 'in-cluster' });
  });

  it('prefers the file over in_cluster, with a warning', () => {
    const config = loadConfig({ LOCAL_KUBECONFIG_PATH: '/k', LOCAL_IN_CLUSTER: 'yes' }, noFiles);
    expect(config.provider.local).toEqual({ kind: 'file', path: '/k' });
    expect(config.warnings).toEqual(['local.kubeconfig_path and local.in_cluster are both set; the local kubeconfig file is used']);
  });

  it('warns that a disabled sweep never reads the local cluster', () => {
    const config = loadConfig({ LOCAL_IN_CLUSTER: 'true', OFFLOADING_SWEEP_INTERVAL_SECONDS: '0' }, noFiles);
    expect(config.warnings).toEqual([
      'offloading.sweep_interval_seconds (environment OFFLOADING_SWEEP_INTERVAL_SECONDS): the sweep is disabled, so the local cluster is never read and remote pods whose local pod is gone stay',
    ]);
  });

  it('names the key and its source for a bad in_cluster', () => {
    expect(problemsOf({ LOCAL_IN_CLUSTER: 'maybe' })).toEqual([
      'local.in_cluster (environment LOCAL_IN_CLUSTER): expected true or false (also accepted: yes/no, on/off, 1/0)',
    ]);
  });
});

describe('configKeys', () => {
  const table: { key: string; spec: ConfigKey }[] = configKeys.map((spec) => ({ key: spec.key, spec }));
  it.each(table)('has a default for $key that parses', ({ spec }) => {
    expect(spec.schema.safeParse(spec.default).success).toBe(true);
    expect(spec.description.length).toBeGreaterThan(10);
  });
});

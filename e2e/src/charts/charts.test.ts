import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { configKeys, loadConfig, type ConfigKeyName, type ServerConfig } from '@interlink-k8s/server';
import { testKubeconfigPath } from '../harness/index.js';
import {
  CHARTS_DIR,
  Helm,
  Kubectl,
  ciFiles,
  ciPath,
  createRestrictedNamespace,
  helmBinary,
  installServiceMonitorCrd,
  kubectlBinary,
  objectOf,
  runTool,
  runToolOk,
  type KubeObject,
  type RenderOptions,
} from './chart-tools.js';
import { containerView, type ContainerJson, type DeploymentJson, type ExternalData } from './container-view.js';
import { eventually, startInProcessPlugin } from '../plugin/in-process-plugin.js';

// The Helm charts of charts/, checked the way a user meets them: `helm lint
// --strict`, `helm template` with each values file kept in charts/*/ci/,
// every rendered object sent to the real kube-apiserver of the e2e control
// plane as a server-side dry run (strict field validation, admission, Pod
// Security "restricted"), and the rendered configuration read back by the
// plugin's own configuration loader.

const PLUGIN = 'interlink-kubernetes-plugin';
const RBAC = 'remote-rbac';
const GATEWAY = 'tcp-tunnel-gateway';
const CHARTS = [PLUGIN, RBAC, GATEWAY];
const RELEASE = 'e2e';
const FULLNAME = `${RELEASE}-${PLUGIN}`;


let helm: Helm;
let kubectl: Kubectl;
/** Where dry runs go: a namespace enforcing Pod Security "restricted". */
let namespace: string;
/** Where plugin pods are dry-run: the same, plus the chart's ServiceAccount, which pod admission looks up. */
let podNamespace: string;
let workDir: string;

beforeAll(async () => {
  // Builds helm and kubectl on first use (minutes, once); no-ops afterwards.
  helm = new Helm(helmBinary());
  kubectl = new Kubectl(kubectlBinary(), testKubeconfigPath());
  workDir = await mkdtemp(join(tmpdir(), 'interlink-k8s-charts-'));
  const suffix = randomBytes(3).toString('hex');
  namespace = `charts-${suffix}`;
  podNamespace = `charts-pods-${suffix}`;
  for (const ns of [namespace, podNamespace]) await createRestrictedNamespace(kubectl, ns);
  await kubectl.run(['create', 'serviceaccount', FULLNAME, '--namespace', podNamespace]);
  // The chart's ServiceMonitor is checked against prometheus-operator's real CRD.
  await installServiceMonitorCrd(kubectl);
}, 600_000);

afterAll(async () => {
  await kubectl.tryRun(['delete', 'namespace', namespace, podNamespace, '--wait=false']);
  await rm(workDir, { recursive: true, force: true });
});

async function render(chart: string, options: RenderOptions = {}): Promise<KubeObject[]> {
  return kubectl.objects(await helm.template(chart, { release: RELEASE, namespace, ...options }));
}

const renderPlugin = (valuesFile?: string, setJson?: RenderOptions['setJson']): Promise<KubeObject[]> =>
  render(PLUGIN, { valuesFiles: valuesFile === undefined ? [] : [ciPath(PLUGIN, valuesFile)], setJson });

const kinds = (objects: readonly KubeObject[]): string[] => objects.map((o) => o.kind).sort();
const deploymentOf = (objects: readonly KubeObject[]): DeploymentJson => objectOf(objects, 'Deployment') as DeploymentJson;

function containerOf(objects: readonly KubeObject[], name = 'plugin'): ContainerJson {
  const container = deploymentOf(objects).spec.template.spec.containers.find((c) => c.name === name);
  if (container === undefined) throw new Error(`no container ${name}`);
  return container;
}

/** The gateway host keys as the plugin pins them: each key's type and blob, one per line, comments dropped. */
const pinned = (publicKeys: string): string =>
  `${publicKeys
    .trim()
    .split('\n')
    .map((line) => line.split(' ').slice(0, 2).join(' '))
    .join('\n')}\n`;

/** The plugin's configuration as its own loader reads it from what the chart gives the container. */
function pluginConfigOf(objects: readonly KubeObject[], external: ExternalData = {}): ServerConfig {
  const view = containerView(objects, 'plugin', external);
  return loadConfig(view.env, (path) => view.files.get(path));
}

// =====================================================================================
// helm lint, and every values file against the real API server
// =====================================================================================

const lintCases: [string, string | undefined][] = CHARTS.flatMap((chart) => [
  [chart, undefined] as [string, string | undefined],
  ...ciFiles(chart).map((file): [string, string] => [chart, file]),
]);

describe('helm lint --strict', () => {
  it.each(lintCases)('%s with %s values: no warning, no error', async (chart, file) => {
    const result = await helm.lint(chart, file === undefined ? undefined : ciPath(chart, file));
    expect(result).toMatchObject({ code: 0 });
    expect(result.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(result.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
  });
});

const ciCases: [string, string][] = CHARTS.flatMap((chart) => ciFiles(chart).map((file): [string, string] => [chart, file]));

/**
 * The documents of a rendered manifest grouped by the namespace their object
 * names (the release's for cluster-scoped ones): kubectl sends a file to one
 * namespace only, and the gateway chart puts Roles in the namespaces listed
 * in its values. `objects` are the manifest's objects, in document order.
 */
function documentsByNamespace(manifest: string, objects: readonly KubeObject[]): Map<string, string> {
  const documents = manifest.split(/^---\s*$/m).filter((doc) => doc.split('\n').some((line) => line.trim() !== '' && !line.trimStart().startsWith('#')));
  if (documents.length !== objects.length) throw new Error(`${documents.length} documents but ${objects.length} objects`);
  const groups = new Map<string, string[]>();
  documents.forEach((doc, i) => {
    const ns = objects[i]?.metadata.namespace ?? namespace;
    groups.set(ns, [...(groups.get(ns) ?? []), doc]);
  });
  return new Map([...groups].map(([ns, docs]) => [ns, docs.join('\n---\n')]));
}

describe('server-side dry run of every rendered object', () => {
  it('every chart keeps values files for its modes', () => {
    expect(ciFiles(PLUGIN)).toEqual([
      'config-override-values.yaml',
      'default-values.yaml',
      'existing-secrets-values.yaml',
      'inline-kubeconfig-values.yaml',
      'replicas-pdb-servicemonitor-values.yaml',
      'tcp-tunnel-values.yaml',
      'unix-socket-values.yaml',
    ]);
    expect(ciFiles(RBAC)).toEqual(['default-values.yaml', 'extra-subjects-values.yaml', 'long-lived-token-values.yaml']);
    expect(ciFiles(GATEWAY)).toEqual([
      'existing-secrets-values.yaml',
      'inline-keys-values.yaml',
      'loadbalancer-values.yaml',
      'namespaced-rbac-values.yaml',
      'networkpolicy-servicemonitor-values.yaml',
    ]);
  });

  it.each(ciCases)('%s with %s: the API server accepts every object, without a warning', async (chart, file) => {
    const manifest = await helm.template(chart, { release: RELEASE, namespace, valuesFiles: [ciPath(chart, file)] });
    const objects = await kubectl.objects(manifest);
    let stdout = '';
    for (const [ns, documents] of documentsByNamespace(manifest, objects)) {
      // Objects elsewhere than the release's namespace (the gateway's Roles) need theirs to exist.
      if (ns !== namespace && (await kubectl.tryRun(['get', 'namespace', ns])).code !== 0) await kubectl.run(['create', 'namespace', ns]);
      const result = await kubectl.dryRunApply(documents, ns);
      expect({ namespace: ns, code: result.code, stderr: result.stderr }).toEqual({ namespace: ns, code: 0, stderr: '' });
      stdout += result.stdout;
    }
    for (const o of objects) expect(stdout).toContain(`${o.metadata.name} created (server dry run)`);
  });

  it.each(ciFiles(PLUGIN))(
    '%s: the plugin pod itself is admitted under Pod Security "restricted" (enforced for pods)',
    async (file) => {
      const deployment = deploymentOf(await renderPlugin(file));
      // Admission enforces Pod Security on pods and only warns for workloads: submit the pod the Deployment would make.
      const pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'plugin-pod', namespace: podNamespace, labels: deployment.spec.template.metadata.labels },
        spec: deployment.spec.template.spec,
      };
      const result = await kubectl.tryRun(['create', '--dry-run=server', '--filename=-'], JSON.stringify(pod));
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    },
  );
});

// =====================================================================================
// the plugin chart's objects
// =====================================================================================

describe(`${PLUGIN}: defaults`, () => {
  let objects: KubeObject[];
  beforeAll(async () => {
    objects = await renderPlugin('default-values.yaml');
  });

  it('renders a ConfigMap, a Deployment, a Service, a ServiceAccount and its local read access; no Secret, PDB or ServiceMonitor', () => {
    expect(kinds(objects)).toEqual(['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'Service', 'ServiceAccount']);
    expect(deploymentOf(objects).spec.replicas).toBe(1);
  });

  it('runs `node --max-semi-space-size=4 dist/main.js` with config.ini from the ConfigMap', () => {
    const plugin = containerOf(objects);
    expect(plugin.command).toEqual(['node', '--max-semi-space-size=4', 'dist/main.js']);
    expect(plugin.image).toBe('interlink-k8s/interlink-kubernetes-plugin:0.1.0');
    const config = pluginConfigOf(objects, { [`Secret/${FULLNAME}-remote-kubeconfig`]: { kubeconfig: '{}' } });
    expect(config.configFile).toBe('/etc/interlink-k8s/config/config.ini');
    expect(config.warnings).toEqual([]);
  });

  it('listens on 0.0.0.0:4000 behind a Service whose port "http" reaches the container', () => {
    const config = pluginConfigOf(objects, { [`Secret/${FULLNAME}-remote-kubeconfig`]: { kubeconfig: '{}' } });
    expect(config.listen).toEqual({ kind: 'tcp', host: '0.0.0.0', port: 4000 });
    expect(containerOf(objects).ports).toEqual([{ name: 'http', containerPort: 4000, protocol: 'TCP' }]);
    const service = objectOf(objects, 'Service') as KubeObject & {
      spec: { selector: Record<string, string>; ports: { name: string; port: number; targetPort: string }[] };
    };
    expect(service.spec.ports).toEqual([expect.objectContaining({ name: 'http', port: 4000, targetPort: 'http' })]);
    expect(deploymentOf(objects).spec.template.metadata.labels).toMatchObject(service.spec.selector);
  });

  it('reads the remote kubeconfig from the mounted Secret <fullname>-remote-kubeconfig', () => {
    const view = containerView(objects, 'plugin', { [`Secret/${FULLNAME}-remote-kubeconfig`]: { kubeconfig: 'KUBECONFIG' } });
    const config = loadConfig(view.env, (path) => view.files.get(path));
    expect(config.provider.kubeconfig).toEqual({ kind: 'file', path: '/etc/interlink-k8s/remote/kubeconfig' });
    expect(view.files.get('/etc/interlink-k8s/remote/kubeconfig')).toBe('KUBECONFIG');
  });

  it('probes GET /healthz (liveness) and GET /readyz (readiness) on port "http"', () => {
    const plugin = containerOf(objects);
    expect(plugin.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(plugin.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
  });

  it('runs as 65532, non-root, read-only root filesystem, no capabilities, RuntimeDefault seccomp, the local API token for reading local pods', () => {
    const pod = deploymentOf(objects).spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } });
    expect(containerOf(objects).securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    // Mounted for `localAccess` (on by default): see "local read access" below.
    expect(pod.automountServiceAccountToken).toBe(true);
    expect(pod.serviceAccountName).toBe(FULLNAME);
  });

  it('carries Prometheus scrape annotations for /metrics on the container port', () => {
    expect(deploymentOf(objects).spec.template.metadata.annotations).toMatchObject({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '4000',
      'prometheus.io/path': '/metrics',
    });
  });

  it('sets resources, and a grace period above the plugin’s drain time', () => {
    const plugin = containerOf(objects);
    expect(plugin.resources).toEqual({ requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '512Mi' } });
    const config = pluginConfigOf(objects, { [`Secret/${FULLNAME}-remote-kubeconfig`]: { kubeconfig: '{}' } });
    const grace = deploymentOf(objects).spec.template.spec.terminationGracePeriodSeconds as number;
    expect(grace).toBeGreaterThan(config.shutdownTimeoutMs / 1000);
  });
});

describe(`${PLUGIN}: unix-socket mode`, () => {
  let objects: KubeObject[];
  beforeAll(async () => {
    objects = await renderPlugin('unix-socket-values.yaml');
  });

  it('renders no Service and no container port; the plugin listens on the socket', () => {
    expect(kinds(objects)).toEqual(['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'ServiceAccount']);
    expect(containerOf(objects).ports).toBeUndefined();
    const config = pluginConfigOf(objects, { [`Secret/${FULLNAME}-remote-kubeconfig`]: { kubeconfig: '{}' } });
    expect(config.listen).toEqual({ kind: 'unix', path: '/var/run/interlink/plugin.sock' });
  });

  it('shares the socket directory (an emptyDir) with InterLink’s container, which runs as the same user', () => {
    const pod = deploymentOf(objects).spec.template.spec;
    expect(pod.volumes).toContainEqual({ name: 'plugin-socket', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } });
    for (const name of ['plugin', 'interlink']) {
      expect(containerOf(objects, name).volumeMounts).toContainEqual({ name: 'plugin-socket', mountPath: '/var/run/interlink' });
    }
    // The socket is created with mode 0600: InterLink must run as the plugin's user; the pod-level user applies to it.
    expect(pod.securityContext).toMatchObject({ runAsUser: 65532 });
    expect(containerOf(objects, 'interlink').securityContext?.runAsUser).toBeUndefined();
  });

  it('has no scrape annotations (Prometheus cannot scrape a unix socket)', () => {
    expect(Object.keys(deploymentOf(objects).spec.template.metadata.annotations ?? {})).not.toContain('prometheus.io/scrape');
  });

  it('probes with node over the socket: the rendered commands pass against a real plugin and fail once it is gone', async () => {
    const dir = await mkdtemp(join(workDir, 'socket-'));
    const socketPath = join(dir, 'plugin.sock');
    const rendered = await renderPlugin('unix-socket-values.yaml', { 'listen.socketPath': socketPath });
    const plugin = containerOf(rendered);
    const liveness = plugin.livenessProbe?.exec?.command ?? [];
    const readiness = plugin.readinessProbe?.exec?.command ?? [];
    expect(liveness.slice(0, 2)).toEqual(['node', '-e']);
    expect(liveness.slice(-2)).toEqual([socketPath, '/healthz']);
    expect(readiness.slice(-2)).toEqual([socketPath, '/readyz']);
    // The image's `node` is this Node (24): run the probes as the kubelet would.
    const probe = async (command: string[]): Promise<number> => (await runTool(process.execPath, command.slice(1))).code;

    expect(await probe(liveness)).toBe(1);
    const running = await startInProcessPlugin({ APP_SOCKET_ADDRESS: `unix://${socketPath}`, K8S_KUBECONFIG_PATH: testKubeconfigPath() });
    try {
      expect(await probe(liveness)).toBe(0);
      await eventually('readiness probe passes', async () => ((await probe(readiness)) === 0 ? true : undefined));
    } finally {
      await running.close();
    }
    expect(await probe(liveness)).toBe(1);
    expect(await probe(readiness)).toBe(1);
  }, 60_000);
});

describe(`${PLUGIN}: three replicas`, () => {
  let objects: KubeObject[];
  beforeAll(async () => {
    objects = await renderPlugin('replicas-pdb-servicemonitor-values.yaml');
  });

  it('runs 3 replicas with a PodDisruptionBudget over the same pods that lets unready pods be evicted', () => {
    const deployment = deploymentOf(objects);
    expect(deployment.spec.replicas).toBe(3);
    const pdb = objectOf(objects, 'PodDisruptionBudget') as KubeObject & { spec: Record<string, unknown> };
    expect(pdb.spec).toEqual({
      maxUnavailable: 1,
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
      selector: { matchLabels: deployment.spec.selector.matchLabels },
    });
  });

  it('renders a ServiceMonitor that selects the Service and scrapes its port "http" at /metrics', () => {
    const monitor = objectOf(objects, 'ServiceMonitor') as KubeObject & {
      spec: { selector: { matchLabels: Record<string, string> }; namespaceSelector: unknown; endpoints: Record<string, unknown>[] };
    };
    const service = objectOf(objects, 'Service') as KubeObject & { spec: { ports: { name: string }[] } };
    expect(service.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
    expect(monitor.spec.namespaceSelector).toEqual({ matchNames: [namespace] });
    expect(monitor.spec.endpoints).toEqual([{ port: 'http', path: '/metrics', interval: '15s', scrapeTimeout: '5s' }]);
    expect(service.spec.ports.map((p) => p.name)).toContain('http');
    expect(monitor.metadata.labels).toMatchObject({ release: 'prometheus' });
  });

  it('renders no PodDisruptionBudget for a single replica', async () => {
    const single = await renderPlugin('replicas-pdb-servicemonitor-values.yaml', { replicas: 1 });
    expect(kinds(single)).not.toContain('PodDisruptionBudget');
  });
});

describe(`${PLUGIN}: credentials`, () => {
  const inlineValues = readFileSync(ciPath(PLUGIN, 'inline-kubeconfig-values.yaml'), 'utf8');
  /** The pod-key secret of inline-kubeconfig-values.yaml. */
  const INLINE_POD_KEY_SECRET = 'bm90LWEtcmVhbC1wb2Qta2V5LXNlY3JldCwgMzIrIGJ5dGVz';

  it('an inline kubeconfig goes to a Secret, mounted where k8s.kubeconfig_path points, loadable by the Kubernetes client', async () => {
    const objects = await renderPlugin('inline-kubeconfig-values.yaml');
    const secrets = objects.filter((o) => o.kind === 'Secret').map((o) => o.metadata.name);
    expect(secrets.sort()).toEqual([`${FULLNAME}-pod-key`, `${FULLNAME}-remote-kubeconfig`, `${FULLNAME}-tcp-tunnel`]);
    const view = containerView(objects, 'plugin');
    const config = loadConfig(view.env, (path) => view.files.get(path));
    if (config.provider.kubeconfig.kind !== 'file') throw new Error('expected a kubeconfig file');
    const kc = new KubeConfig();
    kc.loadFromString(view.files.get(config.provider.kubeconfig.path) ?? '');
    expect(kc.getCurrentCluster()?.server).toBe('https://remote.example:6443');
    expect(kc.getCurrentUser()?.token).toBe('not-a-real-token');
    expect(config.tcpTunnel.gatewaySshPrivateKey).toBe('bm90LWEtcmVhbC1rZXk=');
    expect(config.tcpTunnel.podKeySecret).toBe(INLINE_POD_KEY_SECRET);
  });

  it('no credential reaches the ConfigMap', async () => {
    const objects = await renderPlugin('inline-kubeconfig-values.yaml');
    const configMap = JSON.stringify(objectOf(objects, 'ConfigMap'));
    for (const secret of ['not-a-real-token', 'bm90LWEtcmVhbC1rZXk=', INLINE_POD_KEY_SECRET]) {
      expect(inlineValues).toContain(secret);
      expect(configMap).not.toContain(secret);
    }
  });

  it('a changed Secret changes the pod template (checksum annotation), so the pods restart with it', async () => {
    const before = deploymentOf(await renderPlugin('inline-kubeconfig-values.yaml'));
    const after = deploymentOf(await renderPlugin('inline-kubeconfig-values.yaml', { 'tcpTunnel.sshPrivateKey.value': 'b3RoZXI=' }));
    const podKeyChanged = deploymentOf(
      await renderPlugin('inline-kubeconfig-values.yaml', { 'tcpTunnel.podKeySecret.value': randomBytes(32).toString('base64') }),
    );
    const checksum = (d: DeploymentJson): string | undefined => d.spec.template.metadata.annotations?.['checksum/secret'];
    expect(checksum(after)).not.toBe(checksum(before));
    expect(checksum(podKeyChanged)).not.toBe(checksum(before));
    expect(before.spec.template.metadata.annotations?.['checksum/config']).toBe(after.spec.template.metadata.annotations?.['checksum/config']);
  });

  it('existing Secrets: referenced by name and key, nothing rendered for them; extraEnv overrides config.ini', async () => {
    const objects = await renderPlugin('existing-secrets-values.yaml');
    expect(kinds(objects)).not.toContain('Secret');
    const view = containerView(objects, 'plugin', {
      'Secret/remote-cluster': { 'plugin.kubeconfig': 'KUBECONFIG' },
      'Secret/tunnel-keys': { bastion: 'a2V5' },
      'ConfigMap/site-settings': { 'node-selector': '{"site":"a"}' },
    });
    const config = loadConfig(view.env, (path) => view.files.get(path));
    expect(view.files.get('/etc/interlink-k8s/remote/kubeconfig')).toBe('KUBECONFIG');
    expect(config.tcpTunnel.gatewaySshPrivateKey).toBe('a2V5');
    expect(config.log.level).toBe('debug');
    expect(config.provider.translate.nodeSelector).toEqual({ site: 'a' });
  });
});

describe(`${PLUGIN}: configuration`, () => {
  const external: ExternalData = { [`Secret/${FULLNAME}-remote-kubeconfig`]: { kubeconfig: '{}' } };

  it('config-override-values.yaml: the plugin reads every overridden key as written in values', async () => {
    const objects = await renderPlugin('config-override-values.yaml');
    const config = pluginConfigOf(objects, external);
    expect(config.warnings).toEqual([]);
    expect(config.listen).toEqual({ kind: 'tcp', host: '0.0.0.0', port: 4100 });
    expect(config).toMatchObject({
      shutdownTimeoutMs: 40_000,
      metricsEnabled: false,
      bodyLimitBytes: 128 * 1024 * 1024,
      log: { level: 'warn', requestsEnabled: true },
    });
    expect(config.provider).toMatchObject({
      fieldManager: 'interlink-k8s-site-a',
      clientOverrides: { server: 'https://remote.example:6443', insecureSkipTlsVerify: false },
      sweepIntervalMs: 600_000,
      translate: {
        namespacePrefix: '',
        namespacePrefixExclusions: ['kube-system', 'monitoring'],
        nodeSelector: { pool: 'batch', 'example.com/share': '50%' },
        tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'interlink', effect: 'NoSchedule' }],
      },
    });
    // With metrics off there is nothing to scrape.
    expect(Object.keys(deploymentOf(objects).spec.template.metadata.annotations ?? {})).not.toContain('prometheus.io/scrape');
  });

  /** One key of the plugin's key table: the text an environment variable would carry, and the values that set it. */
  interface KeySample {
    text: string;
    values: Record<string, unknown>;
  }
  const config = (section: string, key: string, value: unknown): Record<string, unknown> => ({ config: { [section]: { [key]: value } } });
  const INLINE_KUBECONFIG = JSON.stringify({ apiVersion: 'v1', kind: 'Config', clusters: [], users: [], contexts: [] });

  /** Tunnel key material as ssh-keygen and openssl make it: the plugin checks it when the tunnel is enabled. */
  interface TunnelKeys {
    /** Two gateway host public keys (the current one and the next, for a rotation), as in their host.pub files. */
    hostPublicKeys: string;
    /** A bastion private key: the OpenSSH text, and its base64 as the reference plugin took it. */
    bastionPrivateKey: string;
    bastionPrivateKeyBase64: string;
    /** Base64 of 32 random bytes (`openssl rand -base64 32`). */
    podKeySecret: string;
  }
  let keys: TunnelKeys;
  beforeAll(async () => {
    const dir = await mkdtemp(join(workDir, 'tunnel-keys-'));
    for (const name of ['host', 'host-next', 'bastion']) {
      await runToolOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `e2e-${name}`, '-f', join(dir, name)]);
    }
    const read = (file: string): Promise<string> => readFile(join(dir, file), 'utf8');
    const bastionPrivateKey = await read('bastion');
    keys = {
      hostPublicKeys: `${(await read('host.pub')).trim()}\n${(await read('host-next.pub')).trim()}`,
      bastionPrivateKey,
      bastionPrivateKeyBase64: Buffer.from(bastionPrivateKey).toString('base64'),
      podKeySecret: randomBytes(32).toString('base64'),
    };
  });
  // A Record over ConfigKeyName: a key added to the plugin without a row here does not compile.
  const everyKey = (keys: TunnelKeys): Record<ConfigKeyName, KeySample> => ({
    'app.socket_address': { text: 'http://0.0.0.0', values: { listen: { mode: 'tcp' } } },
    'app.socket_port': { text: '4100', values: { listen: { port: 4100 } } },
    'app.api_docs_path': { text: '/api-docs', values: config('app', 'api_docs_path', '/api-docs') },
    'app.shutdown_timeout_seconds': { text: '20', values: config('app', 'shutdown_timeout_seconds', 20) },
    'app.metrics_enabled': { text: 'false', values: config('app', 'metrics_enabled', false) },
    'app.max_body_mib': { text: '32', values: config('app', 'max_body_mib', 32) },
    'log.level': { text: 'CRITICAL', values: config('log', 'level', 'CRITICAL') },
    'log.requests_enabled': { text: 'true', values: config('log', 'requests_enabled', true) },
    'k8s.kubeconfig_path': {
      text: '/custom/kubeconfig',
      values: { ...config('k8s', 'kubeconfig_path', '/custom/kubeconfig'), remoteKubeconfig: { enabled: false } },
    },
    'k8s.kubeconfig': {
      text: INLINE_KUBECONFIG,
      values: { extraEnv: [{ name: 'K8S_KUBECONFIG', valueFrom: { secretKeyRef: { name: 'inline', key: 'kubeconfig.json' } } }] },
    },
    'k8s.client_configuration': {
      text: '{"verify_ssl":false,"ssl_ca_cert":"/etc/remote/ca.pem","host":"https://remote.example:6443","proxy":"http://proxy:3128"}',
      values: config('k8s', 'client_configuration', {
        verify_ssl: false,
        ssl_ca_cert: '/etc/remote/ca.pem',
        host: 'https://remote.example:6443',
        proxy: 'http://proxy:3128',
      }),
    },
    'k8s.field_manager': { text: 'site-100%', values: config('k8s', 'field_manager', 'site-100%') },
    // Both set, the file wins (the plugin warns when both come from the environment; the chart sets in_cluster only without the file).
    'local.kubeconfig_path': { text: '/etc/local/kubeconfig', values: config('local', 'kubeconfig_path', '/etc/local/kubeconfig') },
    'local.in_cluster': { text: 'true', values: { localAccess: { enabled: true } } },
    'offloading.namespace_prefix': { text: '', values: config('offloading', 'namespace_prefix', '') },
    'offloading.namespace_prefix_exclusions': {
      text: '["kube-system","default"]',
      values: config('offloading', 'namespace_prefix_exclusions', ['kube-system', 'default']),
    },
    'offloading.node_selector': {
      text: '{"pool":"batch","example.com/zone":"a b"}',
      values: config('offloading', 'node_selector', { pool: 'batch', 'example.com/zone': 'a b' }),
    },
    'offloading.node_tolerations': {
      text: '[{"key":"k","operator":"Equal","value":"v","effect":"NoExecute","tolerationSeconds":3600}]',
      values: config('offloading', 'node_tolerations', [{ key: 'k', operator: 'Equal', value: 'v', effect: 'NoExecute', tolerationSeconds: 3600 }]),
    },
    'offloading.sweep_interval_seconds': { text: '86400', values: config('offloading', 'sweep_interval_seconds', 86400) },
    'tcp_tunnel.enabled': { text: 'true', values: config('tcp_tunnel', 'enabled', true) },
    'tcp_tunnel.gateway_host': { text: 'gateway.example', values: config('tcp_tunnel', 'gateway_host', 'gateway.example') },
    'tcp_tunnel.gateway_port': { text: '30222', values: config('tcp_tunnel', 'gateway_port', 30222) },
    // Public: in the ConfigMap, on continuation lines of config.ini.
    'tcp_tunnel.gateway_host_public_key': {
      text: keys.hostPublicKeys,
      values: config('tcp_tunnel', 'gateway_host_public_key', keys.hostPublicKeys),
    },
    'tcp_tunnel.pod_key_secret': { text: keys.podKeySecret, values: { tcpTunnel: { podKeySecret: { value: keys.podKeySecret } } } },
    'tcp_tunnel.gateway_ssh_private_key': {
      text: keys.bastionPrivateKeyBase64,
      values: { tcpTunnel: { sshPrivateKey: { value: keys.bastionPrivateKeyBase64 } } },
    },
    'tcp_tunnel.bastion_image': {
      text: 'registry.example:5000/tunnel/bastion:1.2.3',
      values: config('tcp_tunnel', 'bastion_image', 'registry.example:5000/tunnel/bastion:1.2.3'),
    },
    'tcp_tunnel.ciphers': {
      text: 'aes256-gcm@openssh.com, chacha20-poly1305@openssh.com',
      values: config('tcp_tunnel', 'ciphers', 'aes256-gcm@openssh.com, chacha20-poly1305@openssh.com'),
    },
    'tcp_tunnel.bastion_namespace': { text: 'bastions', values: config('tcp_tunnel', 'bastion_namespace', 'bastions') },
    'tcp_tunnel.bastion_chart_path': { text: '/charts/bastion', values: config('tcp_tunnel', 'bastion_chart_path', '/charts/bastion') },
    'mesh.init_container': { text: 'false', values: config('mesh', 'init_container', false) },
    'mesh.startup_probe': { text: 'false', values: config('mesh', 'startup_probe', false) },
    'mesh.slurm_setup_script': { text: 'true', values: config('mesh', 'slurm_setup_script', true) },
  });

  function merge(into: Record<string, unknown>, from: Record<string, unknown>): Record<string, unknown> {
    for (const [key, value] of Object.entries(from)) {
      const have = into[key];
      if (Array.isArray(have) && Array.isArray(value)) into[key] = [...(have as unknown[]), ...(value as unknown[])];
      else if (isObject(have) && isObject(value)) into[key] = merge({ ...have }, value);
      else into[key] = value;
    }
    return into;
  }
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

  it('every key of the plugin’s key table can be set from values, and the plugin reads the same configuration as from environment variables', async () => {
    const EVERY_KEY = everyKey(keys);
    const values = Object.values(EVERY_KEY).reduce((acc, sample) => merge(acc, sample.values), {});
    // The grace period must exceed the drain time set above.
    merge(values, { terminationGracePeriodSeconds: 30 });
    const valuesFile = join(workDir, 'every-key-values.json');
    await writeFile(valuesFile, JSON.stringify(values));
    const objects = await kubectl.objects(await helm.template(PLUGIN, { release: RELEASE, namespace, valuesFiles: [valuesFile] }));
    const fromChart = pluginConfigOf(objects, { 'Secret/inline': { 'kubeconfig.json': INLINE_KUBECONFIG } });

    const env = Object.fromEntries(configKeys.map((k) => [k.env, EVERY_KEY[k.key].text]));
    const direct = loadConfig(env, () => undefined);
    const comparable = (c: ServerConfig) => ({ ...c, configFile: undefined, warnings: undefined });
    expect(comparable(fromChart)).toEqual(comparable(direct));
    expect(fromChart.warnings.filter((w) => w.includes('unknown key'))).toEqual([]);
    // The tunnel is on, its key material accepted: per-pod keys from the pod-key secret, which wins over the shared key.
    expect(fromChart.provider.translate.tunnel).toEqual({
      gatewayHost: 'gateway.example',
      gatewayPort: 30222,
      gatewayHostKeys: pinned(keys.hostPublicKeys),
      bastionKey: { kind: 'per-pod', secret: Buffer.from(keys.podKeySecret, 'base64') },
      image: 'registry.example:5000/tunnel/bastion:1.2.3',
      ciphers: 'aes256-gcm@openssh.com,chacha20-poly1305@openssh.com',
    });
    expect(fromChart.warnings).toContainEqual(expect.stringMatching(/tcp_tunnel\.gateway_ssh_private_key.*unused; tcp_tunnel\.pod_key_secret is set/));
    // Secrets stay out of the ConfigMap; the public host keys are in it.
    const configMap = JSON.stringify(objectOf(objects, 'ConfigMap'));
    expect(configMap).not.toContain(keys.podKeySecret);
    expect(configMap).not.toContain(keys.bastionPrivateKeyBase64);
    for (const line of keys.hostPublicKeys.split('\n')) expect(configMap).toContain(line);
    // Every key the chart's schema knows is in the key table and the other way round.
    const schema = JSON.parse(readFileSync(join(CHARTS_DIR, PLUGIN, 'values.schema.json'), 'utf8')) as {
      properties: { config: { properties: Record<string, { properties: Record<string, unknown> }> } };
    };
    const schemaKeys = Object.entries(schema.properties.config.properties).flatMap(([section, s]) =>
      Object.keys(s.properties).map((key) => `${section}.${key}`),
    );
    expect(schemaKeys.sort()).toEqual(configKeys.map((k) => k.key).sort());
  });

  const tunnelOn = (): Record<string, unknown> => ({
    'config.tcp_tunnel': { enabled: true, gateway_host: 'gateway.example', gateway_host_public_key: keys.hostPublicKeys },
  });

  it('the tunnel with the shared bastion key only: the plugin reads the ssh-keygen private key from the chart’s Secret', async () => {
    const objects = await renderPlugin(undefined, { ...tunnelOn(), 'tcpTunnel.sshPrivateKey.value': keys.bastionPrivateKeyBase64 });
    const config = pluginConfigOf(objects, external);
    expect(config.provider.translate.tunnel).toMatchObject({
      gatewayPort: 2222,
      gatewayHostKeys: pinned(keys.hostPublicKeys),
      bastionKey: { kind: 'shared', privateKey: keys.bastionPrivateKey },
    });
    expect(config.warnings).toEqual([]);
  });

  it('the tunnel with placeholder key material: the plugin refuses to start, naming the key and not quoting it', async () => {
    const objects = await renderPlugin(undefined, { ...tunnelOn(), 'tcpTunnel.sshPrivateKey.value': 'c2VjcmV0LWtleQ==' });
    expect(() => pluginConfigOf(objects, external)).toThrow(/tcp_tunnel\.gateway_ssh_private_key.*: expected an OpenSSH or PEM/);
    expect(() => pluginConfigOf(objects, external)).not.toThrow(/c2VjcmV0LWtleQ==|secret-key/);
    const shortSecret = await renderPlugin(undefined, { ...tunnelOn(), 'tcpTunnel.podKeySecret.existingSecret': 'short' });
    expect(() => pluginConfigOf(shortSecret, { ...external, 'Secret/short': { 'pod-key-secret': 'c2hvcnQ=' } })).toThrow(
      /tcp_tunnel\.pod_key_secret.*: expected base64 of at least 32 bytes/,
    );
  });
});

describe(`${PLUGIN}: the TCP tunnel, paired with ${GATEWAY}`, () => {
  it('tcp-tunnel-values.yaml and the gateway’s namespaced-rbac-values.yaml: one pod-key Secret, the gateway’s host.pub and node port, accepted by the plugin', async () => {
    const dir = await mkdtemp(join(workDir, 'pairing-'));
    await runToolOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'gateway-host', '-f', join(dir, 'host')]);
    const hostPub = await readFile(join(dir, 'host.pub'), 'utf8');
    const podKeySecret = randomBytes(32).toString('base64');
    // Secrets made once for both charts (the gateway's README), in the release's namespace.
    const external: ExternalData = {
      'Secret/tunnel-pod-key': { 'pod-key-secret': podKeySecret },
      'Secret/tunnel-gateway-host-key': { 'host-key': await readFile(join(dir, 'host'), 'utf8') },
      [`Secret/${FULLNAME}-remote-kubeconfig`]: { kubeconfig: '{}' },
      'Pod/self': { 'status.podIP': '10.1.2.3' },
    };
    const gateway = await render(GATEWAY, { valuesFiles: [ciPath(GATEWAY, 'namespaced-rbac-values.yaml')] });
    // The host public key as `--set-file config.tcp_tunnel.gateway_host_public_key=host.pub` gives it: newline included.
    const hostKeyValues = join(dir, 'host-key-values.json');
    await writeFile(hostKeyValues, JSON.stringify({ config: { tcp_tunnel: { gateway_host_public_key: hostPub } } }));
    const plugin = await render(PLUGIN, { valuesFiles: [ciPath(PLUGIN, 'tcp-tunnel-values.yaml'), hostKeyValues] });

    // One Secret, one key: the plugin's variable holds what the gateway reads from its file.
    const gatewayView = containerView(gateway, 'gateway', external);
    const pluginView = containerView(plugin, 'plugin', external);
    expect(gatewayView.files.get(gatewayView.env.TUNNEL_GATEWAY_POD_KEY_SECRET ?? '')).toBe(podKeySecret);
    expect(pluginView.env.TCP_TUNNEL_POD_KEY_SECRET).toBe(podKeySecret);

    const service = gateway.find((o) => o.kind === 'Service' && o.metadata.name === `${RELEASE}-${GATEWAY}`) as
      | (KubeObject & { spec: { ports: { name: string; nodePort?: number }[] } })
      | undefined;
    const nodePort = service?.spec.ports.find((p) => p.name === 'ssh')?.nodePort;
    expect(nodePort).toBe(30222);

    const config = loadConfig(pluginView.env, (path) => pluginView.files.get(path));
    expect(config.warnings).toEqual([]);
    expect(config.provider.translate.tunnel).toEqual({
      gatewayHost: '203.0.113.10',
      gatewayPort: nodePort,
      gatewayHostKeys: pinned(hostPub),
      bastionKey: { kind: 'per-pod', secret: Buffer.from(podKeySecret, 'base64') },
      image: expect.stringMatching(/^ghcr\.io\/interlink-k8s\/tcp-tunnel:\d+\.\d+\.\d+/),
      ciphers: 'aes128-gcm@openssh.com,chacha20-poly1305@openssh.com',
    });
    // What the plugin pins is the public half of the host key the gateway reads.
    const mounted = join(dir, 'mounted-host-key');
    await writeFile(mounted, gatewayView.files.get(gatewayView.env.TUNNEL_GATEWAY_HOST_KEY ?? '') ?? '', { mode: 0o600 });
    expect(pinned(await runToolOk('ssh-keygen', ['-y', '-f', mounted]))).toBe(config.provider.translate.tunnel?.gatewayHostKeys);
  });
});

// =====================================================================================
// values the charts refuse, with a message naming what to fix
// =====================================================================================

describe(`${PLUGIN}: local read access (deleting remote pods whose local pod is gone)`, () => {
  const external: ExternalData = { [`Secret/${FULLNAME}-remote-kubeconfig`]: { kubeconfig: '{}' } };
  interface RuleJson {
    apiGroups: string[];
    resources: string[];
    verbs: string[];
  }

  it('by default: get on pods only, bound cluster-wide to the plugin’s ServiceAccount, whose token the pod mounts; local.in_cluster', async () => {
    const objects = await renderPlugin();
    const name = `${namespace}-${FULLNAME}-local-pods`;
    const role = objectOf(objects, 'ClusterRole', name) as KubeObject & { rules: RuleJson[] };
    expect(role.rules).toEqual([{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }]);
    const binding = objectOf(objects, 'ClusterRoleBinding', name) as KubeObject & {
      roleRef: Record<string, string>;
      subjects: Record<string, string>[];
    };
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: FULLNAME, namespace }]);
    expect(deploymentOf(objects).spec.template.spec.automountServiceAccountToken).toBe(true);
    const config = pluginConfigOf(objects, external);
    expect(config.provider.local).toEqual({ kind: 'in-cluster' });
    expect(config.warnings).toEqual([]);
  });

  it('the ClusterRole lets the ServiceAccount get local pods and nothing else', async () => {
    const objects = await renderPlugin();
    const rbac = objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding');
    const manifest = rbac.map((o) => JSON.stringify(o)).join('\n');
    await kubectl.run(['apply', '--filename=-'], manifest);
    try {
      const account = `system:serviceaccount:${namespace}:${FULLNAME}`;
      // `pods/log` is the subresource (kubectl reads `a/b` as resource a, name b).
      const canI = async (verb: string, resource: string, where: string[]): Promise<string> => {
        const [type = '', subresource] = resource.split('/');
        const sub = subresource === undefined ? [] : [`--subresource=${subresource}`];
        const result = await kubectl.tryRun(['auth', 'can-i', verb, type, ...sub, `--as=${account}`, ...where]);
        return result.stdout.trim();
      };
      // RBAC reaches the authorizer through its informers: wait for the grant to show.
      await eventually('the binding in force', async () => ((await canI('get', 'pods', ['--all-namespaces'])) === 'yes' ? true : undefined));
      expect(await canI('get', 'pods', ['--namespace', 'any-namespace'])).toBe('yes');
      for (const [verb, resource] of [
        ['list', 'pods'],
        ['watch', 'pods'],
        ['delete', 'pods'],
        ['create', 'pods'],
        ['get', 'pods/log'],
        ['get', 'secrets'],
        ['get', 'configmaps'],
      ] as const) {
        expect(`${verb} ${resource}: ${await canI(verb, resource, ['--all-namespaces'])}`).toBe(`${verb} ${resource}: no`);
      }
    } finally {
      await kubectl.tryRun(['delete', '--filename=-', '--wait=false'], manifest);
    }
  });

  it('localAccess.enabled false: no RBAC, no token, the local cluster never read', async () => {
    const objects = await renderPlugin(undefined, { 'localAccess.enabled': false });
    expect(kinds(objects)).toEqual(['ConfigMap', 'Deployment', 'Service', 'ServiceAccount']);
    expect(deploymentOf(objects).spec.template.spec.automountServiceAccountToken).toBe(false);
    expect(pluginConfigOf(objects, external).provider.local).toBeUndefined();
  });

  it('a local kubeconfig of its own: read from that file; the chart renders no RBAC and mounts no token for it', async () => {
    const objects = await renderPlugin(undefined, { 'config.local.kubeconfig_path': '/etc/local/kubeconfig' });
    expect(kinds(objects)).not.toContain('ClusterRole');
    expect(deploymentOf(objects).spec.template.spec.automountServiceAccountToken).toBe(false);
    const config = pluginConfigOf(objects, external);
    expect(config.provider.local).toEqual({ kind: 'file', path: '/etc/local/kubeconfig' });
    expect(config.warnings).toEqual([]);
  });

  it('serviceAccount.automountToken true keeps the token mounted without local access', async () => {
    const objects = await renderPlugin(undefined, { 'localAccess.enabled': false, 'serviceAccount.automountToken': true });
    expect(deploymentOf(objects).spec.template.spec.automountServiceAccountToken).toBe(true);
  });

  it('NOTES say whether, and with what, the local cluster is read', async () => {
    expect(await notes(PLUGIN)).toContain(`ClusterRole\n"${namespace}-${FULLNAME}-local-pods": get pods) and deletes remote pods whose local pod is gone.`);
    const args = ['install', RELEASE, join(CHARTS_DIR, PLUGIN), '--dry-run=client', '--namespace', namespace, '--kubeconfig', testKubeconfigPath()];
    const off = await runTool(helm.binary, [...args, '--set', 'localAccess.enabled=false']);
    expect(off.stdout).toContain('Local cluster: never read (localAccess.enabled is false)');
  });
});

describe('refused values', () => {
  it.each<[string, string, Record<string, unknown>, RegExp]>([
    [PLUGIN, 'an unknown listen mode', { 'listen.mode': 'udp' }, /at '\/listen\/mode': value must be one of 'tcp', 'unix'/],
    [PLUGIN, 'zero replicas', { replicas: 0 }, /at '\/replicas': minimum: got 0, want 1/],
    [PLUGIN, 'a misspelt top-level value', { replica: 3 }, /additional properties 'replica' not allowed/],
    [PLUGIN, 'a misspelt config key', { 'config.offloading.node_selectr': {} }, /at '\/config\/offloading': additional properties 'node_selectr' not allowed/],
    [PLUGIN, 'JSON text where the key takes an object', { 'config.offloading.node_selector': '{"a":"b"}' }, /at '\/config\/offloading\/node_selector': got string, want object/],
    [PLUGIN, 'an unknown log level', { 'config.log.level': 'loud' }, /at '\/config\/log\/level': value must be one of/],
    [PLUGIN, 'a namespace prefix that is no DNS label', { 'config.offloading.namespace_prefix': 'Team_A' }, /at '\/config\/offloading\/namespace_prefix': 'Team_A' does not match pattern/],
    [PLUGIN, 'a bad scrape interval', { 'metrics.serviceMonitor.interval': '30 seconds' }, /at '\/metrics\/serviceMonitor\/interval'/],
    [PLUGIN, 'app.socket_port under config', { 'config.app.socket_port': 5000 }, /config\.app\.socket_port is set by the chart from listen\.mode, listen\.port and listen\.socketPath/],
    [PLUGIN, 'an inline kubeconfig under config', { 'config.k8s.kubeconfig': '{}' }, /config\.k8s\.kubeconfig would put credentials in a ConfigMap: use remoteKubeconfig\.value/],
    [PLUGIN, 'local.in_cluster under config', { 'config.local.in_cluster': true }, /config\.local\.in_cluster is set by the chart from localAccess\.enabled .*: set that instead/],
    [PLUGIN, 'a misspelt localAccess value', { 'localAccess.enable': false }, /at '\/localAccess': additional properties 'enable' not allowed/],
    [PLUGIN, 'the SSH key under config', { 'config.tcp_tunnel.gateway_ssh_private_key': 'a2V5' }, /use tcpTunnel\.sshPrivateKey\.value or tcpTunnel\.sshPrivateKey\.existingSecret/],
    [PLUGIN, 'the pod-key secret under config', { 'config.tcp_tunnel.pod_key_secret': 'a2V5' }, /config\.tcp_tunnel\.pod_key_secret would put a secret in a ConfigMap: use tcpTunnel\.podKeySecret\.existingSecret/],
    [PLUGIN, 'an existing pod-key Secret and a value', { 'tcpTunnel.podKeySecret.existingSecret': 'x', 'tcpTunnel.podKeySecret.value': 'bm90LWEtcmVhbC1wb2Qta2V5LXNlY3JldCwgMzIrIGJ5dGVz' }, /tcpTunnel\.podKeySecret: set existingSecret or value, not both/],
    [PLUGIN, 'a pod-key secret too short', { 'tcpTunnel.podKeySecret.value': 'c2hvcnQ=' }, /at '\/tcpTunnel\/podKeySecret\/value': 'c2hvcnQ=' does not match pattern/],
    [PLUGIN, 'a private key as the host public key', { 'config.tcp_tunnel.gateway_host_public_key': '-----BEGIN OPENSSH PRIVATE KEY-----' }, /at '\/config\/tcp_tunnel\/gateway_host_public_key'/],
    [PLUGIN, 'a base64 private key as the host public key', { 'config.tcp_tunnel.gateway_host_public_key': Buffer.from('-----BEGIN OPENSSH PRIVATE KEY-----\n').toString('base64') }, /gateway_host_public_key holds a private key, which would land in a ConfigMap/],
    [PLUGIN, 'an unknown cipher', { 'config.tcp_tunnel.ciphers': 'aes128-ctr,3des-cbc' }, /at '\/config\/tcp_tunnel\/ciphers'/],
    [PLUGIN, 'a gateway host given as a URL', { 'config.tcp_tunnel.gateway_host': 'ssh://gateway.example' }, /at '\/config\/tcp_tunnel\/gateway_host'/],
    [PLUGIN, 'a ServiceMonitor in unix mode', { 'listen.mode': 'unix', 'metrics.serviceMonitor.enabled': true }, /metrics\.serviceMonitor\.enabled needs listen\.mode tcp/],
    [PLUGIN, 'a ServiceMonitor without metrics', { 'metrics.serviceMonitor.enabled': true, 'config.app.metrics_enabled': false }, /metrics\.serviceMonitor\.enabled needs config\.app\.metrics_enabled true/],
    [PLUGIN, 'a drain time longer than the grace period', { 'config.app.shutdown_timeout_seconds': 30 }, /terminationGracePeriodSeconds \(30\) must exceed config\.app\.shutdown_timeout_seconds \(30\)/],
    [PLUGIN, 'both PDB bounds', { 'podDisruptionBudget.maxUnavailable': 1, 'podDisruptionBudget.minAvailable': 1 }, /set maxUnavailable or minAvailable, not both/],
    [PLUGIN, 'an existing Secret and an inline kubeconfig', { 'remoteKubeconfig.existingSecret': 'x', 'remoteKubeconfig.value': 'y' }, /remoteKubeconfig: set existingSecret or value, not both/],
    [RBAC, 'nothing to bind', { 'serviceAccount.create': false }, /nothing to bind: set serviceAccount\.create true or list extraSubjects/],
    [RBAC, 'an unknown subject kind', { extraSubjects: [{ kind: 'Robot', name: 'r2' }] }, /at '\/extraSubjects\/0\/kind': value must be one of 'User', 'Group', 'ServiceAccount'/],
    [GATEWAY, 'the defaults (no key given)', {}, /hostKey: set hostKey\.existingSecret/],
    [GATEWAY, 'no host key', { 'podKeySecret.existingSecret': 'k' }, /hostKey: set hostKey\.existingSecret .* or hostKey\.privateKey .*The chart never generates one/],
    [GATEWAY, 'nobody who may log in', { 'hostKey.existingSecret': 'h' }, /no bastion could log in: set podKeySecret\.existingSecret or podKeySecret\.value .*, or list authorizedKeys/],
    [GATEWAY, 'an existing host-key Secret and an inline key', { 'hostKey.existingSecret': 'h', 'hostKey.privateKey': 'k' }, /hostKey: set existingSecret or privateKey, not both/],
    [GATEWAY, 'a pod-key secret too short', { 'hostKey.existingSecret': 'h', 'podKeySecret.value': 'c2hvcnQ=' }, /at '\/podKeySecret\/value': 'c2hvcnQ=' does not match pattern/],
    [GATEWAY, 'an authorized key with options', { 'hostKey.existingSecret': 'h', authorizedKeys: ['restrict ssh-ed25519 AAAA c'] }, /at '\/authorizedKeys\/0'/],
    [GATEWAY, 'replicas', { 'hostKey.existingSecret': 'h', 'podKeySecret.existingSecret': 'k', replicas: 2 }, /additional properties 'replicas' not allowed/],
    [GATEWAY, 'a ClusterIP Service', { 'hostKey.existingSecret': 'h', 'podKeySecret.existingSecret': 'k', 'service.type': 'ClusterIP' }, /at '\/service\/type': value must be one of 'NodePort', 'LoadBalancer'/],
    [GATEWAY, 'a load balancer IP on a NodePort', { 'hostKey.existingSecret': 'h', 'podKeySecret.existingSecret': 'k', 'service.loadBalancerIP': '192.0.2.1' }, /service\.loadBalancerIP needs service\.type LoadBalancer/],
    [GATEWAY, 'the SSH port inside the forward range', { 'hostKey.existingSecret': 'h', 'podKeySecret.existingSecret': 'k', 'gateway.listenPort': 20022 }, /gateway\.listenPort \(20022\) lies in gateway\.portRange \(20000-20999\)/],
    [GATEWAY, 'a reversed port range', { 'hostKey.existingSecret': 'h', 'podKeySecret.existingSecret': 'k', 'gateway.portRange': '21000-20000' }, /gateway\.portRange "21000-20000": expected MIN-MAX/],
    [GATEWAY, 'an unknown cipher', { 'hostKey.existingSecret': 'h', 'podKeySecret.existingSecret': 'k', 'gateway.ciphers': ['3des-cbc'] }, /at '\/gateway\/ciphers\/0': value must be one of/],
    [GATEWAY, 'a namespace that is no DNS label', { 'hostKey.existingSecret': 'h', 'podKeySecret.existingSecret': 'k', 'rbac.namespaces': ['Shop'] }, /at '\/rbac\/namespaces\/0'/],
  ])('%s: %s', async (chart, _what, setJson, message) => {
    const result = await helm.tryTemplate(chart, { release: RELEASE, namespace, setJson });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/panic|goroutine/);
  });
});

// =====================================================================================
// NOTES and READMEs
// =====================================================================================

async function notes(chart: string, valuesFile?: string): Promise<string> {
  const args = ['install', RELEASE, join(CHARTS_DIR, chart), '--dry-run=client', '--namespace', namespace, '--kubeconfig', testKubeconfigPath()];
  if (valuesFile !== undefined) args.push('--values', ciPath(chart, valuesFile));
  const result = await runTool(helm.binary, args);
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  const at = result.stdout.indexOf('\nNOTES:\n');
  expect(at).toBeGreaterThan(0);
  return result.stdout.slice(at);
}

describe('NOTES.txt', () => {
  it(`${PLUGIN}, tcp: how to point InterLink at the Service, and the Secret to create`, async () => {
    const text = await notes(PLUGIN);
    expect(text).toContain(`SidecarURL: "http://${FULLNAME}.${namespace}.svc"`);
    expect(text).toContain('SidecarPort: "4000"');
    expect(text).toContain(`kubectl -n ${namespace} create secret generic ${FULLNAME}-remote-kubeconfig`);
  });

  it(`${PLUGIN}, unix: the socket URL for InterLink, and a warning when no container can reach it`, async () => {
    expect(await notes(PLUGIN, 'unix-socket-values.yaml')).toContain('SidecarURL: "unix:///var/run/interlink/plugin.sock"');
    const args = ['install', RELEASE, join(CHARTS_DIR, PLUGIN), '--dry-run=client', '--namespace', namespace];
    const result = await runTool(helm.binary, [...args, '--kubeconfig', testKubeconfigPath(), '--set', 'listen.mode=unix']);
    expect(result.stdout).toContain('is EMPTY: nothing can reach the plugin');
  });

  it(`${PLUGIN}, tcp tunnel: where the bastions connect and the pod-key Secret the gateway must read too`, async () => {
    const text = await notes(PLUGIN, 'tcp-tunnel-values.yaml');
    expect(text).toContain('to the tcp-tunnel-gateway at 203.0.113.10, port 30222');
    expect(text).toContain('Bastion keys: derived per pod from Secret "tunnel-pod-key", key "pod-key-secret".');
    expect(text).not.toContain('NOT SET');
    const args = ['install', RELEASE, join(CHARTS_DIR, PLUGIN), '--dry-run=client', '--namespace', namespace, '--kubeconfig', testKubeconfigPath()];
    const bare = await runTool(helm.binary, [...args, '--set', 'config.tcp_tunnel.enabled=true']);
    expect(bare.stdout).toContain('config.tcp_tunnel.gateway_host_public_key is NOT SET');
    expect(bare.stdout).toContain('No bastion key is set: set tcpTunnel.podKeySecret.existingSecret');
  });

  it(`${RBAC}: how to make the plugin's kubeconfig, with a TokenRequest or the long-lived token`, async () => {
    expect(await notes(RBAC)).toContain(`kubectl -n ${namespace} create token ${RELEASE}-${RBAC} --duration=8760h`);
    expect(await notes(RBAC, 'long-lived-token-values.yaml')).toContain(`kubectl -n ${namespace} get secret ${RELEASE}-${RBAC}-token`);
  });
});

describe('chart READMEs', () => {
  it.each(CHARTS)('%s: the values table names every top-level value', (chart) => {
    const values = readFileSync(join(CHARTS_DIR, chart, 'values.yaml'), 'utf8');
    const readme = readFileSync(join(CHARTS_DIR, chart, 'README.md'), 'utf8');
    const topLevel = [...values.matchAll(/^([A-Za-z][A-Za-z0-9]*):/gm)].map((m) => m[1] ?? '');
    expect(topLevel.length).toBeGreaterThan(3);
    // The first cell of each table row names one or more values: `a.b`, `c`.
    const firstCells = [...readme.matchAll(/^\| ([^|]+) \|/gm)].map((m) => m[1] ?? '');
    const documented = firstCells.flatMap((cell) => [...cell.matchAll(/`([A-Za-z][A-Za-z0-9]*)[.`]/g)].map((m) => m[1]));
    expect(topLevel.filter((key) => !documented.includes(key))).toEqual([]);
  });
});

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { testKubeconfigPath } from '../harness/index.js';
import {
  CHARTS_DIR,
  Helm,
  Kubectl,
  ciFiles as chartCiFiles,
  ciPath as chartCiPath,
  createRestrictedNamespace,
  helmBinary,
  installServiceMonitorCrd,
  kubectlBinary,
  objectOf,
  runTool,
  type KubeObject,
  type RenderOptions,
} from './chart-tools.js';
import { containerView, type ContainerJson, type DeploymentJson, type ExternalData } from './container-view.js';

// The tcp-tunnel-gateway chart's own behaviour. charts.test.ts lints it and
// sends every ci/*.yaml rendering to the API server with the other charts;
// here: what each values file renders, the gateway's environment checked
// against the variables the gateway reads (its README's table, which the
// tunnel package's own test keeps equal to the code), its RBAC checked with
// the real API server's authorizer, its pod admitted under Pod Security
// "restricted", and the commands of its NOTES run as printed.

const GATEWAY = 'tcp-tunnel-gateway';
const RELEASE = 'e2e';
const FULLNAME = `${RELEASE}-${GATEWAY}`;
/** Variables the chart leaves to their in-cluster defaults (the ServiceAccount's files, KUBERNETES_SERVICE_*). */
const KUBE_DEFAULTS = ['TUNNEL_GATEWAY_KUBE_API_URL', 'TUNNEL_GATEWAY_KUBE_CA_FILE', 'TUNNEL_GATEWAY_KUBE_TOKEN_FILE'];
/** What the chart grants, as `group/resource: verbs`. */
const GRANTED: Record<string, string[]> = {
  '/pods': ['get'],
  '/services': ['create', 'delete', 'get', 'list', 'patch'],
  'discovery.k8s.io/endpointslices': ['create', 'delete', 'patch'],
  '/events': ['create'],
};
const EVERY_VERB = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];

const run = promisify(execFile);
const ciPath = (file: string): string => chartCiPath(GATEWAY, file);
const ciFiles = chartCiFiles(GATEWAY);

/** The gateway's variables: the first column of the "Gateway" table of packages/tunnel/README.md. */
function gatewayVariables(): string[] {
  const readme = readFileSync(join(CHARTS_DIR, '..', 'packages', 'tunnel', 'README.md'), 'utf8');
  const section = /^### Gateway\n([\s\S]*?)(?=^#)/m.exec(readme)?.[1] ?? '';
  const names = [...section.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1] ?? '');
  if (names.length < 10) throw new Error('no Gateway table in packages/tunnel/README.md');
  return names;
}

let helm: Helm;
let kubectl: Kubectl;
/** Where objects are rendered for and sent: enforces Pod Security "restricted", holds the chart's ServiceAccount. */
let namespace: string;
let workDir: string;

beforeAll(async () => {
  helm = new Helm(helmBinary());
  kubectl = new Kubectl(kubectlBinary(), testKubeconfigPath());
  workDir = await mkdtemp(join(tmpdir(), 'interlink-k8s-gateway-chart-'));
  namespace = `gateway-chart-${randomBytes(3).toString('hex')}`;
  await createRestrictedNamespace(kubectl, namespace);
  // Pod admission looks the ServiceAccount up.
  await kubectl.run(['create', 'serviceaccount', FULLNAME, '--namespace', namespace]);
  // kubectl maps the ServiceMonitor through prometheus-operator's real CRD.
  await installServiceMonitorCrd(kubectl);
}, 600_000);

afterAll(async () => {
  await kubectl.tryRun(['delete', 'namespace', namespace, '--wait=false']);
  await rm(workDir, { recursive: true, force: true });
});

async function render(valuesFile: string, setJson?: RenderOptions['setJson'], release = RELEASE): Promise<KubeObject[]> {
  return kubectl.objects(await helm.template(GATEWAY, { release, namespace, valuesFiles: [ciPath(valuesFile)], setJson }));
}

const kinds = (objects: readonly KubeObject[]): string[] => objects.map((o) => o.kind).sort();
const deploymentOf = (objects: readonly KubeObject[]): DeploymentJson => objectOf(objects, 'Deployment') as DeploymentJson;
function gatewayOf(objects: readonly KubeObject[]): ContainerJson {
  const container = deploymentOf(objects).spec.template.spec.containers.find((c) => c.name === 'gateway');
  if (container === undefined) throw new Error('no container gateway');
  return container;
}
const envNames = (objects: readonly KubeObject[]): string[] => (gatewayOf(objects).env ?? []).map((e) => e.name);

interface ServiceJson extends KubeObject {
  spec: {
    type: string;
    selector: Record<string, string>;
    ports: { name: string; port: number; targetPort: string; nodePort?: number; protocol: string }[];
    externalTrafficPolicy?: string;
    loadBalancerSourceRanges?: string[];
  };
}
const serviceOf = (objects: readonly KubeObject[], name: string): ServiceJson => objectOf(objects, 'Service', name) as ServiceJson;

interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}
/** Rules as `group/resource: sorted verbs`. */
function grants(rules: readonly PolicyRule[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const rule of rules) {
    for (const group of rule.apiGroups) {
      for (const resource of rule.resources) out[`${group}/${resource}`] = [...(out[`${group}/${resource}`] ?? []), ...rule.verbs].sort();
    }
  }
  return out;
}

/** The Secrets the existing-secrets values name, as the user made them. */
const EXISTING_KEYS: ExternalData = {
  'Secret/tunnel-gateway-host-key': { 'host-key': 'HOST PRIVATE KEY' },
  'Secret/tunnel-pod-key': { 'pod-key-secret': 'UE9ELUtFWS1TRUNSRVQ=' },
  'Pod/self': { 'status.podIP': '10.1.2.3' },
};

// =====================================================================================
// the defaults, with the keys in existing Secrets
// =====================================================================================

describe('existing-secrets-values.yaml (the defaults)', () => {
  let objects: KubeObject[];
  beforeAll(async () => {
    objects = await render('existing-secrets-values.yaml');
  });

  it('renders a Deployment, the SSH and metrics Services, a ServiceAccount and cluster-wide RBAC; no Secret, ConfigMap or NetworkPolicy', () => {
    expect(kinds(objects)).toEqual(['ClusterRole', 'ClusterRoleBinding', 'Deployment', 'Service', 'Service', 'ServiceAccount']);
  });

  it('runs exactly one gateway, replaced (never doubled) on upgrade, from the tunnel image', () => {
    const deployment: KubeObject = deploymentOf(objects);
    expect(deployment.spec).toMatchObject({ replicas: 1, strategy: { type: 'Recreate' } });
    const gateway = gatewayOf(objects);
    expect(gateway.image).toBe('ghcr.io/interlink-k8s/tcp-tunnel:0.1.0');
    expect(gateway.command).toEqual(['node', '--max-semi-space-size=1', '--external-memory-accounted-in-global-limit', '--no-parallel-scavenge', '--no-maglev', '--no-sparkplug', 'dist/bin/gateway.js']);
  });

  it('bastions reach port "ssh" (2222) through a NodePort Service; /healthz and /metrics are on port "http" (9090) behind a ClusterIP Service', () => {
    const gateway = gatewayOf(objects);
    expect(gateway.ports).toEqual([
      { name: 'ssh', containerPort: 2222, protocol: 'TCP' },
      { name: 'http', containerPort: 9090, protocol: 'TCP' },
    ]);
    const ssh = serviceOf(objects, FULLNAME);
    expect(ssh.spec.type).toBe('NodePort');
    expect(ssh.spec.ports).toEqual([{ name: 'ssh', port: 2222, targetPort: 'ssh', protocol: 'TCP' }]);
    const metrics = serviceOf(objects, `${FULLNAME}-metrics`);
    expect(metrics.spec.type).toBe('ClusterIP');
    expect(metrics.spec.ports).toEqual([expect.objectContaining({ name: 'http', port: 9090, targetPort: 'http' })]);
    const podLabels = deploymentOf(objects).spec.template.metadata.labels;
    expect(podLabels).toMatchObject(ssh.spec.selector);
    expect(podLabels).toMatchObject(metrics.spec.selector);
  });

  it('probes GET /healthz on port "http" and carries Prometheus scrape annotations', () => {
    const gateway = gatewayOf(objects);
    expect(gateway.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(gateway.readinessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(deploymentOf(objects).spec.template.metadata.annotations).toMatchObject({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '9090',
      'prometheus.io/path': '/metrics',
    });
    expect(gateway.resources).toEqual({ requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '512Mi' } });
  });

  it('runs as 65532, read-only root, no capabilities, RuntimeDefault seccomp, with the API token mounted (it publishes Services)', () => {
    const pod = deploymentOf(objects).spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, fsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } });
    expect(gatewayOf(objects).securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.automountServiceAccountToken).toBe(true);
    expect(pod.serviceAccountName).toBe(FULLNAME);
    // Only the pod mounts the token: other pods using the ServiceAccount do not.
    expect(objectOf(objects, 'ServiceAccount').automountServiceAccountToken).toBe(false);
  });

  it('reads the host key and the pod-key secret as files from the named Secrets, and advertises its pod IP', () => {
    const view = containerView(objects, 'gateway', EXISTING_KEYS);
    expect(view.env.TUNNEL_GATEWAY_HOST_KEY).toBe('/etc/tunnel/host/host-key');
    expect(view.files.get('/etc/tunnel/host/host-key')).toBe('HOST PRIVATE KEY');
    expect(view.env.TUNNEL_GATEWAY_POD_KEY_SECRET).toBe('/etc/tunnel/pod-key/pod-key-secret');
    expect(view.files.get('/etc/tunnel/pod-key/pod-key-secret')).toBe('UE9ELUtFWS1TRUNSRVQ=');
    expect(view.env.TUNNEL_GATEWAY_AUTHORIZED_KEYS).toBeUndefined();
    expect(view.env).toMatchObject({ TUNNEL_GATEWAY_PUBLISH_SERVICES: 'true', TUNNEL_GATEWAY_ADVERTISE_ADDRESS: '10.1.2.3' });
    // Private keys stay out of the environment (visible in `kubectl describe`).
    expect((gatewayOf(objects).env ?? []).some((e) => e.valueFrom?.secretKeyRef !== undefined)).toBe(false);
    const volumes = deploymentOf(objects).spec.template.spec.volumes ?? [];
    for (const volume of volumes) expect(volume.secret?.defaultMode).toBe(0o440);
  });
});

// =====================================================================================
// the environment: exactly the gateway's variables
// =====================================================================================

describe("the gateway's environment", () => {
  const variables = gatewayVariables();

  it.each(ciFiles)('%s: every variable the chart sets is one the gateway reads, once', async (file) => {
    const names = envNames(await render(file));
    expect(names.filter((name) => !variables.includes(name))).toEqual([]);
    expect(new Set(names).size).toBe(names.length);
  });

  it('with every option on, the chart sets every variable of the gateway but the Kubernetes API ones, which default to the in-cluster files', async () => {
    const objects = await render('inline-keys-values.yaml', { 'rbac.namespaces': ['shop'] });
    expect(envNames(objects).sort()).toEqual(variables.filter((name) => !KUBE_DEFAULTS.includes(name)).sort());
  });

  it('inline-keys-values.yaml: each gateway.* value reaches its variable as the gateway parses it', async () => {
    const objects = await render('inline-keys-values.yaml');
    const view = containerView(objects, 'gateway', { 'Pod/self': { 'status.podIP': 'fd00::7' } });
    expect(view.env).toEqual({
      TUNNEL_GATEWAY_HOST_KEY: '/etc/tunnel/host/host-key',
      TUNNEL_GATEWAY_AUTHORIZED_KEYS: '/etc/tunnel/authorized-keys/authorized_keys',
      TUNNEL_GATEWAY_POD_KEY_SECRET: '/etc/tunnel/pod-key/pod-key-secret',
      TUNNEL_GATEWAY_LISTEN_HOST: '0.0.0.0',
      TUNNEL_GATEWAY_LISTEN_PORT: '2022',
      TUNNEL_GATEWAY_FORWARD_HOST: '0.0.0.0',
      TUNNEL_GATEWAY_PORT_RANGE: '31000-31499',
      TUNNEL_GATEWAY_MAX_FORWARDS_PER_CONNECTION: '16',
      TUNNEL_GATEWAY_MAX_AUTH_ATTEMPTS: '3',
      TUNNEL_GATEWAY_LOGIN_GRACE_MS: '10000',
      TUNNEL_GATEWAY_KEEPALIVE_INTERVAL_MS: '10000',
      TUNNEL_GATEWAY_KEEPALIVE_COUNT_MAX: '2',
      TUNNEL_GATEWAY_HTTP_HOST: '0.0.0.0',
      TUNNEL_GATEWAY_HTTP_PORT: '9100',
      TUNNEL_CIPHERS: 'aes128-gcm@openssh.com,chacha20-poly1305@openssh.com',
      TUNNEL_LOG_LEVEL: 'debug',
      TUNNEL_GATEWAY_PUBLISH_SERVICES: 'true',
      TUNNEL_GATEWAY_ADVERTISE_ADDRESS: 'fd00::7',
      TUNNEL_GATEWAY_SERVICE_GRACE_MS: '60000',
    });
    expect(gatewayOf(objects).ports?.map((p) => [p.name, p.containerPort])).toEqual([
      ['ssh', 2022],
      ['http', 9100],
    ]);
  });

  it('publishServices false: no RBAC, no API token, no advertised address', async () => {
    const objects = await render('existing-secrets-values.yaml', { 'gateway.publishServices': false, 'rbac.namespaces': ['shop'] });
    expect(kinds(objects)).toEqual(['Deployment', 'Service', 'Service', 'ServiceAccount']);
    expect(deploymentOf(objects).spec.template.spec.automountServiceAccountToken).toBe(false);
    const names = envNames(objects);
    expect(names).toContain('TUNNEL_GATEWAY_PUBLISH_SERVICES');
    expect(names).not.toContain('TUNNEL_GATEWAY_ADVERTISE_ADDRESS');
    expect(names).not.toContain('TUNNEL_GATEWAY_NAMESPACES');
    expect(containerView(objects, 'gateway', EXISTING_KEYS).env.TUNNEL_GATEWAY_PUBLISH_SERVICES).toBe('false');
  });
});

// =====================================================================================
// RBAC: exactly what publishing takes, where it is asked for
// =====================================================================================

describe('RBAC', () => {
  it('existing-secrets-values.yaml: one ClusterRole, bound to the ServiceAccount, granting exactly get pods, get, list, create, patch, delete services, create, patch, delete endpointslices and create events', async () => {
    const objects = await render('existing-secrets-values.yaml');
    const role = objectOf(objects, 'ClusterRole') as KubeObject & { rules: PolicyRule[] };
    expect(grants(role.rules)).toEqual(GRANTED);
    const binding = objectOf(objects, 'ClusterRoleBinding') as KubeObject & { roleRef: unknown; subjects: unknown };
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: FULLNAME });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: FULLNAME, namespace }]);
    expect(envNames(objects)).not.toContain('TUNNEL_GATEWAY_NAMESPACES');
  });

  it('namespaced-rbac-values.yaml: a Role and RoleBinding with the same rules in shop and web only, and the gateway told to publish only there', async () => {
    const objects = await render('namespaced-rbac-values.yaml');
    expect(kinds(objects)).not.toContain('ClusterRole');
    expect(kinds(objects)).not.toContain('ClusterRoleBinding');
    for (const kind of ['Role', 'RoleBinding']) {
      expect(objects.filter((o) => o.kind === kind).map((o) => o.metadata.namespace).sort()).toEqual(['shop', 'web']);
    }
    for (const role of objects.filter((o) => o.kind === 'Role') as (KubeObject & { rules: PolicyRule[] })[]) {
      expect(grants(role.rules)).toEqual(GRANTED);
    }
    for (const binding of objects.filter((o) => o.kind === 'RoleBinding') as (KubeObject & { roleRef: unknown; subjects: unknown })[]) {
      expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: FULLNAME });
      expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: FULLNAME, namespace }]);
    }
    expect(containerView(objects, 'gateway', EXISTING_KEYS).env.TUNNEL_GATEWAY_NAMESPACES).toBe('shop,web');
  });

  it('rbac.create false: no RBAC object, the namespaces still passed to the gateway', async () => {
    const objects = await render('namespaced-rbac-values.yaml', { 'rbac.create': false });
    expect(kinds(objects).filter((k) => k.includes('Role'))).toEqual([]);
    expect(envNames(objects)).toContain('TUNNEL_GATEWAY_NAMESPACES');
  });

  /** Whether the API server's authorizer lets `serviceAccount` of `namespace` do `verb` on `resource` (in `where`, or cluster-wide). */
  async function canI(serviceAccount: string, verb: string, resource: string, where?: string): Promise<boolean> {
    const args = ['auth', 'can-i', verb, resource, `--as=system:serviceaccount:${namespace}:${serviceAccount}`];
    args.push(...(where === undefined ? ['--all-namespaces'] : ['--namespace', where]));
    const result = await kubectl.tryRun(args);
    if (result.code > 1) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr}`);
    return result.code === 0;
  }

  /** Installs (for real) the ServiceAccount and RBAC objects of a rendering, under its own release name. */
  async function applyRbac(file: string, release: string): Promise<KubeObject[]> {
    const wanted = ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'];
    const objects = (await render(file, undefined, release)).filter((o) => wanted.includes(o.kind));
    const elsewhere = objects.map((o) => o.metadata.namespace).filter((n): n is string => n !== undefined && n !== namespace);
    for (const ns of new Set(elsewhere)) {
      if ((await kubectl.tryRun(['get', 'namespace', ns])).code !== 0) await kubectl.run(['create', 'namespace', ns]);
    }
    await kubectl.run(['apply', '--filename=-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
    return objects;
  }

  const resources: [string, string][] = [
    ['/pods', 'pods'],
    ['/services', 'services'],
    ['discovery.k8s.io/endpointslices', 'endpointslices.discovery.k8s.io'],
    ['/events', 'events'],
  ];

  /** Every verb on the four resources in `where`: what the authorizer answers, next to what the chart means to grant. */
  async function everyVerb(serviceAccount: string, where: string): Promise<{ what: string; allowed: boolean; granted: boolean }[]> {
    const checks = resources.flatMap(([key, resource]) =>
      EVERY_VERB.map(async (verb) => ({
        what: `${verb} ${resource} in ${where}`,
        allowed: await canI(serviceAccount, verb, resource, where),
        granted: GRANTED[key]?.includes(verb) ?? false,
      })),
    );
    return Promise.all(checks);
  }

  it('the API server lets the gateway do exactly those verbs, in every namespace (cluster-wide RBAC)', async () => {
    const release = 'rbac-cluster';
    expect(kinds(await applyRbac('existing-secrets-values.yaml', release))).toEqual(['ClusterRole', 'ClusterRoleBinding', 'ServiceAccount']);
    const sa = `${release}-${GATEWAY}`;
    try {
      for (const { what, allowed, granted } of await everyVerb(sa, 'any-namespace')) expect({ what, allowed }).toEqual({ what, allowed: granted });
      // Nothing else: no Secrets.
      expect(await canI(sa, 'get', 'secrets', 'any-namespace')).toBe(false);
      expect(await canI(sa, 'list', 'services')).toBe(true);
    } finally {
      await kubectl.tryRun(['delete', 'clusterrolebinding,clusterrole', `${release}-${GATEWAY}`]);
    }
  }, 60_000);

  it('the API server lets the gateway publish in shop and web only (namespaced RBAC)', async () => {
    const release = 'rbac-ns';
    await applyRbac('namespaced-rbac-values.yaml', release);
    const sa = `${release}-${GATEWAY}`;
    for (const where of ['shop', 'web']) {
      for (const { what, allowed, granted } of await everyVerb(sa, where)) expect({ what, allowed }).toEqual({ what, allowed: granted });
    }
    for (const [, resource] of resources) {
      expect(await canI(sa, 'get', resource, 'elsewhere')).toBe(false);
      expect(await canI(sa, 'list', resource)).toBe(false);
    }
  }, 60_000);
});

// =====================================================================================
// the other values files
// =====================================================================================

describe('loadbalancer-values.yaml', () => {
  it('makes the SSH Service a LoadBalancer on port 22, open to the given range, keeping source addresses', async () => {
    const objects = await render('loadbalancer-values.yaml');
    const ssh = serviceOf(objects, FULLNAME);
    expect(ssh.spec).toMatchObject({ type: 'LoadBalancer', externalTrafficPolicy: 'Local', loadBalancerSourceRanges: ['192.0.2.0/24'] });
    expect(ssh.spec.ports).toEqual([{ name: 'ssh', port: 22, targetPort: 'ssh', protocol: 'TCP' }]);
    expect(ssh.metadata.annotations).toEqual({ 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb' });
    const view = containerView(objects, 'gateway', { ...EXISTING_KEYS, 'Secret/tunnel-gateway-host-key': { ssh_host_ed25519_key: 'KEY' } });
    expect(view.files.get(view.env.TUNNEL_GATEWAY_HOST_KEY ?? '')).toBe('KEY');
  });
});

describe('namespaced-rbac-values.yaml', () => {
  it('fixes the node port at 30222, as the reference plugin’s gateway', async () => {
    const ssh = serviceOf(await render('namespaced-rbac-values.yaml'), FULLNAME);
    expect(ssh.spec.ports).toEqual([{ name: 'ssh', port: 2222, targetPort: 'ssh', protocol: 'TCP', nodePort: 30222 }]);
  });
});

describe('inline-keys-values.yaml', () => {
  let objects: KubeObject[];
  beforeAll(async () => {
    objects = await render('inline-keys-values.yaml');
  });

  it('stores the host key and the pod-key secret in Secrets, the shared public keys in a ConfigMap, each mounted where its variable points', () => {
    const values = readFileSync(ciPath('inline-keys-values.yaml'), 'utf8');
    expect(objects.filter((o) => o.kind === 'Secret').map((o) => o.metadata.name).sort()).toEqual([`${FULLNAME}-host-key`, `${FULLNAME}-pod-key`]);
    expect(objectOf(objects, 'ConfigMap').metadata.name).toBe(`${FULLNAME}-authorized-keys`);
    const view = containerView(objects, 'gateway', EXISTING_KEYS);
    expect(view.files.get(view.env.TUNNEL_GATEWAY_HOST_KEY ?? '')).toBe('not-a-real-key');
    expect(view.files.get(view.env.TUNNEL_GATEWAY_POD_KEY_SECRET ?? '')).toBe('bm90LWEtcmVhbC1wb2Qta2V5LXNlY3JldCwgMzIrIGJ5dGVz');
    const authorized = view.files.get(view.env.TUNNEL_GATEWAY_AUTHORIZED_KEYS ?? '') ?? '';
    const lines = authorized.split('\n').filter((line) => line !== '');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(values).toContain(line);
    // Nothing secret in the ConfigMap.
    expect(JSON.stringify(objectOf(objects, 'ConfigMap'))).not.toContain('not-a-real-key');
  });

  it('a changed key changes the pod template (checksum annotations), so the gateway restarts with it', async () => {
    const checksums = (o: readonly KubeObject[]): Record<string, string | undefined> => {
      const annotations = deploymentOf(o).spec.template.metadata.annotations ?? {};
      return { secret: annotations['checksum/secret'], config: annotations['checksum/config'] };
    };
    const before = checksums(objects);
    const newHostKey = checksums(await render('inline-keys-values.yaml', { 'hostKey.privateKey': 'another-key' }));
    expect(newHostKey.secret).not.toBe(before.secret);
    expect(newHostKey.config).toBe(before.config);
    const oneKey = ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDSnSgyRxCLCJlWhDke+bQ9fYyOxsOA3rlo+SrQ4+IzF only'];
    const fewerKeys = checksums(await render('inline-keys-values.yaml', { authorizedKeys: oneKey }));
    expect(fewerKeys.config).not.toBe(before.config);
  });
});

describe('networkpolicy-servicemonitor-values.yaml', () => {
  let objects: KubeObject[];
  beforeAll(async () => {
    objects = await render('networkpolicy-servicemonitor-values.yaml');
  });

  it('admits SSH from the given range, the forward ports from every pod and HTTP from the monitoring namespace, nothing else', () => {
    const policy = objectOf(objects, 'NetworkPolicy') as KubeObject & { spec: Record<string, unknown> };
    expect(policy.spec).toEqual({
      podSelector: { matchLabels: deploymentOf(objects).spec.selector.matchLabels },
      policyTypes: ['Ingress'],
      ingress: [
        { ports: [{ port: 'ssh', protocol: 'TCP' }], from: [{ ipBlock: { cidr: '192.0.2.0/24' } }] },
        { ports: [{ port: 20000, endPort: 20999, protocol: 'TCP' }], from: [{ namespaceSelector: {} }] },
        { ports: [{ port: 'http', protocol: 'TCP' }], from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }] },
      ],
    });
  });

  it('renders a ServiceMonitor that selects the metrics Service only and scrapes its port "http" at /metrics', () => {
    const monitor = objectOf(objects, 'ServiceMonitor') as KubeObject & {
      spec: { selector: { matchLabels: Record<string, string> }; namespaceSelector: unknown; endpoints: unknown[] };
    };
    const selected = objects.filter(
      (o) => o.kind === 'Service' && Object.entries(monitor.spec.selector.matchLabels).every(([k, v]) => o.metadata.labels?.[k] === v),
    );
    expect(selected.map((o) => o.metadata.name)).toEqual([`${FULLNAME}-metrics`]);
    expect(monitor.spec.namespaceSelector).toEqual({ matchNames: [namespace] });
    expect(monitor.spec.endpoints).toEqual([{ port: 'http', path: '/metrics', interval: '15s', scrapeTimeout: '5s' }]);
    expect(monitor.metadata.labels).toMatchObject({ release: 'prometheus' });
    expect(Object.keys(deploymentOf(objects).spec.template.metadata.annotations ?? {})).not.toContain('prometheus.io/scrape');
  });

  it('schedules with the priority class, node selector and tolerations given; only shared keys may log in', () => {
    const pod = deploymentOf(objects).spec.template.spec;
    expect(pod).toMatchObject({
      priorityClassName: 'system-cluster-critical',
      nodeSelector: { 'node-role.example.com/gateway': 'true' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gateway', effect: 'NoSchedule' }],
    });
    expect(envNames(objects)).toContain('TUNNEL_GATEWAY_AUTHORIZED_KEYS');
    expect(envNames(objects)).not.toContain('TUNNEL_GATEWAY_POD_KEY_SECRET');
  });
});

// =====================================================================================
// Pod Security "restricted"
// =====================================================================================

describe('Pod Security "restricted"', () => {
  it.each(ciFiles)('%s: the gateway pod is admitted (enforced for pods)', async (file) => {
    const deployment = deploymentOf(await render(file));
    // Admission enforces Pod Security on pods and only warns for workloads: submit the pod the Deployment would make.
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'gateway-pod', namespace, labels: deployment.spec.template.metadata.labels },
      spec: deployment.spec.template.spec,
    };
    const result = await kubectl.tryRun(['create', '--dry-run=server', '--filename=-'], JSON.stringify(pod));
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  });
});

// =====================================================================================
// NOTES: where bastions connect and the host's public key, as printed
// =====================================================================================

/** What `helm install` prints after installing `valuesFile` (a dry run, under a release of its own: `install` looks at what exists). */
async function notes(valuesFile: string, release = 'notes'): Promise<string> {
  const args = ['install', release, join(CHARTS_DIR, GATEWAY), '--dry-run=client', '--namespace', namespace, '--kubeconfig', testKubeconfigPath()];
  const result = await runTool(helm.binary, [...args, '--values', ciPath(valuesFile)]);
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  const at = result.stdout.indexOf('\nNOTES:\n');
  expect(at).toBeGreaterThan(0);
  return result.stdout.slice(at);
}

/** The indented command line of `text` that contains `marker`. */
function commandLine(text: string, marker: string): string {
  const line = text.split('\n').find((l) => l.includes(marker));
  if (line === undefined) throw new Error(`no line with ${marker} in:\n${text}`);
  return line.trim();
}

/** Runs one shell line of the NOTES with kubectl on the PATH and the test cluster as the current one. */
async function sh(line: string, cwd: string): Promise<string> {
  const env = { ...process.env, KUBECONFIG: testKubeconfigPath(), PATH: `${dirname(kubectl.binary)}:${process.env.PATH ?? ''}` };
  return (await run('bash', ['-euo', 'pipefail', '-c', line], { cwd, env })).stdout;
}

describe('NOTES.txt', () => {
  it('NodePort: the command printed finds the node port the cluster assigned; the plugin settings name the pod-key Secret', async () => {
    const release = 'notes-np';
    const text = await notes('existing-secrets-values.yaml', release);
    const objects = await render('existing-secrets-values.yaml', undefined, release);
    await kubectl.run(['apply', '--filename=-'], JSON.stringify(serviceOf(objects, `${release}-${GATEWAY}`)));
    const assigned = JSON.parse(await kubectl.run(['get', 'service', `${release}-${GATEWAY}`, '--namespace', namespace, '--output=json'])) as ServiceJson;
    const nodePort = assigned.spec.ports[0]?.nodePort;
    expect(nodePort).toBeGreaterThan(0);
    const line = commandLine(text, 'NODE_PORT=$(');
    expect(await sh(`${line}; echo "$NODE_PORT"`, workDir)).toBe(`${String(nodePort)}\n`);
    expect(text).toContain('tcp_tunnel.gateway_port = $NODE_PORT');
    expect(text).toContain('tcp_tunnel.pod_key_secret = Secret "tunnel-pod-key", key "pod-key-secret"');
  });

  it('the printed command derives the host public key the bastions pin from the Secret', async () => {
    const dir = await mkdtemp(join(workDir, 'keys-'));
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'gateway', '-f', join(dir, 'host')]);
    await kubectl.run(['create', 'secret', 'generic', 'tunnel-gateway-host-key', '--namespace', namespace, `--from-file=host-key=${join(dir, 'host')}`]);
    const out = await mkdtemp(join(workDir, 'notes-'));
    await sh(commandLine(await notes('existing-secrets-values.yaml'), 'ssh-keygen -y'), out);
    // The same key as ssh-keygen's own host.pub (the comment aside).
    const typeAndKey = async (file: string): Promise<string> => (await readFile(file, 'utf8')).split(' ').slice(0, 2).join(' ');
    expect(await typeAndKey(join(out, 'host.pub'))).toMatch(/^ssh-ed25519 AAAA\S+$/);
    expect(await typeAndKey(join(out, 'host.pub'))).toBe(await typeAndKey(join(dir, 'host.pub')));
  });

  it('a fixed node port and a load balancer are printed as the plugin’s gateway_port', async () => {
    expect(await notes('namespaced-rbac-values.yaml')).toContain('tcp_tunnel.gateway_port = 30222');
    const lb = await notes('loadbalancer-values.yaml');
    expect(lb).toContain('tcp_tunnel.gateway_port = 22');
    expect(lb).toContain(`kubectl -n ${namespace} get service notes-${GATEWAY} -o jsonpath='{.status.loadBalancer.ingress[0].ip}{.status.loadBalancer.ingress[0].hostname}'`);
    expect(lb).toContain(`-o jsonpath='{.data.ssh_host_ed25519_key}'`);
  });
});

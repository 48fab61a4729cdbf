import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { exchange, openExchange, type PluginAnswer, type PluginClient } from '@interlink-k8s/protocol';
import { createCertificateAuthority } from '../harness/certs.js';
import { rawKube, testKubeconfigPath, type MetaJson } from '../harness/index.js';
import { freePorts } from '../harness/ports.js';
import { acknowledgedByVirtualKubelet } from '../samples/sample-pod.js';
import { startInProcessPlugin, type InProcessPlugin } from '../plugin/in-process-plugin.js';
import { eventually as poll } from '../harness/eventually.js';

// The plugin as InterLink sees it: one real server (express app, config from
// the reference keys, KubernetesProvider) in this process, called over HTTP
// with InterLink's methods and bodies, against the shared real kube-apiserver
// (no kubelet, no scheduler: remote pods stay Pending and unbound). Every
// remote object is read back with client-node's request machinery as raw
// JSON, independent of the plugin's own remote API code.

// --- JSON shapes read back ------------------------------------------------------

type Meta = MetaJson;
interface ContainerJson {
  name: string;
  [field: string]: unknown;
}
interface VolumeJson {
  name: string;
  configMap?: { name?: string; [field: string]: unknown };
  secret?: { secretName?: string; items?: { key: string; path: string }[]; [field: string]: unknown };
  persistentVolumeClaim?: { claimName: string };
  [field: string]: unknown;
}
interface PodJson {
  apiVersion?: string;
  kind?: string;
  metadata: Meta;
  spec: {
    containers: ContainerJson[];
    initContainers?: ContainerJson[];
    volumes?: VolumeJson[];
    tolerations?: { key?: string; [field: string]: unknown }[];
    [field: string]: unknown;
  };
  status?: Record<string, unknown>;
}
interface DataJson {
  metadata: Meta;
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
  type?: string;
}
interface ContainerStatusJson {
  name: string;
  state: {
    waiting?: { reason?: string; message?: string };
    running?: { startedAt?: string };
    terminated?: { exitCode: number; reason?: string; message?: string };
  };
}
interface PodStatusJson {
  name: string;
  UID: string;
  namespace: string;
  JID: string;
  containers: ContainerStatusJson[];
  initContainers: ContainerStatusJson[];
}
interface ErrorJson {
  error: { code: string; message: string; field?: string; requestId?: string };
}
type Body = Record<string, unknown>;

// --- the remote cluster, read as raw JSON ---------------------------------------

const kc = new KubeConfig();
const api = rawKube(kc);
const kube = api.call;
const kubeOk = api.ok;

/** One object, or `undefined` when the API server answers 404. */
async function kubeGet<T>(path: string): Promise<T | undefined> {
  const { status, json } = await kube('GET', path);
  if (status === 404) return undefined;
  if (status !== 200) throw new Error(`GET ${path}: ${status} ${JSON.stringify(json)}`);
  return json as T;
}

type Kind = 'pods' | 'configmaps' | 'secrets';
const UID_LABEL = 'interlink.io/source.pod_uid';

/** Objects labelled with a local pod UID, in one namespace or all. */
async function labelled<T>(kind: Kind, uid: string, namespace?: string): Promise<T[]> {
  const base = namespace === undefined ? `/api/v1/${kind}` : `/api/v1/namespaces/${namespace}/${kind}`;
  const list = await kubeOk<{ items: T[] }>('GET', `${base}?labelSelector=${encodeURIComponent(`${UID_LABEL}=${uid}`)}`);
  return list.items;
}

/** The one remote pod of a local pod UID. */
async function remotePodOf(uid: string): Promise<PodJson> {
  const pods = await labelled<PodJson>('pods', uid);
  expect(pods).toHaveLength(1);
  const [pod] = pods;
  if (pod === undefined) throw new Error(`no remote pod labelled ${uid}`);
  return pod;
}

const eventually = <T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 45_000): Promise<T> =>
  poll(what, check, timeoutMs, { intervalMs: 150, retryOnError: false });

/** A namespace is gone or terminating. */
const namespaceGoing = async (name: string): Promise<true | undefined> => {
  const ns = await kubeGet<{ metadata: Meta }>(`/api/v1/namespaces/${name}`);
  return ns === undefined || ns.metadata.deletionTimestamp !== undefined ? true : undefined;
};

/** Nothing labelled with `uid` is left anywhere on the remote cluster. */
async function nothingLabelled(uid: string): Promise<true | undefined> {
  for (const kind of ['pods', 'configmaps', 'secrets'] as const) {
    if ((await labelled(kind, uid)).length > 0) return undefined;
  }
  return true;
}

// --- the plugin ---------------------------------------------------------------------

const PREFIX = 'httpapi';
const CONFIGURED_SELECTOR = { pool: 'batch', zone: 'configured-zone' };
const CONFIGURED_TOLERATION = { key: 'remote.example/dedicated', operator: 'Equal', value: 'interlink', effect: 'NoSchedule' };
const FIELD_MANAGER = 'interlink-k8s-server-api-e2e';

let server: InProcessPlugin;
let plugin: PluginClient;

/** The plugin in this process, configured through the reference plugin's environment names (not process.env). */
const startPlugin = (extraEnv: Record<string, string>): Promise<InProcessPlugin> =>
  startInProcessPlugin({
    K8S_KUBECONFIG_PATH: testKubeconfigPath(),
    K8S_FIELD_MANAGER: FIELD_MANAGER,
    OFFLOADING_NAMESPACE_PREFIX: PREFIX,
    OFFLOADING_NODE_SELECTOR: JSON.stringify(CONFIGURED_SELECTOR),
    OFFLOADING_NODE_TOLERATIONS: JSON.stringify([CONFIGURED_TOLERATION]),
    APP_SHUTDOWN_TIMEOUT_SECONDS: '1',
    ...extraEnv,
  });

beforeAll(async () => {
  kc.loadFromFile(testKubeconfigPath());
  server = await startPlugin({});
  plugin = server.client;
  // The watch of remote pods syncs within moments; status answers come from it.
  await eventually('plugin ready', async () => ((await plugin.send('GET', '/readyz')).status === 200 ? true : undefined));
}, 60_000);

afterAll(async () => {
  await server.close();
});

/** Asserts an answer is exactly 200 (InterLink treats 201 and 204 as failures) and returns its JSON. */
function ok(answer: PluginAnswer): unknown {
  if (answer.status !== 200) throw new Error(`expected 200, got ${answer.status}: ${answer.text}`);
  expect(answer.status).toBe(200);
  return answer.text === '' ? undefined : answer.json();
}

/** Asserts an error answer in the one error shape, short and without a stack trace. */
function failed(answer: PluginAnswer, status: number): ErrorJson['error'] {
  expect({ status: answer.status, text: answer.text }).toMatchObject({ status });
  const body = answer.json() as ErrorJson;
  expect(typeof body.error.message).toBe('string');
  expect(body.error.message).not.toMatch(/\n\s+at /);
  expect(answer.text).not.toMatch(/\.ts:\d+|node:internal|\bat [A-Za-z.<>]+ \(/);
  return body.error;
}

let nsCounter = 0;
/** A fresh local namespace (unique per test and run). */
const freshNamespace = (what: string): string => `${what}-${++nsCounter}-${randomBytes(3).toString('hex')}`;
const remoteNs = (local: string): string => `${PREFIX}-${local}`;

const createBody = (pod: Body, container: Body[]): Body => ({ pod, container, jobConfig: {} });
/** A container entry of the create body for a container that mounts nothing (Go's nil slices). */
const NOTHING_MOUNTED = { configMaps: null, secrets: null, projectedvolumemaps: null, emptyDirs: null };

/** A plain pod of two containers mounting one ConfigMap, as the VK sends it. */
function simplePod(namespace: string, opts: { name?: string; uid?: string; spec?: Body; init?: ContainerJson[] } = {}) {
  const uid = opts.uid ?? randomUUID();
  const name = opts.name ?? 'job';
  const settings = { metadata: { name: 'settings', namespace, uid: randomUUID() }, data: { 'app.conf': 'debug=true' } };
  const pod: PodJson = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, uid, labels: { app: 'simple' } },
    spec: {
      nodeName: 'interlink-vk',
      restartPolicy: 'Never',
      ...(opts.init === undefined ? {} : { initContainers: opts.init }),
      containers: [
        {
          name: 'main',
          image: 'busybox:1.36',
          command: ['sh', '-c', 'sleep 600'],
          volumeMounts: [{ name: 'cfg', mountPath: '/cfg' }],
        },
        { name: 'side', image: 'busybox:1.36', volumeMounts: [{ name: 'cfg', mountPath: '/cfg' }] },
      ],
      volumes: [{ name: 'cfg', configMap: { name: 'settings' } }],
      ...opts.spec,
    },
    status: { phase: 'Pending' },
  };
  const entries: Body[] = [
    ...(opts.init ?? []).map((c) => ({ name: c.name, ...NOTHING_MOUNTED })),
    { name: 'main', ...NOTHING_MOUNTED, configMaps: [settings] },
    { name: 'side', ...NOTHING_MOUNTED, configMaps: [settings] },
  ];
  return { pod, uid, body: createBody(pod as unknown as Body, entries) };
}

const container = (pod: PodJson, name: string): ContainerJson => {
  const found = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])].find((c) => c.name === name);
  if (found === undefined) throw new Error(`no container ${name}`);
  return found;
};
const volume = (pod: PodJson, name: string): VolumeJson => {
  const found = (pod.spec.volumes ?? []).find((v) => v.name === name);
  if (found === undefined) throw new Error(`no volume ${name}`);
  return found;
};

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** `ContainerLogOpts` as InterLink sends it when nothing is asked (Go's zero values). */
const NO_LOG_OPTS = {
  Tail: 0,
  Bytes: 0,
  Timestamps: false,
  Follow: false,
  Previous: false,
  SinceSeconds: 0,
  SinceTime: '0001-01-01T00:00:00Z',
};

// =====================================================================================
// 1–4: one pod using nearly every field, created once and read back
// =====================================================================================

describe('POST /create of a pod using nearly every field, read back from the remote API server', () => {
  const local = freshNamespace('rich');
  const ns = remoteNs(local);
  const uid = randomUUID();
  const binary = randomBytes(64).toString('base64');
  const secretBytes = randomBytes(48).toString('base64');
  const tokenText = `eyJhbGciOiJSUzI1NiJ9.${randomBytes(24).toString('hex')}.sig`;
  const caText = '-----BEGIN CERTIFICATE-----\nMIIBlocal\n-----END CERTIFICATE-----\n';

  const shared = {
    metadata: { name: 'shared', namespace: local, uid: randomUUID(), labels: { team: 'data' } },
    data: { 'app.conf': 'threads=4\n' },
    binaryData: { 'blob.bin': binary },
  };
  const envSettings = {
    metadata: { name: 'env-settings', namespace: local, uid: randomUUID() },
    data: { LOG_LEVEL: 'debug', MODE: 'fast' },
  };
  const creds = {
    metadata: { name: 'creds', namespace: local, uid: randomUUID() },
    type: 'Opaque',
    data: { password: Buffer.from('hunter2').toString('base64'), 'raw.bin': secretBytes },
  };
  const tokenMap = {
    metadata: { name: 'kube-api-access-q7x2z', namespace: local },
    data: { token: tokenText, 'ca.crt': caText, namespace: local },
  };
  const TOKEN_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';

  const pod: PodJson = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'rich',
      namespace: local,
      uid,
      labels: { app: 'rich', tier: 'backend' },
      annotations: { 'example.org/owner': 'team-a' },
      resourceVersion: '4242',
      creationTimestamp: '2026-07-01T10:00:00Z',
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'rich', uid: randomUUID(), controller: true }],
    },
    spec: {
      nodeName: 'interlink-vk',
      serviceAccountName: 'builder',
      serviceAccount: 'builder',
      priorityClassName: 'local-only-class',
      priority: 1000,
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 45,
      securityContext: {
        runAsUser: 1000,
        runAsGroup: 3000,
        fsGroup: 2000,
        supplementalGroups: [4000],
        seccompProfile: { type: 'RuntimeDefault' },
      },
      imagePullSecrets: [{ name: 'registry-creds' }],
      dnsPolicy: 'None',
      dnsConfig: { nameservers: ['10.96.0.10'], searches: ['svc.cluster.example'], options: [{ name: 'ndots', value: '2' }] },
      hostAliases: [{ ip: '10.1.2.3', hostnames: ['db.internal', 'db'] }],
      nodeSelector: {
        'virtual-node.interlink/type': 'virtual-kubelet',
        'kubernetes.io/hostname': 'interlink-vk',
        zone: 'pod-zone',
      },
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: 'virtual-node.interlink/type', operator: 'In', values: ['virtual-kubelet'] }] },
            ],
          },
        },
      },
      tolerations: [
        { key: 'virtual-node.interlink/no-schedule', operator: 'Exists', effect: 'NoSchedule' },
        { key: 'virtual-kubelet.io/provider', operator: 'Exists' },
        { key: 'user.example/maintenance', operator: 'Equal', value: 'yes', effect: 'NoExecute', tolerationSeconds: 30 },
      ],
      initContainers: [
        { name: 'setup', image: 'busybox:1.36', command: ['sh', '-c', 'echo setup'] },
        {
          name: 'proxy',
          image: 'envoyproxy/envoy:v1.31.0',
          restartPolicy: 'Always',
          ports: [{ name: 'admin', containerPort: 9901, protocol: 'TCP' }],
          startupProbe: {
            tcpSocket: { port: 9901 },
            timeoutSeconds: 1,
            periodSeconds: 2,
            successThreshold: 1,
            failureThreshold: 30,
          },
        },
      ],
      containers: [
        {
          name: 'main',
          image: 'registry.example/app:2.1',
          imagePullPolicy: 'Always',
          command: ['/app/server'],
          args: ['--port=8080', '--config=/etc/app/app.conf'],
          workingDir: '/srv/app',
          ports: [
            { name: 'http', containerPort: 8080, protocol: 'TCP' },
            { name: 'stats', containerPort: 9125, protocol: 'UDP' },
          ],
          env: [
            { name: 'FIXED', value: 'literal' },
            { name: 'CONF', valueFrom: { configMapKeyRef: { name: 'shared', key: 'app.conf' } } },
            { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
          ],
          envFrom: [
            { prefix: 'CFG_', configMapRef: { name: 'env-settings' } },
            { secretRef: { name: 'extra-env', optional: true } },
          ],
          resources: {
            requests: { cpu: '500m', memory: '256Mi', 'nvidia.com/gpu': '1' },
            limits: { cpu: '2', memory: '1Gi', 'nvidia.com/gpu': '1' },
          },
          livenessProbe: {
            httpGet: { path: '/healthz', port: 8080, scheme: 'HTTP' },
            initialDelaySeconds: 5,
            timeoutSeconds: 2,
            periodSeconds: 10,
            successThreshold: 1,
            failureThreshold: 3,
          },
          readinessProbe: {
            exec: { command: ['cat', '/tmp/ready'] },
            initialDelaySeconds: 1,
            timeoutSeconds: 1,
            periodSeconds: 5,
            successThreshold: 2,
            failureThreshold: 6,
          },
          startupProbe: {
            tcpSocket: { port: 'http' },
            timeoutSeconds: 1,
            periodSeconds: 2,
            successThreshold: 1,
            failureThreshold: 30,
          },
          lifecycle: {
            postStart: { exec: { command: ['sh', '-c', 'touch /tmp/started'] } },
            preStop: { httpGet: { path: '/drain', port: 8080, scheme: 'HTTP' } },
          },
          securityContext: {
            readOnlyRootFilesystem: true,
            allowPrivilegeEscalation: false,
            runAsNonRoot: true,
            capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] },
          },
          volumeMounts: [
            { name: 'shared', mountPath: '/etc/app' },
            { name: 'creds', mountPath: '/etc/creds', readOnly: true },
            { name: 'scratch', mountPath: '/scratch' },
            { name: 'kube-api-access-q7x2z', mountPath: TOKEN_PATH, readOnly: true },
          ],
        },
        {
          name: 'helper',
          image: 'busybox:1.36',
          command: ['sh', '-c', 'sleep 3600'],
          env: [{ name: 'CONF', valueFrom: { configMapKeyRef: { name: 'shared', key: 'app.conf' } } }],
          volumeMounts: [
            { name: 'shared', mountPath: '/etc/app', readOnly: true },
            { name: 'kube-api-access-q7x2z', mountPath: TOKEN_PATH, readOnly: true },
          ],
        },
      ],
      volumes: [
        { name: 'shared', configMap: { name: 'shared', defaultMode: 420 } },
        { name: 'creds', secret: { secretName: 'creds', defaultMode: 256 } },
        { name: 'scratch', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
        {
          name: 'kube-api-access-q7x2z',
          projected: {
            defaultMode: 420,
            sources: [
              { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } },
              { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
              {
                downwardAPI: {
                  items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
                },
              },
            ],
          },
        },
      ],
    },
    status: { phase: 'Pending', qosClass: 'Burstable' },
  };
  // As InterLink builds it: init containers first, each entry with what that container mounts.
  const body = createBody(pod as unknown as Body, [
    { name: 'setup', ...NOTHING_MOUNTED },
    { name: 'proxy', ...NOTHING_MOUNTED },
    { name: 'main', configMaps: [shared, envSettings], secrets: [creds], projectedvolumemaps: [tokenMap], emptyDirs: null },
    { name: 'helper', configMaps: [shared], secrets: null, projectedvolumemaps: [tokenMap], emptyDirs: null },
  ]);

  let answer: PluginAnswer;
  let remote: PodJson;
  let configMaps: DataJson[];
  let secrets: DataJson[];

  const copyOf = (list: DataJson[], sourceName: string): DataJson => {
    const found = list.filter((o) => o.metadata.annotations?.['interlink.io/source.name'] === sourceName);
    expect(found).toHaveLength(1);
    const [copy] = found;
    if (copy === undefined) throw new Error(`no copy of ${sourceName}`);
    return copy;
  };
  const copyName = (list: DataJson[], sourceName: string): string => copyOf(list, sourceName).metadata.name ?? '';

  beforeAll(async () => {
    // The user pre-provisioned the remote namespace and its service account.
    await kubeOk('POST', '/api/v1/namespaces', { metadata: { name: ns } });
    await kubeOk('POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name: 'builder' } });
    answer = await plugin.send('POST', '/create', body);
    if (answer.status !== 200) throw new Error(`create: ${answer.status} ${answer.text}`);
    remote = await remotePodOf(uid);
    configMaps = await labelled<DataJson>('configmaps', uid, ns);
    secrets = await labelled<DataJson>('secrets', uid, ns);
  }, 60_000);

  it('answers exactly 200 with PodUID = local uid and PodJID = the remote pod uid', () => {
    expect(ok(answer)).toEqual({ PodUID: uid, PodJID: remote.metadata.uid });
    expect(remote.metadata.namespace).toBe(ns);
  });

  // --- 1. fidelity ------------------------------------------------------------------
  const keptFields: [string, (p: PodJson) => unknown][] = [
    ['command and args', (p) => [container(p, 'main').command, container(p, 'main').args]],
    ['imagePullPolicy', (p) => container(p, 'main').imagePullPolicy],
    ['workingDir', (p) => container(p, 'main').workingDir],
    ['ports (TCP and UDP)', (p) => container(p, 'main').ports],
    ['resources incl. nvidia.com/gpu requests and limits', (p) => container(p, 'main').resources],
    ['livenessProbe (httpGet)', (p) => container(p, 'main').livenessProbe],
    ['readinessProbe (exec, successThreshold 2)', (p) => container(p, 'main').readinessProbe],
    ['startupProbe (tcpSocket on a named port)', (p) => container(p, 'main').startupProbe],
    ['lifecycle postStart and preStop hooks', (p) => container(p, 'main').lifecycle],
    ['container securityContext (readOnlyRootFilesystem, capabilities)', (p) => container(p, 'main').securityContext],
    ['literal env values', (p) => (container(p, 'main').env as { name: string }[]).find((e) => e.name === 'FIXED')],
    [
      'volumeMounts (same paths, same volume names)',
      (p) => [container(p, 'main').volumeMounts, container(p, 'helper').volumeMounts],
    ],
    ['init containers, in order', (p) => (p.spec.initContainers ?? []).map((c) => c.name)],
    [
      'native sidecar (init container with restartPolicy Always, its ports and probe)',
      (p) => {
        const c = container(p, 'proxy');
        return { restartPolicy: c.restartPolicy, ports: c.ports, startupProbe: c.startupProbe, image: c.image };
      },
    ],
    ['pod securityContext', (p) => p.spec.securityContext],
    ['imagePullSecrets (kept by name: InterLink sends none)', (p) => p.spec.imagePullSecrets],
    ['dnsPolicy', (p) => p.spec.dnsPolicy],
    ['dnsConfig', (p) => p.spec.dnsConfig],
    ['hostAliases', (p) => p.spec.hostAliases],
    ['restartPolicy and terminationGracePeriodSeconds', (p) => [p.spec.restartPolicy, p.spec.terminationGracePeriodSeconds]],
    ['emptyDir volume (medium, sizeLimit)', (p) => volume(p, 'scratch')],
  ];
  it.each(keptFields)('1. keeps %s', (_what, pick) => {
    expect(pick(pod)).toBeDefined();
    expect(pick(remote)).toEqual(pick(pod));
  });

  it('envFrom: a ConfigMap InterLink sent points at its copy (prefix kept); one it did not send is kept by name', () => {
    expect(container(remote, 'main').envFrom).toEqual([
      { prefix: 'CFG_', configMapRef: { name: copyName(configMaps, 'env-settings') } },
      { secretRef: { name: 'extra-env', optional: true } },
    ]);
    expect(copyOf(configMaps, 'env-settings').data).toEqual(envSettings.data);
  });

  // --- 2. dropped and rewritten ---------------------------------------------------------
  it('drops nodeName, priority class and the local metadata (uid, resourceVersion, owners)', () => {
    expect(remote.spec.nodeName).toBeUndefined();
    expect(remote.spec.priorityClassName).toBeUndefined();
    expect(remote.spec.serviceAccount).toBe('builder'); // the API server mirrors serviceAccountName into the alias
    expect(remote.metadata.uid).not.toBe(uid);
    expect(remote.metadata.ownerReferences).toBeUndefined();
  });

  it('node selector: virtual-node entries gone, offloading.node_selector merged under the pod’s own keys', () => {
    expect(remote.spec.nodeSelector).toEqual({ pool: 'batch', zone: 'pod-zone' });
    expect(remote.spec.affinity).toBeUndefined();
  });

  it('tolerations: virtual-node ones gone, the pod’s own kept, offloading.node_tolerations appended', () => {
    // DefaultTolerationSeconds admission adds node.kubernetes.io/{not-ready,unreachable}.
    const ours = (remote.spec.tolerations ?? []).filter((t) => !(t.key ?? '').startsWith('node.kubernetes.io/'));
    expect(ours).toEqual([
      { key: 'user.example/maintenance', operator: 'Equal', value: 'yes', effect: 'NoExecute', tolerationSeconds: 30 },
      CONFIGURED_TOLERATION,
    ]);
  });

  it('serviceAccountName kept when the remote namespace has it; no remote token added (automount false)', () => {
    expect(remote.spec.serviceAccountName).toBe('builder');
    expect(remote.spec.automountServiceAccountToken).toBe(false);
    expect((remote.spec.volumes ?? []).map((v) => v.name)).toEqual(['shared', 'creds', 'scratch', 'kube-api-access-q7x2z']);
  });

  it('the kube-api-access projected volume becomes a Secret copy at the same path with token, ca.crt, namespace', () => {
    const token = volume(remote, 'kube-api-access-q7x2z');
    expect(token.projected).toBeUndefined();
    const secretName = copyName(secrets, 'kube-api-access-q7x2z');
    expect(token.secret).toEqual({
      secretName,
      defaultMode: 420,
      items: [
        { key: 'ca.crt', path: 'ca.crt' },
        { key: 'namespace', path: 'namespace' },
        { key: 'token', path: 'token' },
      ],
    });
    for (const name of ['main', 'helper']) {
      expect(container(remote, name).volumeMounts).toContainEqual({
        name: 'kube-api-access-q7x2z',
        mountPath: TOKEN_PATH,
        readOnly: true,
      });
    }
    const data = copyOf(secrets, 'kube-api-access-q7x2z').data ?? {};
    const decoded = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
    expect(decoded).toEqual({ token: tokenText, 'ca.crt': caText, namespace: local });
  });

  // --- 3. data ------------------------------------------------------------------------------
  it('a ConfigMap mounted by two containers is copied ONCE, and both containers’ mounts and env use that copy', () => {
    const sources = configMaps.map((c) => c.metadata.annotations?.['interlink.io/source.name']);
    expect(sources.sort()).toEqual(['env-settings', 'shared']);
    const sharedCopy = copyName(configMaps, 'shared');
    expect(volume(remote, 'shared').configMap).toEqual({ name: sharedCopy, defaultMode: 420 });
    for (const name of ['main', 'helper']) {
      expect((container(remote, name).volumeMounts as { name: string }[]).some((m) => m.name === 'shared')).toBe(true);
      expect(container(remote, name).env).toContainEqual({
        name: 'CONF',
        valueFrom: { configMapKeyRef: { name: sharedCopy, key: 'app.conf' } },
      });
    }
  });

  it('ConfigMap binaryData and Secret data are byte-for-byte equal; labels of the source kept', () => {
    const sharedCopy = copyOf(configMaps, 'shared');
    expect(sharedCopy.data).toEqual(shared.data);
    expect(sharedCopy.binaryData).toEqual(shared.binaryData);
    expect(Buffer.from(sharedCopy.binaryData?.['blob.bin'] ?? '', 'base64').equals(Buffer.from(binary, 'base64'))).toBe(true);
    expect(sharedCopy.metadata.labels).toMatchObject({ team: 'data', [UID_LABEL]: uid });
    const credsCopy = copyOf(secrets, 'creds');
    expect(credsCopy.data).toEqual(creds.data);
    expect(credsCopy.type).toBe('Opaque');
  });

  it('the Secret volume and secretKeyRef point at the Secret copy', () => {
    const credsCopy = copyName(secrets, 'creds');
    expect(volume(remote, 'creds').secret).toEqual({ secretName: credsCopy, defaultMode: 256 });
    expect(container(remote, 'main').env).toContainEqual({
      name: 'PASSWORD',
      valueFrom: { secretKeyRef: { name: credsCopy, key: 'password' } },
    });
  });

  it('every copy (2 ConfigMaps, 2 Secrets) has an ownerReference to the remote pod', () => {
    expect(configMaps).toHaveLength(2);
    expect(secrets).toHaveLength(2);
    for (const copy of [...configMaps, ...secrets]) {
      expect(copy.metadata.ownerReferences).toEqual([
        { apiVersion: 'v1', kind: 'Pod', name: remote.metadata.name, uid: remote.metadata.uid },
      ]);
    }
  });

  // --- 4. labels and annotations --------------------------------------------------------
  it('labels: the pod’s own plus interlink.io/source.pod_uid and app.kubernetes.io/managed-by; source annotations', () => {
    expect(remote.metadata.labels).toEqual({
      app: 'rich',
      tier: 'backend',
      'interlink.io': 'offloading',
      [UID_LABEL]: uid,
      'app.kubernetes.io/managed-by': 'interlink-k8s',
    });
    expect(remote.metadata.annotations).toEqual({
      'example.org/owner': 'team-a',
      'interlink.io/source.uid': uid,
      'interlink.io/source.name': 'rich',
      'interlink.io/source.namespace': local,
    });
  });
});

describe('service account fallback', () => {
  it('uses `default` when the remote namespace lacks the pod’s service account', async () => {
    const local = freshNamespace('sa');
    const { uid, body } = simplePod(local, { spec: { serviceAccountName: 'ghost' } });
    ok(await plugin.send('POST', '/create', body));
    expect((await remotePodOf(uid)).spec.serviceAccountName).toBe('default');
  });
});

// =====================================================================================
// 4. names
// =====================================================================================

describe('names the remote cluster accepts', () => {
  it('two 63-character local namespaces sharing their first 60 characters get distinct, valid remote namespaces', async () => {
    const head = `long-${randomBytes(3).toString('hex')}-`.padEnd(60, 'n');
    const locals = [`${head}aaa`, `${head}bbb`];
    expect(locals.map((l) => l.length)).toEqual([63, 63]);
    const namespaces: string[] = [];
    for (const local of locals) {
      const { uid, body } = simplePod(local);
      ok(await plugin.send('POST', '/create', body));
      const pod = await remotePodOf(uid);
      namespaces.push(pod.metadata.namespace ?? '');
      expect(pod.metadata.annotations?.['interlink.io/source.namespace']).toBe(local);
    }
    for (const name of namespaces) {
      expect(name.length).toBeLessThanOrEqual(63);
      expect(name).toMatch(DNS_LABEL);
      expect(name.startsWith(`${PREFIX}-long-`)).toBe(true);
    }
    expect(new Set(namespaces).size).toBe(2);
  });

  it('a 253-character pod name becomes a valid DNS label; the hostname is the local one cut at 63', async () => {
    const local = freshNamespace('names');
    const name = `analysis-${'step'.repeat(70)}`.slice(0, 252) + 'z';
    expect(name).toHaveLength(253);
    const { uid, body } = simplePod(local, { name });
    ok(await plugin.send('POST', '/create', body));
    const pod = await remotePodOf(uid);
    const remoteName = pod.metadata.name ?? '';
    expect(remoteName.length).toBeLessThanOrEqual(63);
    expect(remoteName).toMatch(DNS_LABEL);
    expect(name.startsWith(remoteName.slice(0, 40))).toBe(true);
    expect(pod.spec.hostname).toBe(name.slice(0, 63));
    expect(pod.metadata.annotations?.['interlink.io/source.name']).toBe(name);
    expect(pod.metadata.labels).toMatchObject({
      app: 'simple',
      [UID_LABEL]: uid,
      'app.kubernetes.io/managed-by': 'interlink-k8s',
    });
  });
});

// =====================================================================================
// 5. PVCs
// =====================================================================================

describe('PersistentVolumeClaims', () => {
  const pvcVolume = { name: 'data', persistentVolumeClaim: { claimName: 'results' } };
  const mounted = (pod: PodJson): void => {
    (pod.spec.containers[0]?.volumeMounts as Body[]).push({ name: 'data', mountPath: '/data' });
  };

  const volumes = [{ name: 'cfg', configMap: { name: 'settings' } }, pvcVolume];

  it('a claim not opted in via interlink.io/remote-pvc → 400 naming volume and claim; nothing made remotely', async () => {
    const local = freshNamespace('pvc');
    const { pod, uid, body } = simplePod(local, { spec: { volumes } });
    mounted(pod);
    const error = failed(await plugin.send('POST', '/create', { ...body, pod }), 400);
    expect(error.message).toContain('"data"');
    expect(error.message).toContain('"results"');
    expect(error.message).toContain('interlink.io/remote-pvc');
    expect(error.field).toBe('pod.spec.volumes[1].persistentVolumeClaim.claimName');
    expect(await nothingLabelled(uid)).toBe(true);
    expect(await kubeGet(`/api/v1/namespaces/${remoteNs(local)}`)).toBeUndefined();
  });

  it('an opted-in claim → the remote pod’s volume uses the remote claim of that name', async () => {
    const local = freshNamespace('pvc');
    const ns = remoteNs(local);
    // The user pre-provisions the claim (InterLink 0.6.2 sends no claim definitions).
    await kubeOk('POST', '/api/v1/namespaces', { metadata: { name: ns } });
    await kubeOk('POST', `/api/v1/namespaces/${ns}/persistentvolumeclaims`, {
      metadata: { name: 'results' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    });
    const { pod, uid, body } = simplePod(local, { spec: { volumes } });
    mounted(pod);
    pod.metadata.annotations = { 'interlink.io/remote-pvc': 'other, results' };
    ok(await plugin.send('POST', '/create', { ...body, pod }));
    const remote = await remotePodOf(uid);
    expect(volume(remote, 'data')).toEqual(pvcVolume);
    expect(container(remote, 'main').volumeMounts).toContainEqual({ name: 'data', mountPath: '/data' });
  });
});

// =====================================================================================
// 6. idempotency and failures
// =====================================================================================

describe('idempotency', () => {
  it.each([
    ['one after the other', false],
    ['concurrently', true],
  ])('the same create twice (%s) → 200 both times, the same PodJID, one remote pod, one copy', async (_how, concurrent) => {
    const local = freshNamespace('twice');
    const { uid, body } = simplePod(local);
    const send = () => plugin.send('POST', '/create', body);
    const answers = concurrent ? await Promise.all([send(), send()]) : [await send(), await send()];
    const [first, second] = answers.map((a) => ok(a) as { PodUID: string; PodJID: string });
    expect(second).toEqual(first);
    const pod = await remotePodOf(uid);
    expect(first?.PodJID).toBe(pod.metadata.uid);
    expect(await labelled('configmaps', uid)).toHaveLength(1);
  });
});

describe('a create the remote cluster refuses', () => {
  const cases: [string, (local: string) => { uid: string; body: Body }, RegExp][] = [
    [
      'the pod (a container name the API server rejects, which the translator lets through)',
      (local) => {
        const made = simplePod(local);
        for (const entry of [...made.pod.spec.containers, ...(made.body.container as Body[])]) {
          if (entry.name === 'main') entry.name = 'Main_Container';
        }
        return made;
      },
      /spec\.containers\[0\]\.name/,
    ],
    [
      'a Secret copy, after the pod and a ConfigMap copy exist (a kubernetes.io/tls Secret without its keys)',
      (local) => {
        const made = simplePod(local);
        const tls = { metadata: { name: 'cert', namespace: local }, type: 'kubernetes.io/tls', data: { 'other.pem': 'AAAA' } };
        made.pod.spec.volumes?.push({ name: 'cert', secret: { secretName: 'cert' } });
        for (const entry of made.body.container as Body[]) if (entry.name === 'side') entry.secrets = [tls];
        return made;
      },
      /tls\.crt/,
    ],
  ];

  it.each(cases)('refused: %s → 422 with the remote reason, and nothing left behind', async (_what, make, reason) => {
    const local = freshNamespace('refused');
    const { uid, body } = make(local);
    const error = failed(await plugin.send('POST', '/create', body), 422);
    expect(error.code).toBe('unprocessable');
    expect(error.message).toMatch(/^remote cluster refused to /);
    expect(error.message).toMatch(reason);
    expect(error.message.length).toBeLessThan(1000);
    expect(await nothingLabelled(uid)).toBe(true);
    // The namespace this call created is taken back too.
    await eventually('namespace taken back', () => namespaceGoing(remoteNs(local)));
  });

  it('(not a refusal) a negative terminationGracePeriodSeconds is accepted: the API server turns it into 1', async () => {
    const local = freshNamespace('grace');
    const { uid, body } = simplePod(local, { spec: { terminationGracePeriodSeconds: -5 } });
    ok(await plugin.send('POST', '/create', body));
    expect((await remotePodOf(uid)).spec.terminationGracePeriodSeconds).toBe(1);
  });
});

// =====================================================================================
// 7. bad input
// =====================================================================================

describe('bad input is a 400 naming the field', () => {
  const { pod: goodPod } = simplePod('bad-input');
  const noUid = { ...goodPod, metadata: { name: 'job', namespace: 'bad-input' } };
  const cases: [string, string, string, { body?: unknown; raw?: string }, string, string][] = [
    [
      'create without pod.metadata.uid',
      'POST',
      '/create',
      { body: createBody(noUid, []) },
      'pod.metadata.uid',
      'pod.metadata.uid',
    ],
    ['malformed JSON', 'POST', '/create', { raw: '{"pod": {"metadata": ' }, 'not valid JSON', 'body'],
    [
      'getLogs without ContainerName',
      'GET',
      '/getLogs',
      { body: { Namespace: 'bad-input', PodUID: randomUUID(), PodName: 'job', Opts: { Tail: 10 } } },
      'ContainerName',
      'ContainerName',
    ],
  ];
  it.each(cases)('%s', async (_what, method, path, input, inMessage, field) => {
    const answer =
      input.raw === undefined
        ? await plugin.send(method, path, input.body)
        : await sendRaw(method, path, input.raw);
    const error = failed(answer, 400);
    expect(error.code).toBe('bad_request');
    expect(error.message).toContain(inMessage);
    expect(error.field).toBe(field);
  });
});

function sendRaw(method: string, path: string, raw: string): Promise<PluginAnswer> {
  return exchange(plugin.target, method, path, { rawBody: raw, headers: { 'content-type': 'application/json' } });
}

// =====================================================================================
// 8. status
// =====================================================================================

describe('GET /status with a JSON body, as InterLink sends it', () => {
  const init: ContainerJson[] = [
    { name: 'setup', image: 'busybox:1.36', command: ['true'] },
    { name: 'proxy', image: 'busybox:1.36', restartPolicy: 'Always', command: ['sleep', '600'] },
  ];
  const status = async (pod: PodJson): Promise<PodStatusJson> => {
    const answer = ok(await plugin.send('GET', '/status', [pod])) as PodStatusJson[];
    expect(answer).toHaveLength(1);
    const [one] = answer;
    if (one === undefined) throw new Error('empty status answer');
    return one;
  };
  const started = '2026-07-01T10:00:00Z';
  const cs = (name: string, state: Body) => ({
    name,
    state,
    ready: 'running' in state,
    restartCount: 0,
    image: 'busybox:1.36',
    imageID: '',
  });
  /** Plays the kubelet (or the scheduler): writes the remote pod's status through `pods/status`. */
  const writeStatus = async (remote: PodJson, status: Body): Promise<void> => {
    const path = `/api/v1/namespaces/${remote.metadata.namespace ?? ''}/pods/${remote.metadata.name ?? ''}`;
    const current = await kubeOk<PodJson>('GET', path);
    await kubeOk('PUT', `${path}/status`, { ...current, status: { ...current.status, ...status } });
  };

  it('pending → every container and init container waiting (never an empty list); then as the kubelet reports', async () => {
    const local = freshNamespace('status');
    const { pod, uid, body } = simplePod(local, { init });
    ok(await plugin.send('POST', '/create', body));
    const remote = await remotePodOf(uid);

    const pending = await status(pod);
    expect(pending).toMatchObject({ name: 'job', namespace: local, UID: uid, JID: remote.metadata.uid });
    expect(pending.initContainers.map((c) => [c.name, Object.keys(c.state)])).toEqual([
      ['setup', ['waiting']],
      ['proxy', ['waiting']],
    ]);
    expect(pending.containers.map((c) => [c.name, Object.keys(c.state)])).toEqual([
      ['main', ['waiting']],
      ['side', ['waiting']],
    ]);

    // The init container done, the sidecar and the containers running.
    await writeStatus(remote, {
      phase: 'Running',
      initContainerStatuses: [
        cs('setup', { terminated: { exitCode: 0, reason: 'Completed', startedAt: started, finishedAt: started } }),
        cs('proxy', { running: { startedAt: started } }),
      ],
      containerStatuses: [cs('main', { running: { startedAt: started } }), cs('side', { running: { startedAt: started } })],
    });
    const running = await eventually('reported running', async () => {
      const s = await status(pod);
      return s.containers.every((c) => c.state.running !== undefined) ? s : undefined;
    });
    expect(running.UID).toBe(uid);
    expect(running.JID).toBe(remote.metadata.uid);
    expect(running.containers.map((c) => c.state.running?.startedAt)).toEqual([started, started]);
    expect(running.initContainers.map((c) => [c.name, Object.keys(c.state)[0]])).toEqual([
      ['setup', 'terminated'],
      ['proxy', 'running'],
    ]);
    expect(running.initContainers[0]?.state.terminated?.exitCode).toBe(0);
  });

  const outcomes: [string, Body, (s: PodStatusJson) => boolean, Record<string, unknown>][] = [
    [
      'evicted (phase Failed, no container statuses) → terminated, non-zero, with the pod’s reason',
      { phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' },
      (s) => s.containers.every((c) => c.state.terminated !== undefined),
      { terminated: { exitCode: 137, reason: 'Evicted', message: 'The node was low on resource: memory.' } },
    ],
    [
      'completed (phase Succeeded, containers exited 0) → terminated with exit code 0',
      {
        phase: 'Succeeded',
        containerStatuses: ['main', 'side'].map((name) =>
          cs(name, { terminated: { exitCode: 0, reason: 'Completed', startedAt: started, finishedAt: started } }),
        ),
      },
      (s) => s.containers.every((c) => c.state.terminated !== undefined),
      { terminated: { exitCode: 0, reason: 'Completed', startedAt: started, finishedAt: started } },
    ],
  ];
  it('unschedulable on the remote cluster → waiting with the real scheduler’s reason and message', async () => {
    // The pods of this file select nodes the remote cluster does not have, so
    // the remote kube-scheduler marks them PodScheduled=False.
    const local = freshNamespace('status');
    const { pod, body } = simplePod(local);
    ok(await plugin.send('POST', '/create', body));
    const answer = await eventually('unschedulable reported', async () => {
      const s = await status(pod);
      return s.containers.every((c) => c.state.waiting?.reason === 'Unschedulable') ? s : undefined;
    });
    for (const c of answer.containers) {
      expect(c.state.waiting?.message).toMatch(/nodes are available: .*didn't match Pod's node affinity\/selector/);
    }
  });

  it.each(outcomes)('%s', async (_what, remoteStatus, reached, expected) => {
    const local = freshNamespace('status');
    const { pod, uid, body } = simplePod(local);
    ok(await plugin.send('POST', '/create', body));
    await writeStatus(await remotePodOf(uid), remoteStatus);
    const answer = await eventually('status reported', async () => {
      const s = await status(pod);
      return reached(s) ? s : undefined;
    });
    expect(answer.containers.map((c) => [c.name, c.state])).toEqual([
      ['main', expected],
      ['side', expected],
    ]);
  });

  // InterLink's VK sends the create asynchronously and polls the pod's status
  // meanwhile; it annotates the pod with `JobID` only once the create answered.
  // Until then a pod not found remotely is about to be created, not lost: reporting
  // it terminated would make the VK mark the local pod Failed for good.
  it('a pod whose create is still in flight → waiting, never terminated', async () => {
    const local = freshNamespace('inflight');
    const first = simplePod(local, { name: 'first' });
    const second = simplePod(local, { name: 'second' });
    ok(await plugin.send('POST', '/create', first.body));
    // Emptying the namespace makes the plugin delete it: the next create waits for it to go.
    ok(await plugin.send('POST', '/delete', first.pod));
    const create = { done: false };
    const creating = plugin.send('POST', '/create', second.body).finally(() => {
      create.done = true;
    });
    const during: PodStatusJson[] = [];
    do {
      during.push(await status(second.pod));
      await new Promise((resolve) => setTimeout(resolve, 200));
    } while (!create.done);
    ok(await creating);
    expect(during.length).toBeGreaterThan(1);
    const states = during.flatMap((s) => s.containers.map((c) => c.state.terminated?.reason ?? 'not terminated'));
    expect(new Set(states)).toEqual(new Set(['not terminated']));
  });

  it('a remote pod deleted behind the plugin’s back → every container terminated with a non-zero exit code', async () => {
    const local = freshNamespace('status');
    const { pod, uid, body } = simplePod(local, { init });
    const { PodJID } = ok(await plugin.send('POST', '/create', body)) as { PodJID: string };
    const remote = await remotePodOf(uid);
    await kubeOk('DELETE', `/api/v1/namespaces/${remote.metadata.namespace ?? ''}/pods/${remote.metadata.name ?? ''}`);
    const lost = await eventually('reported lost', async () => {
      const s = await status(acknowledgedByVirtualKubelet(pod, PodJID));
      return s.containers.every((c) => c.state.terminated !== undefined) ? s : undefined;
    });
    expect(lost.UID).toBe(uid);
    for (const c of [...lost.containers, ...lost.initContainers]) {
      expect(c.state.terminated?.exitCode).not.toBe(0);
      expect(c.state.terminated?.reason).toBe('RemotePodLost');
    }
    expect(lost.initContainers.map((c) => c.name)).toEqual(['setup', 'proxy']);
  });
});

// =====================================================================================
// 9. delete
// =====================================================================================

describe('delete', () => {
  it.each(['POST', 'DELETE'])('%s /delete → 200; nothing labelled with the uid left; its namespace goes', async (method) => {
    const local = freshNamespace('del');
    const { pod, uid, body } = simplePod(local);
    ok(await plugin.send('POST', '/create', body));
    expect(await remotePodOf(uid)).toBeDefined();
    const answer = await plugin.send(method, '/delete', pod);
    expect(answer.status).toBe(200);
    await eventually('nothing labelled', () => nothingLabelled(uid));
    await eventually('namespace terminating or gone', () => namespaceGoing(remoteNs(local)));
  });

  it.each([
    ['right after the delete that emptied it (namespace Terminating)', false],
    ['racing the delete of its last pod', true],
  ])('a create into the namespace the plugin is deleting, %s → 200, the pod in a live namespace', async (_how, racing) => {
    const local = freshNamespace('churn');
    const first = simplePod(local, { name: 'first' });
    const second = simplePod(local, { name: 'second' });
    ok(await plugin.send('POST', '/create', first.body));
    const remove = () => plugin.send('POST', '/delete', first.pod);
    const create = () => plugin.send('POST', '/create', second.body);
    const [removed, created] = racing ? await Promise.all([remove(), create()]) : [await remove(), await create()];
    expect(removed.status).toBe(200);
    ok(created);
    const pod = await remotePodOf(second.uid);
    const ns = await kubeGet<{ metadata: Meta }>(`/api/v1/namespaces/${pod.metadata.namespace ?? ''}`);
    expect(ns?.metadata.deletionTimestamp).toBeUndefined();
    await eventually('first pod gone', () => nothingLabelled(first.uid));
  });

  it('delete of a pod that was never created → 200', async () => {
    const { pod } = simplePod(freshNamespace('never'));
    expect((await plugin.send('POST', '/delete', pod)).status).toBe(200);
  });
});

// =====================================================================================
// 9. delete with the local pod's grace period, on the real node
// =====================================================================================

describe('delete with the local deletion grace period (a pod running on the real node)', () => {
  // This file's plugin selects nodes the remote cluster does not have; this
  // one lets the remote kube-scheduler bind the pod to the real node.
  let onNode: InProcessPlugin;
  beforeAll(async () => {
    onNode = await startPlugin({ OFFLOADING_NODE_SELECTOR: '{}', OFFLOADING_NODE_TOLERATIONS: '[]' });
    await eventually('plugin ready', async () => ((await onNode.client.send('GET', '/readyz')).status === 200 ? true : undefined));
  }, 60_000);
  afterAll(async () => {
    await onNode.close();
  });

  it('kubectl delete --grace-period=1 → the remote pod, which ignores SIGTERM, is gone in seconds, not after its own 60 s', async () => {
    const local = freshNamespace('grace');
    const uid = randomUUID();
    const pod: PodJson = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'stubborn', namespace: local, uid },
      spec: {
        nodeName: 'interlink-vk',
        restartPolicy: 'Never',
        terminationGracePeriodSeconds: 60,
        containers: [
          { name: 'main', image: 'busybox:1.36', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', "trap '' TERM; sleep 3600"] },
        ],
      },
      status: { phase: 'Pending' },
    };
    ok(await onNode.client.send('POST', '/create', createBody(pod as unknown as Body, [{ name: 'main', ...NOTHING_MOUNTED }])));
    const runningPod = await eventually(
      'remote container running',
      async () => {
        const [remote] = await labelled<PodJson>('pods', uid);
        const statuses = (remote?.status?.containerStatuses ?? []) as ContainerStatusJson[];
        return statuses.some((c) => c.state.running !== undefined) ? remote : undefined;
      },
      60_000,
    );
    const remotePath = `/api/v1/namespaces/${runningPod.metadata.namespace ?? ''}/pods/${runningPod.metadata.name ?? ''}`;

    // What the VK sends once `kubectl delete --grace-period=1` marked the local pod.
    const deleting = { ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date().toISOString(), deletionGracePeriodSeconds: 1 } };
    const t0 = Date.now();
    expect((await onNode.client.send('POST', '/delete', deleting)).status).toBe(200);
    // Marked with the local grace period (or, were the kubelet that quick, already gone).
    expect((await kubeGet<PodJson>(remotePath))?.metadata.deletionGracePeriodSeconds ?? 1).toBe(1);
    // Without the grace period passed on, the kubelet would wait the pod's own 60 s before its SIGKILL.
    await eventually('remote pod gone', async () => ((await kubeGet(remotePath)) === undefined ? true : undefined), 20_000);
    expect(Date.now() - t0).toBeLessThan(20_000);
    await eventually('nothing labelled', () => nothingLabelled(uid));
  }, 120_000);
});

// =====================================================================================
// 7. exactly 200 on every success
// =====================================================================================

describe('every success is exactly 200', () => {
  it('create, status, ping, logs, delete, healthz, readyz', async () => {
    const local = freshNamespace('two-hundred');
    const { pod, body } = simplePod(local);
    const calls: [string, string, unknown][] = [
      ['POST', '/create', body],
      ['GET', '/status', [pod]],
      ['POST', '/status', [pod]],
      ['GET', '/status', []],
      ['GET', '/getLogs', { Namespace: local, PodUID: pod.metadata.uid, PodName: 'job', ContainerName: 'main', Opts: {} }],
      ['DELETE', '/delete', pod],
      ['POST', '/delete', pod],
      ['GET', '/healthz', undefined],
      ['GET', '/readyz', undefined],
    ];
    const statuses: string[] = [];
    for (const [method, path, payload] of calls) {
      statuses.push(`${method} ${path} ${(await plugin.send(method, path, payload)).status}`);
    }
    expect(statuses).toEqual(calls.map(([method, path]) => `${method} ${path} 200`));
  });
});

// =====================================================================================
// 10. remote unreachable
// =====================================================================================

describe('remote API server unreachable', () => {
  let down: InProcessPlugin;
  beforeAll(async () => {
    const [closed] = await freePorts(1);
    // The reference key k8s.client_configuration overrides the kubeconfig's server.
    down = await startPlugin({ K8S_CLIENT_CONFIGURATION: JSON.stringify({ host: `https://127.0.0.1:${closed ?? 1}` }) });
  });
  afterAll(async () => {
    await down.close();
  });

  it('/create → 503 with a clear message', async () => {
    const { body } = simplePod(freshNamespace('down'));
    const error = failed(await down.client.send('POST', '/create', body), 503);
    expect(error.code).toBe('remote_unavailable');
    expect(error.message).toMatch(/^remote cluster unreachable/);
  });

  it('/readyz → 503 naming the failing check', async () => {
    const answer = await down.client.send('GET', '/readyz');
    expect(answer.status).toBe(503);
    const readiness = answer.json() as { status: string; checks: { name: string; ok: boolean; message?: string }[] };
    expect(readiness.status).toBe('not ready');
    expect(readiness.checks.find((c) => c.name === 'remote-api')).toMatchObject({ ok: false });
  });

  it.each([
    ['GET', '/status', 'status of a pod: never reported lost (that would fail the local pod)'],
    ['POST', '/delete', 'delete: the VK must not believe the remote pod is gone'],
  ])('%s %s → 503, %s', async (method, path) => {
    const { pod } = simplePod(freshNamespace('down'));
    const answer = await down.client.send(method, path, path === '/status' ? [pod] : pod);
    expect(failed(answer, 503).message).toMatch(/^remote cluster unreachable/);
  });

  it('ping (GET /status with []) is not a 200 claiming capacity', async () => {
    const answer = await down.client.send('GET', '/status', []);
    const claimsCapacity = answer.status === 200 && (answer.json() as { resources?: unknown }).resources !== undefined;
    expect(claimsCapacity).toBe(false);
    // What it answers today: a 503 in the error shape (the VK marks the node NotReady).
    expect(failed(answer, 503).message).toMatch(/remote cluster unreachable/);
  });
});

// =====================================================================================
// 11. logs
// =====================================================================================

describe('GET /getLogs', () => {
  const logRequest = (local: string, uid: string, containerName: string) => ({
    Namespace: local,
    PodUID: uid,
    PodName: 'job',
    ContainerName: containerName,
    Opts: { ...NO_LOG_OPTS, Tail: 10 },
  });

  it('an unknown container → 404 naming the container', async () => {
    const local = freshNamespace('logs');
    const { uid, body } = simplePod(local);
    ok(await plugin.send('POST', '/create', body));
    const error = failed(await plugin.send('GET', '/getLogs', logRequest(local, uid, 'nope')), 404);
    expect(error.message).toContain('"nope"');
    expect(error.field).toBe('ContainerName');
  });

  it('a pod never offloaded → 404 saying it has no remote pod', async () => {
    const local = freshNamespace('logs');
    const error = failed(await plugin.send('GET', '/getLogs', logRequest(local, randomUUID(), 'main')), 404);
    expect(error.message).toContain('has no remote pod');
  });

  // kube-apiserver answers an empty log for a pod bound to no node; the user gets no hint why.
  it('a pending, unscheduled remote pod → 200 and an empty log', async () => {
    const local = freshNamespace('logs');
    const { uid, body } = simplePod(local);
    ok(await plugin.send('POST', '/create', body));
    const answer = await plugin.send('GET', '/getLogs', logRequest(local, uid, 'main'));
    expect({ status: answer.status, text: answer.text }).toEqual({ status: 200, text: '' });
    expect(answer.headers['content-type']).toMatch(/^text\/plain/);
  });
});

describe('logs from a kubelet, through the remote API server', () => {
  // No kubelet runs here, so one stands in: an HTTPS server registered as a
  // Node's kubelet endpoint. The pod is bound to that Node, and the real
  // kube-apiserver proxies `pods/log` to it (without verifying its serving
  // certificate: the harness sets no --kubelet-certificate-authority).
  const nodeName = `fake-kubelet-${randomBytes(3).toString('hex')}`;
  const local = freshNamespace('kubelet-logs');
  const made = simplePod(local);
  const seen: URL[] = [];
  let dir: string;
  let kubelet: HttpsServer;
  let remote: PodJson;
  let release: () => void = () => undefined;
  const followGate = new Promise<void>((resolve) => {
    release = resolve;
  });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'interlink-k8s-fake-kubelet-'));
    const ca = await createCertificateAuthority(dir, 'fake-kubelet-ca');
    const cert = await ca.issue({
      stem: 'kubelet',
      commonName: nodeName,
      use: { kind: 'server', dnsNames: [nodeName], ipAddresses: ['127.0.0.1'] },
    });
    kubelet = createHttpsServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
      const url = new URL(req.url ?? '/', 'https://kubelet');
      seen.push(url);
      const [, , , podName, containerName] = url.pathname.split('/');
      if (containerName === 'side') {
        // What a kubelet answers for a container that has not started.
        res.writeHead(400, { 'content-type': 'text/plain' });
        res.end(`container "side" in pod "${podName ?? ''}" is waiting to start: ContainerCreating`);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' });
      if (url.searchParams.get('follow') === 'true') {
        res.write('first line\n');
        void followGate.then(() => res.end('second line\n'));
        return;
      }
      res.end('line 1\nline 2\n');
    });
    await new Promise<void>((resolve) => kubelet.listen(0, '127.0.0.1', resolve));
    const { port } = kubelet.address() as AddressInfo;
    await kubeOk('POST', '/api/v1/nodes', {
      metadata: { name: nodeName },
      spec: { unschedulable: true },
      status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: port } } },
    });
    ok(await plugin.send('POST', '/create', made.body));
    remote = await remotePodOf(made.uid);
    const { namespace = '', name = '' } = remote.metadata;
    await kubeOk('POST', `/api/v1/namespaces/${namespace}/pods/${name}/binding`, {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name },
      target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
    });
  }, 60_000);

  afterAll(async () => {
    release();
    // A bound pod waits for its kubelet to confirm deletion: force it.
    const { namespace = '', name = '' } = remote.metadata;
    const force = { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0 };
    await kube('DELETE', `/api/v1/namespaces/${namespace}/pods/${name}`, force);
    await kube('DELETE', `/api/v1/nodes/${nodeName}`);
    await new Promise((resolve) => kubelet.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  const request = (containerName: string, opts: Body) => ({
    Namespace: local,
    PodUID: made.uid,
    PodName: 'job',
    ContainerName: containerName,
    Opts: { ...NO_LOG_OPTS, ...opts },
  });

  it.each<[string, Body, Record<string, string>]>([
    [
      'Tail, Bytes, Timestamps, SinceTime',
      { Tail: 5, Bytes: 1024, Timestamps: true, SinceTime: '2026-07-01T10:00:00Z' },
      { tailLines: '5', limitBytes: '1024', timestamps: 'true', sinceTime: '2026-07-01T10:00:00Z' },
    ],
    [
      'Previous, SinceSeconds (wins over SinceTime)',
      { Previous: true, SinceSeconds: 60, SinceTime: '2026-07-01T10:00:00Z' },
      { previous: 'true', sinceSeconds: '60' },
    ],
    ['no options (Go zero SinceTime means unset)', {}, {}],
  ])('the container and %s reach the kubelet; its text comes back as 200 text/plain', async (_what, opts, query) => {
    const before = seen.length;
    const answer = await plugin.send('GET', '/getLogs', request('main', opts));
    expect({ status: answer.status, text: answer.text }).toEqual({ status: 200, text: 'line 1\nline 2\n' });
    expect(answer.headers['content-type']).toMatch(/^text\/plain/);
    const calls = seen.slice(before);
    expect(calls).toHaveLength(1);
    const [call] = calls;
    expect(call?.pathname).toBe(`/containerLogs/${remote.metadata.namespace ?? ''}/${remote.metadata.name ?? ''}/main`);
    expect(Object.fromEntries(call?.searchParams ?? [])).toEqual(query);
  });

  it('Follow streams: the first line arrives before the kubelet writes the second', async () => {
    const { res } = await openExchange(plugin.target, 'GET', '/getLogs', { body: request('main', { Follow: true }) });
    expect(res.statusCode).toBe(200);
    const chunks = res[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    let timer: NodeJS.Timeout | undefined;
    const first = await Promise.race([
      chunks.next(),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => {
          reject(new Error('no first chunk within 10 s: the answer is buffered, not streamed'));
        }, 10_000);
      }),
    ]).finally(() => {
      clearTimeout(timer);
    });
    expect(first.done).toBe(false);
    expect(String(first.value)).toBe('first line\n');
    release();
    let rest = '';
    for (let next = await chunks.next(); next.done !== true; next = await chunks.next()) rest += String(next.value);
    expect(rest).toBe('second line\n');
    expect(seen.at(-1)?.searchParams.get('follow')).toBe('true');
  });

  it('a container that has not started: a 4xx relaying the kubelet’s “waiting to start”', async () => {
    const error = failed(await plugin.send('GET', '/getLogs', request('side', {})), 422);
    expect(error.message).toContain('container "side"');
    expect(error.message).toContain('is waiting to start: ContainerCreating');
  });
});

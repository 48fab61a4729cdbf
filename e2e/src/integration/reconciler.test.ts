import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  NotFoundError,
  PluginError,
  RetrievedPodDataSchema,
  UnprocessableError,
  type PodStatus,
  type RetrievedPodData,
} from '@interlink-k8s/protocol';
import {
  ClientNodeRemoteApi,
  KubeApiError,
  KubernetesProvider,
  NAMESPACE_CREATED_BY_ANNOTATION,
  OFFLOADING_LABEL,
  REMOTE_POD_LOST_REASON,
  SOURCE_NAME_ANNOTATION,
  SOURCE_POD_UID_LABEL,
  buildKubeConfig,
  type CoreResource,
  type DeleteOptions,
  type ListOptions,
  type ListResult,
  type LogQuery,
  type RawObject,
  type RawPod,
  type RemoteApi,
  type ResourceTypes,
  type TranslateOptions,
  type WatchEvent,
  type WatchHandle,
  type WatchOptions,
} from '@interlink-k8s/remote-k8s';
import { startControlPlane, type ControlPlane } from '../harness/index.js';
import { acknowledgedByVirtualKubelet } from '../samples/sample-pod.js';
import { eventually as poll } from '../harness/eventually.js';

// A control plane of this file's own: the API server restart below must not
// disturb the shared one other test files use. No kubelet and no scheduler:
// pods stay Pending and unbound (so they are deleted at once); this test
// writes `pods/status` itself to play the kubelet.

const FIELD_MANAGER = 'interlink-k8s-e2e';
const translate: TranslateOptions = {
  namespacePrefix: 'offloading',
  namespacePrefixExclusions: [],
  nodeSelector: {},
  tolerations: [],
};

/** {@link RemoteApi} that counts the requests passing through it. */
class CountingApi implements RemoteApi {
  requests = 0;
  private readonly inner: ClientNodeRemoteApi;
  constructor(inner: ClientNodeRemoteApi) {
    this.inner = inner;
  }
  get<R extends CoreResource>(resource: R, name: string, namespace?: string): Promise<ResourceTypes[R]> {
    this.requests++;
    return this.inner.get(resource, name, namespace);
  }
  list<R extends CoreResource>(resource: R, options?: ListOptions): Promise<ListResult<ResourceTypes[R]>> {
    this.requests++;
    return this.inner.list(resource, options);
  }
  create<R extends CoreResource>(resource: R, manifest: RawObject): Promise<ResourceTypes[R]> {
    this.requests++;
    return this.inner.create(resource, manifest);
  }
  apply<R extends CoreResource>(resource: R, manifest: RawObject, fieldManager: string): Promise<ResourceTypes[R]> {
    this.requests++;
    return this.inner.apply(resource, manifest, fieldManager);
  }
  delete(resource: CoreResource, name: string, namespace?: string, options?: DeleteOptions): Promise<void> {
    this.requests++;
    return this.inner.delete(resource, name, namespace, options);
  }
  watch<R extends CoreResource>(
    resource: R,
    options: WatchOptions,
    onEvent: (event: WatchEvent<ResourceTypes[R]>) => void,
    signal: AbortSignal,
  ): Promise<WatchHandle> {
    this.requests++;
    return this.inner.watch(resource, options, onEvent, signal);
  }
  logs(namespace: string, name: string, query: LogQuery, signal: AbortSignal): Promise<Readable> {
    this.requests++;
    return this.inner.logs(namespace, name, query, signal);
  }
  ready(): Promise<void> {
    this.requests++;
    return this.inner.ready();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

let cp: ControlPlane;
let admin: ClientNodeRemoteApi;
let counting: CountingApi;
let provider: KubernetesProvider;
const notices: string[] = [];
const remoteErrors: { operation: string; error: Error }[] = [];

/** A create body: two containers mounting one ConfigMap (it arrives twice), one mounting a Secret. */
function podData(localNamespace: string, extraSpec: Record<string, unknown> = {}, uid = randomUUID()): RetrievedPodData {
  const configMap = { metadata: { name: 'settings', namespace: localNamespace, uid: randomUUID() }, data: { 'app.conf': 'debug=true' } };
  const secret = { metadata: { name: 'token', namespace: localNamespace }, data: { token: 'c2VjcmV0' }, type: 'Opaque' };
  return RetrievedPodDataSchema.parse({
    pod: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'job', namespace: localNamespace, uid, labels: { app: 'demo' } },
      spec: {
        nodeName: 'interlink-virtual-node',
        containers: [
          {
            name: 'main',
            image: 'busybox:1.36',
            command: ['sh', '-c', 'cat /cfg/app.conf'],
            volumeMounts: [
              { name: 'cfg', mountPath: '/cfg' },
              { name: 'creds', mountPath: '/creds' },
            ],
          },
          { name: 'side', image: 'busybox:1.36', volumeMounts: [{ name: 'cfg', mountPath: '/cfg' }] },
        ],
        volumes: [
          { name: 'cfg', configMap: { name: 'settings' } },
          { name: 'creds', secret: { secretName: 'token' } },
        ],
        ...extraSpec,
      },
    },
    container: [
      { name: 'main', configMaps: [configMap], secrets: [secret], projectedvolumemaps: null, emptyDirs: null },
      { name: 'side', configMaps: [configMap], secrets: null, projectedvolumemaps: null, emptyDirs: null },
    ],
    jobConfig: {},
  });
}

let namespaceCounter = 0;
/** A fresh local namespace per test, so tests do not share remote namespaces. */
const freshNamespace = (): string => `team-${++namespaceCounter}`;
const remoteNs = (local: string): string => `offloading-${local}`;

const eventually = <T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> =>
  poll(what, check, timeoutMs, { intervalMs: 100 });

async function absent(resource: CoreResource, name: string, namespace?: string): Promise<boolean> {
  try {
    await admin.get(resource, name, namespace);
    return false;
  } catch (err) {
    if (err instanceof KubeApiError && err.status === 404) return true;
    throw err;
  }
}

const byUid = (uid: string): ListOptions => ({ labelSelector: `${SOURCE_POD_UID_LABEL}=${uid}` });

async function remotePodOf(uid: string, namespace: string): Promise<RawPod> {
  const { items } = await admin.list('pods', { namespace, ...byUid(uid) });
  expect(items).toHaveLength(1);
  const [pod] = items;
  if (pod === undefined) throw new Error('no remote pod');
  return pod;
}

/** Plays the kubelet: writes container statuses through the `pods/status` subresource (raw JSON). */
async function reportContainers(pod: RawPod, phase: string, state: Record<string, unknown>): Promise<void> {
  const name = pod.metadata?.name ?? '';
  const namespace = pod.metadata?.namespace ?? '';
  const current = await admin.get('pods', name, namespace);
  const statuses = (current.spec?.containers ?? []).map((c) => ({
    name: c.name,
    ready: state.running !== undefined,
    restartCount: 0,
    image: 'docker.io/library/busybox:1.36',
    imageID: '',
    state,
  }));
  await putStatus({ ...current, status: { ...current.status, phase, containerStatuses: statuses } });
}

// The RemoteApi has no subresource writes (the plugin never needs one); the
// test uses client-node's request machinery directly for `pods/status`.
async function putStatus(pod: RawPod): Promise<void> {
  const { RequestContext, IsomorphicFetchHttpLibrary } = await import('@kubernetes/client-node');
  const kc = buildKubeConfig({ kind: 'file', path: cp.kubeconfigPath });
  const url = `${cp.apiServerUrl}/api/v1/namespaces/${pod.metadata?.namespace ?? ''}/pods/${pod.metadata?.name ?? ''}/status`;
  const ctx = new RequestContext(url, 'PUT');
  ctx.setHeaderParam('Content-Type', 'application/json');
  ctx.setBody(JSON.stringify(pod));
  await kc.applySecurityAuthentication(ctx);
  const res = await new IsomorphicFetchHttpLibrary().send(ctx).toPromise();
  if (res.httpStatusCode !== 200) throw new Error(`PUT pods/status: ${res.httpStatusCode} ${await res.body.text()}`);
}

beforeAll(async () => {
  cp = await startControlPlane({ name: 'reconciler' });
  admin = new ClientNodeRemoteApi(buildKubeConfig({ kind: 'file', path: cp.kubeconfigPath }));
  counting = new CountingApi(new ClientNodeRemoteApi(buildKubeConfig({ kind: 'file', path: cp.kubeconfigPath })));
  provider = new KubernetesProvider(
    counting,
    {
      translate,
      fieldManager: FIELD_MANAGER,
      sweepIntervalMs: 0,
      // The harness restarts the API server within seconds; keep retries short.
      podCache: { backoff: { initialMs: 200, maxMs: 2000 } },
    },
    {
      notice: (message) => notices.push(message),
      remoteError: (operation, error) => remoteErrors.push({ operation, error }),
    },
  );
  await provider.start();
  expect(await provider.waitForSync(15_000)).toBe(true);
}, 180_000);

afterAll(async () => {
  await provider.stop();
  await admin.close();
  await counting.close();
  await cp.stop();
});

describe('KubernetesProvider against a real kube-apiserver', () => {
  it('creates the namespace, the pod and its data objects, labelled and owned by the pod; a ConfigMap mounted twice is copied once', async () => {
    const local = freshNamespace();
    const data = podData(local);
    const uid = data.pod.metadata.uid;
    const answer = await provider.create(data);
    const ns = remoteNs(local);

    const pod = await remotePodOf(uid, ns);
    expect(answer).toEqual({ PodUID: uid, PodJID: pod.metadata?.uid });
    expect(pod.metadata?.labels).toMatchObject({ app: 'demo', [SOURCE_POD_UID_LABEL]: uid, [OFFLOADING_LABEL]: 'offloading' });
    expect(pod.metadata?.annotations?.[SOURCE_NAME_ANNOTATION]).toBe('job');
    expect(pod.spec?.nodeName).toBeUndefined();

    const namespace = await admin.get('namespaces', ns);
    expect(namespace.metadata?.labels?.[OFFLOADING_LABEL]).toBe('offloading');
    expect(namespace.metadata?.annotations?.[NAMESPACE_CREATED_BY_ANNOTATION]).toBe(FIELD_MANAGER);

    const configMaps = (await admin.list('configmaps', { namespace: ns, ...byUid(uid) })).items;
    const secrets = (await admin.list('secrets', { namespace: ns, ...byUid(uid) })).items;
    expect(configMaps).toHaveLength(1);
    expect(secrets).toHaveLength(1);
    for (const obj of [...configMaps, ...secrets]) {
      expect(obj.metadata?.ownerReferences).toEqual([
        { apiVersion: 'v1', kind: 'Pod', name: pod.metadata?.name, uid: pod.metadata?.uid },
      ]);
    }
    expect(configMaps[0]?.data).toEqual({ 'app.conf': 'debug=true' });
  });

  it('is idempotent: the same create twice gives one pod and the same answer', async () => {
    const data = podData(freshNamespace());
    const first = await provider.create(data);
    const second = await provider.create(data);
    expect(second).toEqual(first);
    const { items } = await admin.list('pods', byUid(data.pod.metadata.uid));
    expect(items).toHaveLength(1);
  });

  it('keeps the pod’s service account when the remote namespace has it, else uses default', async () => {
    const local = freshNamespace();
    const ns = remoteNs(local);
    await admin.create('namespaces', { metadata: { name: ns } });
    await admin.create('serviceaccounts', { metadata: { name: 'builder', namespace: ns } });
    const withAccount = podData(local, { serviceAccountName: 'builder' });
    const withoutAccount = podData(local, { serviceAccountName: 'ghost' });
    await provider.create(withAccount);
    await provider.create(withoutAccount);
    expect((await remotePodOf(withAccount.pod.metadata.uid, ns)).spec?.serviceAccountName).toBe('builder');
    expect((await remotePodOf(withoutAccount.pod.metadata.uid, ns)).spec?.serviceAccountName).toBe('default');
    // Not created by the plugin: deleting its last pod leaves the namespace alone.
    await provider.delete(withAccount.pod);
    await provider.delete(withoutAccount.pod);
    expect((await admin.get('namespaces', ns)).metadata?.deletionTimestamp).toBeUndefined();
  });

  it('carries pod fields over exactly, including ones it does not model', async () => {
    const local = freshNamespace();
    // Fields the remote API knows and this code never names: they must come
    // back from the API server as sent (client-node's typed models would
    // drop any field they do not know; the raw path has no model to lose it).
    const extraSpec = {
      hostAliases: [{ ip: '10.1.2.3', hostnames: ['db.internal'] }],
      dnsConfig: { options: [{ name: 'ndots', value: '2' }] },
      os: { name: 'linux' },
      hostUsers: true,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 7,
    };
    const data = podData(local, extraSpec);
    const container = data.pod.spec?.containers[0];
    if (container !== undefined) {
      container.resizePolicy = [{ resourceName: 'cpu', restartPolicy: 'NotRequired' }];
      container.securityContext = { readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } };
      container.workingDir = '/work';
    }
    await provider.create(data);
    const pod = await remotePodOf(data.pod.metadata.uid, remoteNs(local));
    expect(pod.spec).toMatchObject(extraSpec);
    expect(pod.spec?.containers?.[0]).toMatchObject({
      resizePolicy: [{ resourceName: 'cpu', restartPolicy: 'NotRequired' }],
      securityContext: { readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
      workingDir: '/work',
    });
  });

  it('fails clearly on a field the remote API server does not know, and leaves nothing behind', async () => {
    const local = freshNamespace();
    const data = podData(local, { aFieldFromTheFuture: { enabled: true } });
    const failure = provider.create(data);
    await expect(failure).rejects.toBeInstanceOf(UnprocessableError);
    await expect(failure).rejects.toThrow(/aFieldFromTheFuture/);
    await eventually('namespace gone', async () => ((await absent('namespaces', remoteNs(local))) ? true : undefined));
  });

  it('takes back what a failed create made (pod, data objects, the namespace it created)', async () => {
    const local = freshNamespace();
    // The local API would refuse this too; here it makes the remote apply fail after the namespace exists.
    const data = podData(local, { activeDeadlineSeconds: -1 });
    const failure = provider.create(data);
    await expect(failure).rejects.toBeInstanceOf(UnprocessableError);
    await expect(failure).rejects.toThrow(/activeDeadlineSeconds/);
    expect((await admin.list('pods', byUid(data.pod.metadata.uid))).items).toHaveLength(0);
    expect((await admin.list('configmaps', byUid(data.pod.metadata.uid))).items).toHaveLength(0);
    await eventually('namespace gone', async () => ((await absent('namespaces', remoteNs(local))) ? true : undefined));
  });

  it('delete removes everything and then the namespace it created', async () => {
    const local = freshNamespace();
    const data = podData(local);
    const uid = data.pod.metadata.uid;
    await provider.create(data);
    await provider.delete(data.pod);
    for (const resource of ['pods', 'configmaps', 'secrets'] as const) {
      expect((await admin.list(resource, byUid(uid))).items).toHaveLength(0);
    }
    // The namespace controller finishes the deletion.
    await eventually('namespace gone', async () => ((await absent('namespaces', remoteNs(local))) ? true : undefined));
  });

  it('delete of a pod that was never created resolves', async () => {
    await expect(provider.delete(podData(freshNamespace()).pod)).resolves.toBeUndefined();
  });

  it('answers status from the watch (no request per call), following what the kubelet reports', async () => {
    const local = freshNamespace();
    const data = podData(local);
    await provider.create(data);
    const pod = await remotePodOf(data.pod.metadata.uid, remoteNs(local));
    await reportContainers(pod, 'Running', { running: { startedAt: '2026-07-01T10:00:00Z' } });

    const running = await eventually('status running', async () => {
      const [status] = await provider.status([data.pod]);
      return status?.containers.every((c) => c.state.running !== undefined) === true ? status : undefined;
    });
    expect(running.JID).toBe(pod.metadata?.uid);
    expect(running.containers[0]?.state.running?.startedAt).toBe('2026-07-01T10:00:00Z');

    const before = counting.requests;
    for (let i = 0; i < 20; i++) await provider.status([data.pod]);
    expect(counting.requests).toBe(before);
  });

  it('reports a pod deleted behind its back as terminated non-zero, and the remote GC removes its data objects', async () => {
    const local = freshNamespace();
    const data = podData(local);
    const uid = data.pod.metadata.uid;
    const { PodJID } = await provider.create(data);
    const pod = await remotePodOf(uid, remoteNs(local));
    await admin.delete('pods', pod.metadata?.name ?? '', remoteNs(local));

    const lost: PodStatus = await eventually('status lost', async () => {
      const [status] = await provider.status([acknowledgedByVirtualKubelet(data.pod, PodJID)]);
      return status?.containers[0]?.state.terminated === undefined ? undefined : status;
    });
    expect(lost.containers.map((c) => c.state.terminated?.exitCode)).toEqual([137, 137]);
    expect(lost.containers[0]?.state.terminated?.reason).toBe(REMOTE_POD_LOST_REASON);
    // ownerReferences: kube-controller-manager's garbage collector removes the copies.
    await eventually('data objects collected', async () => {
      const left = [
        ...(await admin.list('configmaps', byUid(uid))).items,
        ...(await admin.list('secrets', byUid(uid))).items,
      ];
      return left.length === 0 ? true : undefined;
    });
  });

  it('serves logs through the remote API server, naming a missing pod or container', async () => {
    const local = freshNamespace();
    const data = podData(local);
    await provider.create(data);
    const request = (container: string, uid = data.pod.metadata.uid) => ({
      Namespace: local,
      PodUID: uid,
      PodName: 'job',
      ContainerName: container,
      Opts: { Tail: 10, Bytes: 0, Timestamps: false, Follow: false, Previous: false, SinceSeconds: 0, SinceTime: undefined },
    });
    await expect(provider.logs(request('nope'), new AbortController().signal)).rejects.toThrow(
      new NotFoundError(`container "nope" not found in pod ${local}/job`),
    );
    await expect(provider.logs(request('main', 'no-such-uid'), new AbortController().signal)).rejects.toThrow(
      new NotFoundError(`pod ${local}/job has no remote pod`),
    );
    // No kubelet here: for a pod without a node the API server answers an empty log.
    const stream = await provider.logs(request('main'), new AbortController().signal);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('');
  });

  it('reports the remote capacity: Ready nodes, minus non-offloaded pods bound to them', async () => {
    const node = (name: string, ready: boolean, allocatable: Record<string, string>): RawObject => ({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name },
      status: {
        capacity: allocatable,
        allocatable,
        conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', reason: 'Test', message: 'set by the test' }],
      },
    });
    await admin.create('nodes', node('gpu-1', true, { cpu: '4', memory: '8Gi', pods: '110', 'nvidia.com/gpu': '2' }));
    await admin.create('nodes', node('down-1', false, { cpu: '64', memory: '256Gi', pods: '110' }));
    await admin.create('namespaces', { metadata: { name: 'busy' } });
    const bound = (name: string, labels: Record<string, string>, requests: Record<string, string>): RawObject => ({
      metadata: { name, namespace: 'busy', labels },
      spec: {
        nodeName: 'gpu-1',
        containers: [{ name: 'c', image: 'busybox', resources: { requests, limits: requests } }],
      },
    });
    await eventually('default service account', async () => ((await absent('serviceaccounts', 'default', 'busy')) ? undefined : true));
    await admin.create('pods', bound('other', {}, { cpu: '500m', memory: '1Gi', 'nvidia.com/gpu': '1' }));
    await admin.create('pods', bound('offloaded', { [OFFLOADING_LABEL]: 'offloading', [SOURCE_POD_UID_LABEL]: 'x' }, { cpu: '1' }));
    try {
      // Until the node lifecycle controller has seen the node Ready, it keeps
      // the `not-ready` NoSchedule taint, and an untolerated taint excludes the node.
      const ping = await eventually('gpu-1 counted', async () => {
        const answer = await provider.ping();
        return answer.resources === undefined ? undefined : answer;
      });
      expect(ping).toEqual({
        status: 'ok',
        resources: {
          cpu: '3500m',
          memory: '7Gi',
          pods: '109',
          accelerators: [{ resourceType: 'nvidia.com/gpu', available: '1' }],
        },
      });
    } finally {
      // Bound pods wait for a kubelet to confirm a graceful delete: force it.
      for (const name of ['other', 'offloaded']) await admin.delete('pods', name, 'busy', { gracePeriodSeconds: 0 });
      for (const name of ['gpu-1', 'down-1']) await admin.delete('nodes', name);
    }
  });

  it('keeps serving status after the API server restarts (re-watch, with a notice)', async () => {
    const local = freshNamespace();
    const data = podData(local);
    await provider.create(data);
    const pod = await remotePodOf(data.pod.metadata.uid, remoteNs(local));

    await cp.restartApiServer();
    // Changes after the restart reach the status answers through the new watch.
    await reportContainers(pod, 'Succeeded', {
      terminated: { exitCode: 0, reason: 'Completed', startedAt: '2026-07-01T10:00:00Z', finishedAt: '2026-07-01T10:00:05Z' },
    });
    const done = await eventually('status after restart', async () => {
      const [status] = await provider.status([data.pod]);
      return status?.containers.every((c) => c.state.terminated?.exitCode === 0) === true ? status : undefined;
    });
    expect(done.containers[0]?.state.terminated?.finishedAt).toBe('2026-07-01T10:00:05Z');
    await eventually('cache synced again', async () => ((await provider.readiness()).every((c) => c.ok) ? true : undefined));
    expect(notices).toContain('remote pod watch interrupted; restarting');
    expect(notices).toContain('remote pod watch resumed');

    // And answers come from the cache again.
    const before = counting.requests;
    await provider.status([data.pod]);
    expect(counting.requests).toBe(before);
  });

  it('fromConfig builds a working provider from a kubeconfig file', async () => {
    const fromConfig = KubernetesProvider.fromConfig({
      kubeconfig: { kind: 'file', path: cp.kubeconfigPath },
      clientOverrides: {},
      translate,
      fieldManager: FIELD_MANAGER,
      sweepIntervalMs: 0,
    });
    await fromConfig.start();
    try {
      expect(await fromConfig.waitForSync(10_000)).toBe(true);
      expect(await fromConfig.readiness()).toEqual([
        { name: 'remote-api', ok: true },
        { name: 'pod-cache', ok: true },
      ]);
      expect(fromConfig.offloadedPods()).toBe(provider.offloadedPods());
    } finally {
      await fromConfig.stop();
    }
  });

  it('converts a permission refusal into a message about the plugin’s credentials', async () => {
    const weak = KubernetesProvider.fromConfig({
      kubeconfig: { kind: 'file', path: await cp.kubeconfigFor('no-rights') },
      clientOverrides: {},
      translate,
      fieldManager: FIELD_MANAGER,
      sweepIntervalMs: 0,
    });
    try {
      const failure = weak.create(podData(freshNamespace()));
      await expect(failure).rejects.toBeInstanceOf(PluginError);
      await expect(failure).rejects.toThrow(`the plugin's remote credentials lack permission to get namespaces`);
    } finally {
      await weak.stop();
    }
  });
});

import { afterEach, describe, expect, it } from '@jest/globals';
import {
  ConflictError,
  InputError,
  LogStructSchema,
  NotFoundError,
  RemoteUnavailableError,
  UnprocessableError,
} from '@interlink-k8s/protocol';
import {
  MANAGED_BY_LABEL,
  OFFLOADING_LABEL,
  PVC_RETENTION_POLICY_ANNOTATION,
  REMOTE_POD_LOST_REASON,
  REMOTE_PVC_ANNOTATION,
  SOURCE_POD_UID_LABEL,
  BASTION_CONTAINER_NAME,
  remoteTunnelSecretName,
} from '../translate/index.js';
import { FakeCluster } from './__tests__/fake-cluster.js';
import { acknowledgedPod, localPod, podData, translateOptions, until } from './__tests__/fixtures.js';
import { KubeApiError } from './errors.js';
import type { KubernetesProviderOptions } from './context.js';
import { KubernetesProvider } from './kubernetes-provider.js';
import { NAMESPACE_CREATED_BY_ANNOTATION } from '../translate/index.js';
import type { DeleteOptions, RawObject, RawPod } from './remote-api.js';
import type { PodRef, SweptKind } from '../offload-provider.js';
import type { LocalPodReader } from './local-pods.js';

const NS = 'offloading-team';
const FIELD_MANAGER = 'interlink-k8s-test';

interface Recorded {
  errors: { operation: string; error: Error }[];
  notices: { message: string; details?: Record<string, unknown> }[];
  podWarnings: { pod: PodRef; message: string }[];
  localErrors: { operation: string; message: string }[];
  swept: Partial<Record<SweptKind, number>>[];
}

const providers: KubernetesProvider[] = [];

function setup(options: Partial<KubernetesProviderOptions> = {}): { remote: FakeCluster; provider: KubernetesProvider; seen: Recorded } {
  const remote = new FakeCluster();
  const seen: Recorded = { errors: [], notices: [], podWarnings: [], localErrors: [], swept: [] };
  const provider = new KubernetesProvider(
    remote,
    {
      translate: translateOptions,
      fieldManager: FIELD_MANAGER,
      sweepIntervalMs: 0,
      settleTimeoutMs: 2000,
      podCache: { backoff: { initialMs: 1, maxMs: 5 } },
      ...options,
    },
    {
      remoteError: (operation, error) => seen.errors.push({ operation, error }),
      notice: (message, details) => seen.notices.push({ message, ...(details === undefined ? {} : { details }) }),
      podWarning: (pod, message) => seen.podWarnings.push({ pod, message }),
      localError: (operation, error) => seen.localErrors.push({ operation, message: error.message }),
      swept: (removed) => seen.swept.push(removed),
    },
  );
  providers.push(provider);
  return { remote, provider, seen };
}

async function started(options: Partial<KubernetesProviderOptions> = {}): Promise<ReturnType<typeof setup>> {
  const env = setup(options);
  await env.provider.start();
  expect(await env.provider.waitForSync(2000)).toBe(true);
  return env;
}

afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.stop()));
});

const managedPods = (remote: FakeCluster): RawPod[] => remote.all('pods');
const names = (objects: RawObject[]): string[] => objects.map((o) => o.metadata?.name ?? '').sort();

describe('KubernetesProvider.create', () => {
  it('creates the namespace, the pod, and data objects owned by the remote pod', async () => {
    const { remote, provider } = setup();
    const answer = await provider.create(podData());

    const pods = managedPods(remote);
    expect(pods).toHaveLength(1);
    const pod = pods[0];
    expect(answer).toEqual({ PodUID: 'uid-1', PodJID: pod?.metadata?.uid });
    expect(pod?.metadata?.namespace).toBe(NS);
    expect(pod?.metadata?.labels?.[SOURCE_POD_UID_LABEL]).toBe('uid-1');

    const ns = remote.peek('namespaces', NS);
    expect(ns?.metadata?.labels?.[MANAGED_BY_LABEL]).toBeDefined();
    expect(ns?.metadata?.annotations?.[NAMESPACE_CREATED_BY_ANNOTATION]).toBe(FIELD_MANAGER);

    const data = [...remote.all('configmaps'), ...remote.all('secrets')];
    expect(data).toHaveLength(2);
    for (const obj of data) {
      expect(obj.metadata?.labels?.[SOURCE_POD_UID_LABEL]).toBe('uid-1');
      expect(obj.metadata?.ownerReferences).toEqual([
        { apiVersion: 'v1', kind: 'Pod', name: pod?.metadata?.name, uid: pod?.metadata?.uid },
      ]);
    }
    // Every write is a server-side apply with the one field manager.
    const applies = remote.calls.filter((c) => c.method === 'apply');
    expect(applies.map((c) => (c.detail as { fieldManager: string }).fieldManager)).toEqual([
      FIELD_MANAGER,
      FIELD_MANAGER,
      FIELD_MANAGER,
    ]);
  });

  it('copies a ConfigMap mounted by two containers once', async () => {
    const { remote, provider } = setup();
    await provider.create(podData());
    expect(remote.all('configmaps')).toHaveLength(1);
    expect(remote.calls.filter((c) => c.method === 'apply' && c.resource === 'configmaps')).toHaveLength(1);
  });

  it('is idempotent: the same request twice gives one pod and the same answer', async () => {
    const { remote, provider } = setup();
    const first = await provider.create(podData());
    const second = await provider.create(podData());
    expect(second).toEqual(first);
    expect(managedPods(remote)).toHaveLength(1);
    expect(remote.all('configmaps')).toHaveLength(1);
    expect(remote.calls.filter((c) => c.method === 'apply' && c.resource === 'pods')).toHaveLength(1);
  });

  it('is idempotent when the pod is known from the watch cache', async () => {
    const { remote, provider } = await started();
    const first = await provider.create(podData());
    await until(() => provider.offloadedPods() === 1);
    const before = remote.count('get');
    expect(await provider.create(podData())).toEqual(first);
    expect(managedPods(remote)).toHaveLength(1);
    // Only the namespace is read; the pod comes from the cache.
    expect(remote.count('get') - before).toBe(1);
  });

  it('keeps the service account when the remote namespace has it, else uses default', async () => {
    const { remote, provider } = setup();
    remote.seed('namespaces', { metadata: { name: NS } });
    remote.seed('serviceaccounts', { metadata: { name: 'builder', namespace: NS } });
    await provider.create(podData({ uid: 'with-sa', serviceAccountName: 'builder' }));
    await provider.create(podData({ uid: 'without-sa', serviceAccountName: 'deployer' }));
    const accounts = Object.fromEntries(
      managedPods(remote).map((p): [string, string] => [
        p.metadata?.labels?.[SOURCE_POD_UID_LABEL] ?? '',
        p.spec?.serviceAccountName ?? '',
      ]),
    );
    expect(accounts).toEqual({ 'with-sa': 'builder', 'without-sa': 'default' });
  });

  it('retries while a fresh namespace has no default service account yet', async () => {
    const { remote, provider } = setup();
    remote.fail(
      (c) => c.method === 'apply' && c.resource === 'pods',
      () =>
        new KubeApiError(`pods "x" is forbidden: error looking up service account ${NS}/default: serviceaccount "default" not found`, {
          status: 403,
          reason: 'Forbidden',
          request: { verb: 'patch', resource: 'pods', namespace: NS },
        }),
      2,
    );
    await provider.create(podData());
    expect(managedPods(remote)).toHaveLength(1);
  });

  it('waits for a terminating namespace to go, then creates it again', async () => {
    const { remote, provider } = setup();
    remote.seed('namespaces', {
      metadata: { name: NS, deletionTimestamp: new Date().toISOString(), annotations: { [NAMESPACE_CREATED_BY_ANNOTATION]: 'x' } },
    });
    setTimeout(() => {
      remote.remove('namespaces', NS);
    }, 150);
    await provider.create(podData());
    expect(remote.peek('namespaces', NS)?.metadata?.deletionTimestamp).toBeUndefined();
    expect(managedPods(remote)).toHaveLength(1);
  });

  it('takes back everything it made when a step fails, and reports the remote refusal', async () => {
    const { remote, provider, seen } = setup();
    remote.fail(
      (c) => c.method === 'apply' && c.resource === 'secrets',
      new KubeApiError('Secret "token-x" is invalid: data[bad key]: Invalid value', {
        status: 422,
        reason: 'Invalid',
        request: { verb: 'patch', resource: 'secrets', namespace: NS },
      }),
    );
    const failure = provider.create(podData());
    await expect(failure).rejects.toBeInstanceOf(UnprocessableError);
    await expect(failure).rejects.toThrow('Secret "token-x" is invalid');
    expect(remote.all('pods')).toHaveLength(0);
    expect(remote.all('configmaps')).toHaveLength(0);
    expect(remote.all('secrets')).toHaveLength(0);
    expect(remote.peek('namespaces', NS)).toBeUndefined();
    expect(seen.errors.map((e) => e.operation)).toEqual(['create']);
  });

  it('leaves a namespace it did not create when a create fails', async () => {
    const { remote, provider } = setup();
    remote.seed('namespaces', { metadata: { name: NS } });
    remote.fail((c) => c.method === 'apply' && c.resource === 'pods', new KubeApiError('invalid', {
      status: 422,
      request: { verb: 'patch', resource: 'pods' },
    }));
    await expect(provider.create(podData())).rejects.toBeInstanceOf(UnprocessableError);
    expect(remote.peek('namespaces', NS)).toBeDefined();
  });

  it('does not touch what an earlier create made when a repeated create fails', async () => {
    const { remote, provider } = setup();
    await provider.create(podData());
    remote.fail((c) => c.method === 'apply', new KubeApiError('etcd timeout', {
      status: 500,
      request: { verb: 'patch', resource: 'configmaps' },
    }));
    await expect(provider.create(podData())).rejects.toBeInstanceOf(RemoteUnavailableError);
    expect(managedPods(remote)).toHaveLength(1);
    expect(remote.all('configmaps')).toHaveLength(1);
  });

  it('refuses while the remote pod of the same UID is still being deleted', async () => {
    const { remote, provider } = setup();
    await provider.create(podData());
    const pod = managedPods(remote)[0];
    remote.mutate('pods', pod?.metadata?.name ?? '', NS, (p) => {
      p.metadata = { ...p.metadata, deletionTimestamp: new Date().toISOString() };
    });
    await expect(provider.create(podData())).rejects.toBeInstanceOf(ConflictError);
  });

  it('fails with RemoteUnavailableError when the remote API cannot be reached', async () => {
    const { remote, provider, seen } = setup();
    remote.fail(() => true, new KubeApiError('connect ECONNREFUSED 127.0.0.1:6443', { request: { verb: 'get', resource: 'namespaces' } }));
    await expect(provider.create(podData())).rejects.toThrow(
      'remote cluster unreachable (get namespaces): connect ECONNREFUSED 127.0.0.1:6443',
    );
    expect(seen.errors[0]?.error).toBeInstanceOf(RemoteUnavailableError);
  });
});

describe('KubernetesProvider.create with the TCP tunnel', () => {
  const tunnel = {
    gatewayHost: 'gateway.example',
    gatewayPort: 2222,
    gatewayHostKeys: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostHostHostHostHostHostHostHostHostHostHost\n',
    bastionKey: { kind: 'per-pod' as const, secret: new Uint8Array(32).fill(5) },
    image: 'ghcr.io/interlink-k8s/tcp-tunnel:0.1.0',
  };
  const served = (): ReturnType<typeof podData> => {
    const data = podData();
    const [main] = data.pod.spec?.containers ?? [];
    if (main !== undefined) main.ports = [{ containerPort: 8080 }, { containerPort: 53, protocol: 'UDP' }];
    return data;
  };

  it('gives the remote pod the bastion sidecar, its Secret owned by the pod, and reports the untunnelled port once offloaded', async () => {
    const { remote, provider, seen } = setup({ translate: { ...translateOptions, tunnel } });
    await provider.create(served());
    const [pod] = managedPods(remote);
    expect(pod?.spec?.initContainers?.map((c) => c.name)).toEqual(['setup', BASTION_CONTAINER_NAME]);
    const tunnelSecret = remote.all('secrets').find((s) => s.metadata?.name === remoteTunnelSecretName('job', 'uid-1'));
    expect(tunnelSecret?.metadata?.ownerReferences).toEqual([
      { apiVersion: 'v1', kind: 'Pod', name: pod?.metadata?.name, uid: pod?.metadata?.uid },
    ]);
    expect(seen.podWarnings).toEqual([
      {
        pod: { namespace: 'team', name: 'job', uid: 'uid-1' },
        message: 'pod team/job: port 53/UDP of container "main" is not tunnelled (the TCP tunnel carries TCP only)',
      },
    ]);

    await provider.delete(localPod());
    expect(remote.all('secrets')).toHaveLength(0);
  });

  it('reports no warning for a create that failed', async () => {
    const { remote, provider, seen } = setup({ translate: { ...translateOptions, tunnel } });
    remote.fail(
      (c) => c.method === 'apply' && c.resource === 'pods',
      new KubeApiError('Pod is invalid', { status: 422, request: { verb: 'patch', resource: 'pods' } }),
    );
    await expect(provider.create(served())).rejects.toBeInstanceOf(UnprocessableError);
    expect(seen.podWarnings).toEqual([]);
  });
});

describe('KubernetesProvider.delete', () => {
  it('removes the pod, its data objects and the namespace it created', async () => {
    const { remote, provider } = setup();
    await provider.create(podData());
    await provider.delete(localPod());
    expect(remote.all('pods')).toHaveLength(0);
    expect(remote.all('configmaps')).toHaveLength(0);
    expect(remote.all('secrets')).toHaveLength(0);
    expect(remote.peek('namespaces', NS)).toBeUndefined();
  });

  it('keeps the namespace while another pod lives in it', async () => {
    const { remote, provider } = setup();
    await provider.create(podData({ uid: 'a' }));
    await provider.create(podData({ uid: 'b' }));
    await provider.delete(localPod({ uid: 'a' }));
    expect(names(managedPods(remote))).toHaveLength(1);
    expect(remote.peek('namespaces', NS)).toBeDefined();
    await provider.delete(localPod({ uid: 'b' }));
    expect(remote.peek('namespaces', NS)).toBeUndefined();
  });

  it('deletes the namespace it created although the last pod is still terminating', async () => {
    const { remote, provider } = setup();
    remote.gracefulPodDeletion = true;
    await provider.create(podData());
    await provider.delete(localPod());
    expect(remote.peek('namespaces', NS)).toBeUndefined();
  });

  it('keeps the namespace when a live pod remains beside a terminating one', async () => {
    const { remote, provider } = setup();
    remote.gracefulPodDeletion = true;
    await provider.create(podData({ uid: 'a' }));
    await provider.create(podData({ uid: 'b' }));
    await provider.delete(localPod({ uid: 'a' }));
    expect(remote.peek('namespaces', NS)).toBeDefined();
  });

  it('never deletes a namespace it did not create', async () => {
    const { remote, provider } = setup();
    remote.seed('namespaces', { metadata: { name: NS, labels: { [OFFLOADING_LABEL]: 'offloading' } } });
    await provider.create(podData());
    await provider.delete(localPod());
    expect(remote.peek('namespaces', NS)).toBeDefined();
  });

  const deletedPod = (gracePeriodSeconds?: number) => {
    const pod = localPod();
    const deleting = { deletionTimestamp: '2026-07-01T10:00:00Z', deletionGracePeriodSeconds: gracePeriodSeconds };
    return { ...pod, metadata: { ...pod.metadata, ...(gracePeriodSeconds === undefined ? {} : deleting) } };
  };
  const deleteOptions = (remote: FakeCluster, resource: string) =>
    remote.calls.filter((c) => c.method === 'delete' && c.resource === resource).map((c) => c.detail as DeleteOptions);

  it.each([
    ['kubectl delete --grace-period=1', 1, 1],
    ['kubectl delete --grace-period=0 --force', 0, 0],
    ['the local default (the pod’s terminationGracePeriodSeconds)', 30, 30],
    ['no deletionGracePeriodSeconds: the remote pod’s own terminationGracePeriodSeconds', undefined, undefined],
  ])('deletes the remote pod with the local deletion grace period: %s', async (_case, local, remoteGrace) => {
    const { remote, provider } = setup();
    await provider.create(podData());
    await provider.delete(deletedPod(local));
    const [podDelete] = deleteOptions(remote, 'pods');
    expect(podDelete?.gracePeriodSeconds).toBe(remoteGrace);
    expect(podDelete?.uid).toBeDefined();
    // Only the pod has containers to stop: its copies go at once either way.
    for (const options of [...deleteOptions(remote, 'configmaps'), ...deleteOptions(remote, 'secrets')]) {
      expect(options.gracePeriodSeconds).toBeUndefined();
    }
    expect(remote.all('pods')).toHaveLength(0);
  });

  it('resolves for a pod that was never created, deleting nothing', async () => {
    const { remote, provider } = setup();
    await provider.delete(localPod({ uid: 'never' }));
    expect(remote.count('delete')).toBe(0);
  });

  it('deletes opted-in claims only with retention policy delete, and not while another pod uses them', async () => {
    const { remote, provider } = setup();
    remote.seed('namespaces', { metadata: { name: NS } });
    for (const [name, policy] of [
      ['scratch', 'delete'],
      ['keep', 'retain'],
      ['shared', 'delete'],
    ] as const) {
      remote.seed('persistentvolumeclaims', {
        metadata: { name, namespace: NS, annotations: { [PVC_RETENTION_POLICY_ANNOTATION]: policy } },
      });
    }
    const claims = (uid: string, list: string[]) =>
      podData({
        uid,
        annotations: { [REMOTE_PVC_ANNOTATION]: list.join(',') },
        volumes: list.map((claimName) => ({ name: `v-${claimName}`, persistentVolumeClaim: { claimName } })),
      });
    await provider.create(claims('one', ['scratch', 'keep', 'shared']));
    await provider.create(claims('two', ['shared']));
    await provider.delete(claims('one', ['scratch', 'keep', 'shared']).pod);
    expect(names(remote.all('persistentvolumeclaims'))).toEqual(['keep', 'shared']);
  });
});

describe('KubernetesProvider.status', () => {
  it('answers known pods from the watch cache without any remote request', async () => {
    const { remote, provider } = await started();
    await provider.create(podData());
    await until(() => provider.offloadedPods() === 1);
    const before = remote.calls.length;
    const [status] = await provider.status([localPod()]);
    expect(remote.calls.length).toBe(before);
    expect(status?.UID).toBe('uid-1');
    expect(status?.JID).toBe(managedPods(remote)[0]?.metadata?.uid);
    expect(status?.containers.map((c) => c.name)).toEqual(['main', 'side']);
    expect(status?.initContainers.map((c) => c.name)).toEqual(['setup']);
  });

  it('follows the remote pod through the watch', async () => {
    const { remote, provider } = await started();
    await provider.create(podData());
    const name = managedPods(remote)[0]?.metadata?.name ?? '';
    remote.mutate('pods', name, NS, (p) => {
      p.status = {
        phase: 'Succeeded',
        initContainerStatuses: [
          { name: 'setup', ready: false, restartCount: 0, image: 'busybox', imageID: '', state: { terminated: { exitCode: 0 } } },
        ],
        containerStatuses: ['main', 'side'].map((c) => ({
          name: c,
          ready: false,
          restartCount: 0,
          image: 'busybox',
          imageID: '',
          state: { terminated: { exitCode: 0, finishedAt: '2026-07-01T10:00:00Z' } },
        })),
      };
    });
    const [status] = await provider.status([localPod()]);
    expect(status?.containers.map((c) => c.state.terminated?.exitCode)).toEqual([0, 0]);
  });

  it('confirms a pod missing from the synced cache with one read, then reports it lost', async () => {
    const { remote, provider } = await started();
    await provider.create(podData());
    await until(() => provider.offloadedPods() === 1);
    remote.remove('pods', managedPods(remote)[0]?.metadata?.name ?? '', NS);
    await until(() => provider.offloadedPods() === 0);
    const before = remote.calls.length;
    const [status] = await provider.status([acknowledgedPod()]);
    expect(remote.calls.slice(before).map((c) => c.method)).toEqual(['list']);
    expect(status?.containers.map((c) => c.state.terminated?.exitCode)).toEqual([137, 137]);
    expect(status?.containers[0]?.state.terminated?.reason).toBe(REMOTE_POD_LOST_REASON);
  });

  it('reports a pod not found as waiting while InterLink has not acknowledged its create (no JobID yet)', async () => {
    const { provider } = await started();
    // The Virtual Kubelet polls status while the create is still in flight.
    const [status] = await provider.status([localPod()]);
    expect(status?.containers.map((c) => c.state.waiting?.reason)).toEqual(['ContainerCreating', 'ContainerCreating']);
    expect(status?.containers.every((c) => c.state.terminated === undefined)).toBe(true);
  });

  it('finds a pod the watch has not delivered yet with one direct read, instead of reporting it lost', async () => {
    const { remote, provider } = await started();
    remote.pauseWatches();
    await provider.create(podData());
    const before = remote.calls.length;
    const [status] = await provider.status([localPod()]);
    expect(remote.calls.slice(before).map((c) => c.method)).toEqual(['list']);
    expect(status?.JID).toBe(managedPods(remote)[0]?.metadata?.uid);
    expect(status?.containers[0]?.state.waiting).toBeDefined();
    remote.resumeWatches();
    await until(() => provider.offloadedPods() === 1);
  });

  it('reads the remote cluster directly before the cache has synced', async () => {
    const { remote, provider } = setup();
    await provider.create(podData());
    const before = remote.calls.length;
    const [status] = await provider.status([localPod()]);
    expect(remote.calls.slice(before).map((c) => c.method)).toEqual(['list']);
    expect(status?.JID).toBe(managedPods(remote)[0]?.metadata?.uid);
  });

  it('fails with RemoteUnavailableError when a needed read cannot reach the remote API', async () => {
    const { remote, provider } = setup();
    remote.fail(() => true, new KubeApiError('timeout', { request: { verb: 'list', resource: 'pods' } }));
    await expect(provider.status([localPod()])).rejects.toBeInstanceOf(RemoteUnavailableError);
  });
});

describe('KubernetesProvider watch', () => {
  it('restarts the watch after a broken connection, catching up on what happened meanwhile', async () => {
    const { remote, provider, seen } = await started();
    remote.fail((c) => c.method === 'watch', new KubeApiError('connect ECONNREFUSED', { request: { verb: 'watch', resource: 'pods' } }), 3);
    remote.endWatches(new Error('socket hang up'));
    await provider.create(podData()); // while the watch is down
    await until(() => seen.notices.some((n) => n.message === 'remote pod watch resumed'));
    await until(() => provider.offloadedPods() === 1);
    const interruptions = seen.notices.filter((n) => n.message === 'remote pod watch interrupted; restarting');
    expect(interruptions.map((n) => n.details?.attempt)).toEqual([1, 2, 3, 4]);
    expect(seen.errors.map((e) => e.operation)).toEqual(['watch pods', 'watch pods', 'watch pods', 'watch pods']);
  });

  it('re-watches from the last resourceVersion after a clean end, without listing again', async () => {
    const { remote, provider } = await started();
    const lists = remote.count('list');
    remote.endWatches();
    await until(() => remote.count('watch') === 2);
    await provider.create(podData());
    await until(() => provider.offloadedPods() === 1);
    expect(remote.count('list')).toBe(lists);
  });

  it('lists again when its resourceVersion expired (410 Gone)', async () => {
    const { remote, provider, seen } = await started();
    await provider.create(podData({ uid: 'a' }));
    await until(() => provider.offloadedPods() === 1);
    const lists = remote.count('list');
    remote.compact();
    remote.endWatches(new Error('connection reset'));
    await until(() => remote.count('list') > lists);
    await until(() => provider.offloadedPods() === 1);
    expect(seen.notices.map((n) => n.message)).toContain('remote pod watch expired; listing again');
  });

  it('reports readiness of the remote API and of the cache', async () => {
    const { remote, provider } = setup();
    expect(await provider.readiness()).toEqual([
      { name: 'remote-api', ok: true },
      { name: 'pod-cache', ok: false, message: 'the watch of remote pods has not synced (or is reconnecting)' },
    ]);
    await provider.start();
    await provider.waitForSync(2000);
    remote.readyError = new KubeApiError('connect ECONNREFUSED 127.0.0.1:6443', { request: { verb: 'get', resource: '/readyz' } });
    const checks = await provider.readiness();
    expect(checks[0]).toEqual({
      name: 'remote-api',
      ok: false,
      message: 'remote cluster unreachable (get /readyz): connect ECONNREFUSED 127.0.0.1:6443',
    });
    expect(checks[1]).toEqual({ name: 'pod-cache', ok: true });
  });
});

describe('KubernetesProvider.logs', () => {
  const request = (opts: Record<string, unknown> = {}, container = 'main') =>
    LogStructSchema.parse({ Namespace: 'team', PodUID: 'uid-1', PodName: 'job', ContainerName: container, Opts: opts });

  async function withPod(): Promise<ReturnType<typeof setup> & { podName: string }> {
    const env = setup();
    await env.provider.create(podData());
    const podName = managedPods(env.remote)[0]?.metadata?.name ?? '';
    env.remote.logText.set(`${NS}/${podName}/main`, 'hello\nworld\n');
    return { ...env, podName };
  }

  it('streams the container log with InterLink’s options mapped to the API’s', async () => {
    const { remote, provider, podName } = await withPod();
    const stream = await provider.logs(
      request({ Tail: 10, Bytes: 2048, Timestamps: true, Previous: true, SinceTime: '2026-07-01T10:00:00Z' }),
      new AbortController().signal,
    );
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('hello\nworld\n');
    const call = remote.calls.find((c) => c.method === 'logs');
    expect(call?.name).toBe(podName);
    expect(call?.detail).toEqual({
      container: 'main',
      tailLines: 10,
      limitBytes: 2048,
      timestamps: true,
      previous: true,
      sinceTime: '2026-07-01T10:00:00Z',
    });
  });

  it('prefers SinceSeconds over SinceTime and follows until aborted', async () => {
    const { remote, provider } = await withPod();
    const controller = new AbortController();
    const stream = await provider.logs(request({ Follow: true, SinceSeconds: 60, SinceTime: '2026-07-01T10:00:00Z' }), controller.signal);
    expect(remote.calls.find((c) => c.method === 'logs')?.detail).toEqual({ container: 'main', follow: true, sinceSeconds: 60 });
    const closed = new Promise((resolve) => stream.once('close', resolve));
    controller.abort();
    await closed;
  });

  it('names the pod when it has no remote pod', async () => {
    const { provider } = setup();
    const failure = provider.logs(request(), new AbortController().signal);
    await expect(failure).rejects.toBeInstanceOf(NotFoundError);
    await expect(failure).rejects.toThrow('pod team/job has no remote pod');
  });

  it('names the container when the pod has no such container', async () => {
    const { provider } = await withPod();
    const failure = provider.logs(request({}, 'nope'), new AbortController().signal);
    await expect(failure).rejects.toBeInstanceOf(NotFoundError);
    await expect(failure).rejects.toThrow('container "nope" not found in pod team/job');
  });

  it('accepts init container names', async () => {
    const { provider } = await withPod();
    await expect(provider.logs(request({}, 'setup'), new AbortController().signal)).resolves.toBeDefined();
  });
});

describe('KubernetesProvider.ping', () => {
  const readyNode = (name: string, allocatable: Record<string, string>): RawObject => ({
    metadata: { name },
    spec: {},
    status: { allocatable, conditions: [{ type: 'Ready', status: 'True' }] },
  });

  it('reports the remote room left, not counting the pods it offloaded itself', async () => {
    const { remote, provider } = setup();
    remote.seed('nodes', readyNode('n1', { cpu: '4', memory: '8Gi', pods: '110', 'nvidia.com/gpu': '1' }));
    remote.seed('namespaces', { metadata: { name: 'other' } });
    remote.seed('pods', {
      metadata: { name: 'busy', namespace: 'other' },
      spec: { nodeName: 'n1', containers: [{ name: 'c', resources: { requests: { cpu: '1500m', memory: '1Gi' } } }] },
      status: { phase: 'Running' },
    });
    remote.seed('pods', {
      metadata: { name: 'ours', namespace: 'other', labels: { [OFFLOADING_LABEL]: 'offloading', [SOURCE_POD_UID_LABEL]: 'x' } },
      spec: { nodeName: 'n1', containers: [{ name: 'c', resources: { requests: { cpu: '1' } } }] },
      status: { phase: 'Running' },
    });
    expect(await provider.ping()).toEqual({
      status: 'ok',
      resources: {
        cpu: '2500m',
        memory: '7Gi',
        pods: '109',
        accelerators: [{ resourceType: 'nvidia.com/gpu', available: '1' }],
      },
    });
    const lists = remote.calls.filter((c) => c.method === 'list');
    expect(lists.map((c) => (c.detail as { resourceVersion?: string }).resourceVersion)).toEqual(['0', '0']);
  });

  it('omits resources when no node qualifies', async () => {
    const { provider } = setup();
    expect(await provider.ping()).toEqual({ status: 'ok' });
  });

  it('stays ok without resources when it may not read nodes', async () => {
    const { remote, provider, seen } = setup();
    remote.fail(
      (c) => c.resource === 'nodes',
      new KubeApiError('nodes is forbidden: User "plugin" cannot list resource "nodes"', {
        status: 403,
        request: { verb: 'list', resource: 'nodes' },
      }),
    );
    expect(await provider.ping()).toEqual({ status: 'ok' });
    expect(seen.errors[0]?.error.message).toBe(`the plugin's remote credentials lack permission to list nodes`);
  });

  it('fails with RemoteUnavailableError when the remote API is down', async () => {
    const { remote, provider } = setup();
    remote.fail(() => true, new KubeApiError('connect ECONNREFUSED', { request: { verb: 'list', resource: 'nodes' } }));
    await expect(provider.ping()).rejects.toBeInstanceOf(RemoteUnavailableError);
  });
});

describe('KubernetesProvider.sweep', () => {
  it('removes old data objects whose pod is gone and empty namespaces it created', async () => {
    let now = Date.now();
    const { remote, provider } = await started({ now: () => now, sweepGraceMs: 60_000 });
    await provider.create(podData({ uid: 'alive' }));
    await until(() => provider.offloadedPods() === 1);
    const orphanLabels = { [OFFLOADING_LABEL]: 'offloading', [SOURCE_POD_UID_LABEL]: 'gone' };
    remote.seed('configmaps', { metadata: { name: 'orphan', namespace: NS, labels: orphanLabels } });
    remote.seed('secrets', { metadata: { name: 'orphan', namespace: NS, labels: orphanLabels } });
    remote.seed('namespaces', {
      metadata: { name: 'offloading-empty', labels: { [OFFLOADING_LABEL]: 'offloading' }, annotations: { [NAMESPACE_CREATED_BY_ANNOTATION]: 'x' } },
    });

    expect(await provider.sweep()).toEqual({ configMaps: 0, secrets: 0, namespaces: 0 }); // too young
    now += 120_000;
    expect(await provider.sweep()).toEqual({ configMaps: 1, secrets: 1, namespaces: 1 });
    expect(names(remote.all('configmaps'))).toHaveLength(1); // the live pod's copy stays
    expect(remote.peek('namespaces', NS)).toBeDefined();
    expect(remote.peek('namespaces', 'offloading-empty')).toBeUndefined();
  });

  it('runs periodically once started, and no more after stop', async () => {
    const { remote, provider, seen } = await started({ sweepIntervalMs: 20, sweepGraceMs: 0, now: () => Date.now() + 1000 });
    remote.seed('namespaces', { metadata: { name: NS } });
    const orphan = { metadata: { name: 'orphan', namespace: NS, labels: { [OFFLOADING_LABEL]: 'offloading', [SOURCE_POD_UID_LABEL]: 'gone' } } };
    remote.seed('configmaps', orphan);
    await until(() => remote.all('configmaps').length === 0);
    expect(seen.notices.map((n) => n.message)).toContain('swept leftovers on the remote cluster');
    await provider.stop();
    remote.seed('configmaps', orphan);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(remote.all('configmaps')).toHaveLength(1);
  });

  it('does nothing while the cache has not synced', async () => {
    const { remote, provider } = setup({ now: () => Date.now() + 3_600_000 });
    remote.seed('namespaces', { metadata: { name: NS } });
    remote.seed('configmaps', {
      metadata: { name: 'orphan', namespace: NS, labels: { [OFFLOADING_LABEL]: 'offloading', [SOURCE_POD_UID_LABEL]: 'gone' } },
    });
    expect(await provider.sweep()).toEqual({ configMaps: 0, secrets: 0, namespaces: 0 });
    expect(remote.all('configmaps')).toHaveLength(1);
  });
});

describe('KubernetesProvider.sweep with read access to the local cluster', () => {
  /** The local cluster as a plain LocalPodReader: pods by `namespace/name` → UID; records every read. */
  function localCluster(pods: Record<string, string> = {}) {
    const reads: string[] = [];
    let failure: Error | undefined;
    const reader: LocalPodReader & { reads: string[]; pods: Record<string, string>; failWith(err: Error): void } = {
      reads,
      pods,
      failWith(err) {
        failure = err;
      },
      podUid(namespace, name) {
        reads.push(`${namespace}/${name}`);
        if (failure !== undefined) return Promise.reject(failure);
        return Promise.resolve(pods[`${namespace}/${name}`]);
      },
    };
    return reader;
  }

  /** A started provider with local access and the given pods offloaded; `later` moves its clock. */
  async function withOffloaded(local: LocalPodReader, pods: { uid: string; name: string }[]) {
    let now = Date.now();
    const env = await started({ now: () => now, localPods: local });
    for (const p of pods) await env.provider.create(podData(p));
    await until(() => env.provider.offloadedPods() === pods.length);
    return {
      ...env,
      later: (ms: number) => {
        now += ms;
      },
    };
  }

  it('deletes a remote pod whose local pod no longer exists, with its copies and the namespace it made', async () => {
    const local = localCluster({});
    const { remote, provider, later, seen } = await withOffloaded(local, [{ uid: 'gone', name: 'job' }]);
    later(61_000);
    expect(await provider.sweep()).toEqual({ pods: 1, configMaps: 0, secrets: 0, namespaces: 0 });
    expect(local.reads).toEqual(['team/job']);
    expect(remote.all('pods')).toHaveLength(0);
    expect(remote.all('configmaps')).toHaveLength(0);
    expect(remote.all('secrets')).toHaveLength(0);
    expect(remote.peek('namespaces', NS)).toBeUndefined();
    expect(seen.notices.map((n) => n.message)).toContain('deleted a remote pod whose local pod no longer exists');
  });

  it('deletes a remote pod whose local pod now has another UID (re-created under the same name)', async () => {
    const local = localCluster({ 'team/job': 'the-new-uid' });
    const { remote, provider, later } = await withOffloaded(local, [{ uid: 'the-old-uid', name: 'job' }]);
    later(61_000);
    expect((await provider.sweep()).pods).toBe(1);
    expect(remote.all('pods')).toHaveLength(0);
  });

  it('never deletes a remote pod whose local pod exists, and asks the local cluster afresh each time', async () => {
    const local = localCluster({ 'team/a': 'uid-a', 'team/b': 'uid-b' });
    const { remote, provider, later } = await withOffloaded(local, [
      { uid: 'uid-a', name: 'a' },
      { uid: 'uid-b', name: 'b' },
    ]);
    later(3_600_000);
    expect(await provider.sweep()).toEqual({ pods: 0, configMaps: 0, secrets: 0, namespaces: 0 });
    expect(await provider.sweep()).toEqual({ pods: 0, configMaps: 0, secrets: 0, namespaces: 0 });
    expect(local.reads.sort()).toEqual(['team/a', 'team/a', 'team/b', 'team/b']);
    expect(remote.all('pods')).toHaveLength(2);
    expect(remote.count('delete')).toBe(0);
  });

  it('leaves remote pods younger than a minute alone (their create may be in flight), without even asking', async () => {
    const local = localCluster({});
    const { remote, provider, later } = await withOffloaded(local, [{ uid: 'young', name: 'job' }]);
    later(59_000);
    expect((await provider.sweep()).pods).toBe(0);
    expect(local.reads).toEqual([]);
    later(2_000);
    expect((await provider.sweep()).pods).toBe(1);
    expect(remote.all('pods')).toHaveLength(0);
  });

  it('leaves remote pods already being deleted, and pods without the source annotations, alone', async () => {
    const local = localCluster({});
    const { remote, provider, later } = await withOffloaded(local, [{ uid: 'a', name: 'a' }]);
    const [pod] = remote.all('pods');
    remote.mutate('pods', pod?.metadata?.name ?? '', NS, (p) => {
      p.metadata = { ...p.metadata, deletionTimestamp: new Date(0).toISOString() };
    });
    remote.seed('pods', {
      metadata: { name: 'unannotated', namespace: NS, labels: { [OFFLOADING_LABEL]: 'offloading', [SOURCE_POD_UID_LABEL]: 'x' } },
    });
    await until(() => provider.offloadedPods() === 2);
    later(3_600_000);
    expect((await provider.sweep()).pods).toBe(0);
    expect(local.reads).toEqual([]);
  });

  it('leaves the pods of another installation alone (applied under another field manager, their local pods elsewhere)', async () => {
    const local = localCluster({});
    const { remote, provider, later } = await withOffloaded(local, []);
    const other = new KubernetesProvider(remote, { translate: translateOptions, fieldManager: 'another-site', sweepIntervalMs: 0 });
    await other.create(podData({ uid: 'theirs', name: 'theirs' }));
    await until(() => provider.offloadedPods() === 1);
    later(3_600_000);
    expect((await provider.sweep()).pods).toBe(0);
    expect(local.reads).toEqual([]);
    expect(remote.all('pods')).toHaveLength(1);
  });

  it('deletes nothing when the local cluster cannot be read, and says so', async () => {
    const local = localCluster({});
    local.failWith(new Error('local cluster unreachable (get pods in namespace "team"): connect ECONNREFUSED'));
    const { remote, provider, later, seen } = await withOffloaded(local, [
      { uid: 'a', name: 'a' },
      { uid: 'b', name: 'b' },
    ]);
    later(3_600_000);
    expect((await provider.sweep()).pods).toBe(0);
    // The first failure ends the pass: an unreadable local cluster proves nothing about the other pods either.
    expect(local.reads).toHaveLength(1);
    expect(seen.localErrors).toEqual([
      { operation: 'sweep: get local pod', message: 'local cluster unreachable (get pods in namespace "team"): connect ECONNREFUSED' },
    ]);
    expect(seen.swept).toEqual([]);
    expect(remote.all('pods')).toHaveLength(2);
  });

  it('reports what it deleted per kind, for the metrics', async () => {
    const local = localCluster({ 'team/alive': 'uid-alive' });
    const { remote, provider, later, seen } = await withOffloaded(local, [
      { uid: 'gone', name: 'gone' },
      { uid: 'uid-alive', name: 'alive' },
    ]);
    remote.seed('configmaps', {
      metadata: { name: 'orphan', namespace: NS, labels: { [OFFLOADING_LABEL]: 'offloading', [SOURCE_POD_UID_LABEL]: 'long-gone' } },
    });
    later(3_600_000);
    expect(await provider.sweep()).toEqual({ pods: 1, configMaps: 1, secrets: 0, namespaces: 0 });
    expect(seen.swept).toEqual([{ pods: 1, configmaps: 1 }]);
  });

  /** The plugin started again on the same remote cluster, two minutes later, reading local pods from `local`. */
  function restartedProvider(remote: FakeCluster, local: ReturnType<typeof localCluster>, options: { [K in keyof KubernetesProviderOptions]?: KubernetesProviderOptions[K] | undefined }): KubernetesProvider {
    const settings: KubernetesProviderOptions = {
      translate: translateOptions,
      fieldManager: FIELD_MANAGER,
      sweepIntervalMs: 3_600_000,
      localPods: local,
      now: () => Date.now() + 120_000,
    };
    // `localPods: undefined` in `options` means "without local access".
    const restarted = new KubernetesProvider(remote, { ...settings, ...options });
    providers.push(restarted);
    return restarted;
  }

  it('sweeps once shortly after start-up, as soon as the pod cache has synced', async () => {
    const { remote, provider } = setup();
    await provider.create(podData({ uid: 'gone-while-down', name: 'job' }));
    const local = localCluster({});
    const restarted = restartedProvider(remote, local, { firstSweepDelayMs: 0 });
    await restarted.start();
    await until(() => remote.all('pods').length === 0, 2000, 'the remote pod deleted by the first sweep');
    expect(local.reads).toEqual(['team/job']);
  });

  it.each([
    ['without read access to the local cluster', { localPods: undefined, sweepIntervalMs: 3_600_000 }],
    ['with the sweep disabled (interval 0)', { sweepIntervalMs: 0 }],
  ])('runs no sweep at start-up %s', async (_case, options) => {
    const { remote, provider } = setup();
    await provider.create(podData({ uid: 'gone', name: 'job' }));
    const local = localCluster({});
    const restarted = restartedProvider(remote, local, { firstSweepDelayMs: 0, ...options });
    await restarted.start();
    expect(await restarted.waitForSync(2000)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(local.reads).toEqual([]);
    expect(remote.all('pods')).toHaveLength(1);
  });

  it('cancels the first sweep when stopped before it ran', async () => {
    const { remote, provider } = setup();
    await provider.create(podData({ uid: 'gone', name: 'job' }));
    const local = localCluster({});
    const restarted = restartedProvider(remote, local, { firstSweepDelayMs: 200 });
    await restarted.start();
    expect(await restarted.waitForSync(2000)).toBe(true);
    await restarted.stop();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(local.reads).toEqual([]);
    expect(remote.all('pods')).toHaveLength(1);
  });
});

describe('KubernetesProvider.fromConfig with read access to the local cluster', () => {
  const remoteKubeconfig = JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'remote', cluster: { server: 'https://127.0.0.1:6443' } }],
    users: [{ name: 'u', user: { token: 't' } }],
    contexts: [{ name: 'c', context: { cluster: 'remote', user: 'u' } }],
    'current-context': 'c',
  });

  it('fails naming local.kubeconfig_path when the local kubeconfig cannot be loaded (the server exits with a configuration error)', () => {
    let thrown: unknown;
    try {
      KubernetesProvider.fromConfig({
        kubeconfig: { kind: 'inline', content: remoteKubeconfig },
        clientOverrides: {},
        translate: translateOptions,
        fieldManager: FIELD_MANAGER,
        sweepIntervalMs: 300_000,
        local: { kind: 'file', path: '/nonexistent/local.kubeconfig' },
      });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(InputError);
    expect((thrown as InputError).field).toBe('local.kubeconfig_path');
  });
});

describe('KubernetesProvider error reporting', () => {
  it('does not report translation errors as remote errors', async () => {
    const { provider, seen } = setup();
    const data = podData();
    const spec = { ...data.pod.spec, containers: data.pod.spec?.containers ?? [], volumes: [{ name: 'x', configMap: { name: 'unsent' } }] };
    await expect(provider.create({ ...data, pod: { ...data.pod, spec } })).rejects.toBeInstanceOf(InputError);
    expect(seen.errors).toHaveLength(0);
  });
});

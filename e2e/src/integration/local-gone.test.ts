import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { PluginClient } from '@interlink-k8s/protocol';
import { ClientNodeRemoteApi, KubernetesLocalPods, KubernetesProvider, buildKubeConfig } from '@interlink-k8s/remote-k8s';
import { createLogger, createMetrics, loadConfig, providerEvents, startServer, type Metrics } from '@interlink-k8s/server';
import { eventually as poll, rawKube, testKubeconfigPath, type RawKube } from '../harness/index.js';
import { freePorts } from '../harness/ports.js';
import { VIRTUAL_NODE, startLocalCluster, type LocalCluster } from '../tunnel/local-side.js';

// A local pod deleted while the plugin was down. InterLink's Virtual Kubelet
// sends its one delete, fire and forget, and removes the local pod anyway;
// with the plugin down, nobody ever asks again. Two real control planes: the
// shared remote one, whose node really runs the offloaded pods, and a local
// one started here, where the "local pods" live (bound to a virtual node
// object; nothing runs them). The plugin reads the local cluster as a user
// allowed exactly what the chart grants (`get` on `pods`), configured like
// production through LOCAL_KUBECONFIG_PATH.

const TAG = randomBytes(3).toString('hex');
const PREFIX = `gone${TAG}`;
const LOCAL_NS = 'batch';
/** This run's own field manager: the sweep looks only at pods it applied, never at other test files' pods on the shared remote cluster. */
const FIELD_MANAGER = `interlink-k8s-local-gone-${TAG}`;
const LOCAL_USER = 'interlink-plugin-local';

let remoteKube: RawKube;
let local: LocalCluster;
let localKubeconfig: string;

const eventually = <T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> =>
  poll(what, check, timeoutMs, { intervalMs: 200 });

beforeAll(async () => {
  const remote = new KubeConfig();
  remote.loadFromFile(testKubeconfigPath());
  remoteKube = rawKube(remote);
  local = await startLocalCluster(`local-gone-${TAG}`, [LOCAL_NS]);
  // The plugin chart's local ClusterRole, bound to a user of its own.
  await local.kube.ok('POST', '/apis/rbac.authorization.k8s.io/v1/clusterroles', {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'plugin-local-pods' },
    rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }],
  });
  await local.kube.ok('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'plugin-local-pods' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'plugin-local-pods' },
    subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: LOCAL_USER }],
  });
  localKubeconfig = await local.controlPlane.kubeconfigFor(LOCAL_USER);
}, 60_000);

afterAll(async () => {
  await remoteKube.call('DELETE', `/api/v1/namespaces/${PREFIX}-${LOCAL_NS}`);
  await local.controlPlane.stop();
});

// --- the plugin, as main.ts runs it (tunables of the sweep shortened) ---------------------

interface RunningPlugin {
  client: PluginClient;
  provider: KubernetesProvider;
  metrics: Metrics;
  close(): Promise<void>;
}

/**
 * The plugin server with its configuration read by the real loader from
 * production's environment names; with `localAccess`, LOCAL_KUBECONFIG_PATH
 * names the restricted local user's kubeconfig. The remote pods' minimum age
 * is 1 s instead of a minute; the first sweep runs as soon as the watch
 * cache has synced, the next one an hour later; leftover copies younger than
 * an hour are left alone.
 */
async function startPlugin(localAccess: boolean): Promise<RunningPlugin> {
  const [port] = await freePorts(1);
  const config = loadConfig(
    {
      APP_SOCKET_ADDRESS: 'http://127.0.0.1',
      APP_SOCKET_PORT: String(port),
      APP_SHUTDOWN_TIMEOUT_SECONDS: '1',
      LOG_LEVEL: 'silent',
      K8S_KUBECONFIG_PATH: testKubeconfigPath(),
      K8S_FIELD_MANAGER: FIELD_MANAGER,
      OFFLOADING_NAMESPACE_PREFIX: PREFIX,
      ...(localAccess ? { LOCAL_KUBECONFIG_PATH: localKubeconfig } : {}),
    },
    () => undefined,
  );
  const logger = createLogger({ level: config.log.level });
  const metrics = createMetrics({ defaultMetrics: false });
  const { kubeconfig, clientOverrides, translate, fieldManager } = config.provider;
  expect(config.provider.local).toEqual(localAccess ? { kind: 'file', path: localKubeconfig } : undefined);
  const provider = new KubernetesProvider(
    new ClientNodeRemoteApi(buildKubeConfig(kubeconfig, clientOverrides)),
    {
      translate,
      fieldManager,
      sweepIntervalMs: 3_600_000,
      // Leftover copies and namespaces on the shared remote cluster are other test files' business.
      sweepGraceMs: 3_600_000,
      localPods: config.provider.local === undefined ? undefined : KubernetesLocalPods.fromConfig(config.provider.local),
      orphanGraceMs: 1000,
      firstSweepDelayMs: 0,
    },
    providerEvents(logger, metrics),
    true,
  );
  await provider.start();
  const server = await startServer(config, provider, logger, { metrics });
  const client = new PluginClient({ host: '127.0.0.1', port: port ?? 0 });
  await eventually('plugin ready', async () => ((await client.send('GET', '/readyz')).status === 200 ? true : undefined));
  return { client, provider, metrics, close: () => server.close() };
}

// --- local pods, and their remote pods -------------------------------------------------------

interface LocalPodJson {
  metadata: { name: string; namespace: string; uid: string; [field: string]: unknown };
  spec: Record<string, unknown>;
  [field: string]: unknown;
}
interface RemotePodJson {
  metadata: { name: string; namespace: string; uid: string; deletionTimestamp?: string };
  status?: { phase?: string };
}

/** Creates a pod in the local cluster, bound to the virtual node as the scheduler would; resolves to it as the API server has it. */
async function createLocalPod(name: string): Promise<LocalPodJson> {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: LOCAL_NS },
    spec: {
      nodeName: VIRTUAL_NODE,
      automountServiceAccountToken: false,
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 5,
      containers: [{ name: 'main', image: 'busybox:1.36', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'] }],
    },
  };
  // The namespace's default ServiceAccount comes from the controller-manager a moment after the namespace.
  return eventually(`local pod ${name} created`, async () => {
    const answer = await local.kube.call('POST', `/api/v1/namespaces/${LOCAL_NS}/pods`, pod);
    return answer.status === 201 ? (answer.json as LocalPodJson) : undefined;
  });
}

/** What InterLink's Virtual Kubelet does once it has deleted the pod remotely (or tried to): removes it for good. */
async function removeLocalPod(pod: LocalPodJson): Promise<void> {
  await local.kube.ok('DELETE', `/api/v1/namespaces/${LOCAL_NS}/pods/${pod.metadata.name}`, {
    apiVersion: 'v1',
    kind: 'DeleteOptions',
    gracePeriodSeconds: 0,
    preconditions: { uid: pod.metadata.uid },
  });
}

/** Offloads a local pod through the plugin, as InterLink does. */
async function offload(plugin: RunningPlugin, pod: LocalPodJson): Promise<void> {
  const entries = [{ name: 'main', configMaps: null, secrets: null, projectedvolumemaps: null, emptyDirs: null }];
  const answer = await plugin.client.send('POST', '/create', { pod, container: entries, jobConfig: {} });
  if (answer.status !== 200) throw new Error(`create ${pod.metadata.name}: ${answer.status} ${answer.text}`);
}

/** The remote pod of a local pod UID, unless gone or being deleted. */
async function liveRemotePod(uid: string): Promise<RemotePodJson | undefined> {
  const selector = encodeURIComponent(`interlink.io/source.pod_uid=${uid}`);
  const list = await remoteKube.ok<{ items: RemotePodJson[] }>('GET', `/api/v1/pods?labelSelector=${selector}`);
  return list.items.find((p) => p.metadata.deletionTimestamp === undefined);
}

const running = (uid: string) => async (): Promise<RemotePodJson | undefined> => {
  const pod = await liveRemotePod(uid);
  return pod?.status?.phase === 'Running' ? pod : undefined;
};

/** `interlink_k8s_swept_objects_total{kind="pods"}` of a plugin (0 before the first count). */
async function sweptPods(plugin: RunningPlugin): Promise<number> {
  const text = await plugin.metrics.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith('interlink_k8s_swept_objects_total{kind="pods"}'));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

// --- the tests ----------------------------------------------------------------------------

describe('a local pod deleted while the plugin was down', () => {
  it('with local access: after a restart the plugin deletes its remote pod (and that of a pod re-created under the same name), never one whose local pod exists', async () => {
    const before = await startPlugin(true);
    const gone = await createLocalPod('gone');
    const kept = await createLocalPod('kept');
    const renamed = await createLocalPod('recreated');
    for (const pod of [gone, kept, renamed]) await offload(before, pod);
    for (const pod of [gone, kept, renamed]) await eventually(`remote pod of ${pod.metadata.name} running`, running(pod.metadata.uid), 60_000);

    // The plugin goes down; meanwhile the local pods are deleted (the VK's one delete goes nowhere) and one is re-created.
    await before.close();
    await removeLocalPod(gone);
    await removeLocalPod(renamed);
    const recreated = await createLocalPod('recreated');
    expect(recreated.metadata.uid).not.toBe(renamed.metadata.uid);
    // Nobody asks again: the remote pods run on.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    for (const pod of [gone, kept, renamed]) expect(await liveRemotePod(pod.metadata.uid)).toBeDefined();

    const after = await startPlugin(true);
    try {
      // The first sweep, once the watch cache has synced.
      await eventually('the remote pod of the deleted local pod deleted', async () =>
        (await liveRemotePod(gone.metadata.uid)) === undefined ? true : undefined,
      );
      await eventually('the remote pod of the replaced local pod deleted', async () =>
        (await liveRemotePod(renamed.metadata.uid)) === undefined ? true : undefined,
      );
      expect(await liveRemotePod(kept.metadata.uid)).toMatchObject({ status: { phase: 'Running' } });
      // Counted once the pass has ended.
      expect(await eventually('both counted', async () => ((await sweptPods(after)) >= 2 ? sweptPods(after) : undefined))).toBe(2);
      // Later sweeps leave the pod whose local pod exists alone too.
      expect(await after.provider.sweep()).toMatchObject({ pods: 0 });
      expect(await liveRemotePod(kept.metadata.uid)).toBeDefined();
    } finally {
      await after.close();
      await removeLocalPod(kept);
    }
  }, 180_000);

  it('without local access: the sweep never reads the local cluster and the remote pod runs on (as before)', async () => {
    const before = await startPlugin(false);
    const orphan = await createLocalPod('orphan');
    await offload(before, orphan);
    await eventually('remote pod running', running(orphan.metadata.uid), 60_000);
    await before.close();
    await removeLocalPod(orphan);

    const after = await startPlugin(false);
    try {
      // With local access the first sweep has deleted such a pod by now (the test above); without, none runs.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      expect(await liveRemotePod(orphan.metadata.uid)).toMatchObject({ status: { phase: 'Running' } });
      expect((await after.provider.sweep()).pods).toBeUndefined();
      expect(await liveRemotePod(orphan.metadata.uid)).toBeDefined();
      expect(await sweptPods(after)).toBe(0);
    } finally {
      await after.close();
    }
  }, 120_000);
});

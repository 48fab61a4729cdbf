/**
 * The main job of the sandbox for now: a real remote cluster (etcd,
 * kube-apiserver, kube-controller-manager, kube-scheduler and a real node:
 * containerd + kubelet), the plugin server as its own process in front of
 * it, and one sample pod driven through create → status → logs → delete over
 * HTTP exactly as InterLink does. The pod really runs on the remote node.
 */
import { PluginClient } from '@interlink-k8s/protocol';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startControlPlane, startRemoteNode, type RemoteNode } from './harness/index.js';
import { startPluginProcess } from './plugin/plugin-process.js';
import { acknowledgedByVirtualKubelet, samplePodData } from './samples/sample-pod.js';

const execFileAsync = promisify(execFile);
const t0 = Date.now();
const step = (title: string) => {
  console.log(`\n[${((Date.now() - t0) / 1000).toFixed(1)} s] ${title}`);
};
const show = (value: unknown) => {
  console.log(typeof value === 'string' ? value : JSON.stringify(value, null, 2));
};

/** One InterLink-style call, printed with its status; the answer's text is returned. */
async function call(client: PluginClient, method: string, path: string, body: unknown): Promise<string> {
  const answer = await client.send(method, path, body);
  console.log(`${method} ${path} → ${answer.status}`);
  if (answer.status !== 200) throw new Error(`${method} ${path} answered ${answer.status}: ${answer.text}`);
  return answer.text;
}

/** The part of a `/status` answer the demo prints. */
interface ContainerState {
  name: string;
  state: {
    waiting?: { reason?: string };
    running?: { startedAt?: string };
    terminated?: { exitCode?: number; reason?: string };
  };
}
interface StatusAnswer {
  containers: ContainerState[];
}

/** Containers with a task in the node's containerd (running or not yet deleted). */
async function containerdTasks(node: RemoteNode): Promise<string[]> {
  const { stdout } = await execFileAsync('ctr', ['-a', join(node.dir, 'containerd.sock'), '-n', 'k8s.io', 'tasks', 'ls', '-q']);
  return stdout.split('\n').filter((id) => id !== '').map((id) => id.slice(0, 12));
}

/** `main: running since …, sidecar: waiting (ContainerCreating)` */
function describeContainers(containers: readonly ContainerState[]): string {
  return containers
    .map(({ name, state }) => {
      if (state.running !== undefined) return `${name}: running since ${state.running.startedAt ?? '?'}`;
      if (state.terminated !== undefined) {
        return `${name}: terminated (exit code ${String(state.terminated.exitCode)}, ${state.terminated.reason ?? ''})`;
      }
      return `${name}: waiting (${state.waiting?.reason ?? ''})`;
    })
    .join(', ');
}

const dir = await mkdtemp(join(tmpdir(), 'interlink-k8s-demo-'));
step('starting the remote cluster: etcd, kube-apiserver, kube-controller-manager, kube-scheduler (real binaries)');
const remote = await startControlPlane({ name: 'remote', scheduler: true });
console.log(`remote API server at ${remote.apiServerUrl}`);
let node: RemoteNode | undefined;
let plugin: Awaited<ReturnType<typeof startPluginProcess>> | undefined;
try {
  step('starting a real node of the remote cluster: containerd + kubelet, images from a local registry');
  node = await startRemoteNode(remote);
  console.log(`node ${node.name} is Ready (its kubelet listens at ${node.ip}:10250; log ${node.dir}/kubelet.log)`);

  step('starting the plugin server with a config.ini that points at the remote cluster');
  plugin = await startPluginProcess({ dir, kubeconfigPath: remote.kubeconfigPath });
  console.log(`plugin listening at ${plugin.url} (log: ${plugin.logPath})`);

  const kc = new KubeConfig();
  kc.loadFromFile(remote.kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const client = new PluginClient({ host: '127.0.0.1', port: plugin.port });
  const data = samplePodData();
  const { pod } = data;

  step('ping: GET /status with [] (InterLink does this every 30 s): the remote node’s free capacity');
  show(await call(client, 'GET', '/status', []));

  step(`create: POST /create for pod ${pod.metadata.namespace}/${pod.metadata.name}`);
  const created = JSON.parse(await call(client, 'POST', '/create', data)) as { PodUID: string; PodJID: string };
  show(created);
  // InterLink's Virtual Kubelet records the answer on the local pod (annotation JobID).
  const localPod = acknowledgedByVirtualKubelet(pod, created.PodJID);

  step('the same create again (InterLink retries): still 200, still one pod');
  await call(client, 'POST', '/create', data);

  step('what the remote cluster now holds for this pod');
  const selector = `interlink.io/source.pod_uid=${pod.metadata.uid}`;
  const listed = [
    ['Pod', (await core.listPodForAllNamespaces({ labelSelector: selector })).items],
    ['ConfigMap', (await core.listConfigMapForAllNamespaces({ labelSelector: selector })).items],
    ['Secret', (await core.listSecretForAllNamespaces({ labelSelector: selector })).items],
  ] as const;
  for (const [kind, items] of listed) {
    for (const { metadata } of items) {
      const owner = metadata?.ownerReferences?.[0];
      const ownedBy = owner ? `  (owned by ${owner.kind} ${owner.name})` : '';
      console.log(`  ${kind} ${metadata?.namespace ?? ''}/${metadata?.name ?? ''}${ownedBy}`);
    }
  }

  step('status: GET /status with the pod, polled until every container runs (answers come from the watch cache)');
  let last = '';
  let answer: StatusAnswer | undefined;
  const runDeadline = Date.now() + 120_000;
  for (;;) {
    [answer] = JSON.parse(await call(client, 'GET', '/status', [localPod])) as StatusAnswer[];
    const containers = answer?.containers ?? [];
    const now = describeContainers(containers);
    if (now !== last) console.log(`  [${((Date.now() - t0) / 1000).toFixed(1)} s] ${now}`);
    last = now;
    if (containers.length > 0 && containers.every((c) => c.state.running !== undefined)) break;
    if (containers.some((c) => c.state.terminated !== undefined)) throw new Error('a container ended instead of running');
    if (Date.now() > runDeadline) throw new Error('the pod did not run within 120 s');
    await new Promise((r) => setTimeout(r, 500));
  }
  console.log('the full answer once running:');
  show(answer);
  const [remotePod] = listed[0][1];
  const live = await core.readNamespacedPod({ name: remotePod?.metadata?.name ?? '', namespace: remotePod?.metadata?.namespace ?? '' });
  console.log(`the remote pod runs on node ${live.spec?.nodeName ?? '?'} with IP ${live.status?.podIP ?? '?'}`);

  step('logs: GET /getLogs for container "main" (it prints the mounted ConfigMap; the kubelet reads the log)');
  const logRequest = {
    Namespace: pod.metadata.namespace,
    PodUID: pod.metadata.uid,
    PodName: pod.metadata.name,
    ContainerName: 'main',
    Opts: { Tail: 10 },
  };
  let logs = '';
  const logDeadline = Date.now() + 30_000;
  while ((logs = await call(client, 'GET', '/getLogs', logRequest)) === '' && Date.now() < logDeadline) {
    await new Promise((r) => setTimeout(r, 500));
  }
  show(logs);
  step('the same with Timestamps (InterLink passes kubectl logs --timestamps through)');
  show(await call(client, 'GET', '/getLogs', { ...logRequest, Opts: { Tail: 10, Timestamps: true } }));

  step('delete: POST /delete with the pod');
  await call(client, 'POST', '/delete', localPod);
  // The kubelet stops the containers first (they handle SIGTERM), then the pod goes.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const left = [
      ...(await core.listPodForAllNamespaces({ labelSelector: selector })).items.map((o) => `Pod ${o.metadata?.name ?? ''}`),
      ...(await core.listConfigMapForAllNamespaces({ labelSelector: selector })).items.map((o) => `ConfigMap ${o.metadata?.name ?? ''}`),
      ...(await core.listSecretForAllNamespaces({ labelSelector: selector })).items.map((o) => `Secret ${o.metadata?.name ?? ''}`),
    ];
    if (left.length === 0) {
      console.log(`[${((Date.now() - t0) / 1000).toFixed(1)} s] the pod, its ConfigMap and its Secrets are gone from the remote cluster`);
      break;
    }
    if (Date.now() > deadline) throw new Error(`left behind 60 s after delete: ${left.join(', ')}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  const onNode = await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node.name}` });
  console.log(`pods bound to node ${node.name}: ${onNode.items.length}`);
  const tasks = await containerdTasks(node);
  console.log(`containers still running in the node's containerd: ${tasks.length === 0 ? 'none' : tasks.join(', ')}`);
  const namespace = `offloading-${pod.metadata.namespace}`;
  const ns = await core.listNamespace({ fieldSelector: `metadata.name=${namespace}` });
  const nsPhase = ns.items[0]?.status?.phase;
  if (nsPhase !== undefined && nsPhase !== 'Terminating') {
    throw new Error(`namespace ${namespace}, which the plugin created, is still ${nsPhase} after the delete`);
  }
  console.log(`namespace ${namespace}, which the plugin created: ${nsPhase === undefined ? 'gone' : 'terminating'}`);

  step('status after delete: the pod is reported lost, so a local pod would fail visibly');
  show(JSON.parse(await call(client, 'GET', '/status', [localPod])));
} finally {
  step('tearing down');
  await plugin?.stop();
  await node?.stop();
  await remote.stop();
  await rm(dir, { recursive: true, force: true });
}
step('done');

/**
 * The main job of the sandbox: two clusters, the plugin and the tunnel.
 *
 * - remote: etcd, kube-apiserver, kube-controller-manager, kube-scheduler
 *   and a real node (containerd + kubelet);
 * - local: a control plane with a virtual node object standing for
 *   InterLink's (the real InterLink cannot be built here, see the README);
 *   the tunnel gateway publishing Services in it; a client in a network
 *   namespace of its own;
 * - the plugin server as its own process, configured by a config.ini.
 *
 * One sample pod is driven through create → status → logs → delete over HTTP
 * exactly as InterLink does, then an HTTP microservice is offloaded and
 * answers the local client through its published Service.
 */
import { PluginClient } from '@interlink-k8s/protocol';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runScript, startControlPlane, startRemoteNode, type RemoteNode } from './harness/index.js';
import { freePorts } from './harness/ports.js';
import { startPluginProcess } from './plugin/plugin-process.js';
import { acknowledgedByVirtualKubelet, samplePodData } from './samples/sample-pod.js';
import {
  ClientNamespace,
  TUNNEL_IMAGE,
  createLocalPod,
  endpointOf,
  gatewayApiAccess,
  httpPod,
  makeTunnelKeys,
  startGatewayProcess,
  startLocalCluster,
  type GatewayProcess,
  type LocalCluster,
} from './tunnel/local-side.js';

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
let local: LocalCluster | undefined;
let gateway: GatewayProcess | undefined;
let localClient: ClientNamespace | undefined;
try {
  step('starting a real node of the remote cluster: containerd + kubelet, images from a local registry');
  node = await startRemoteNode(remote);
  console.log(`node ${node.name} is Ready (its kubelet listens at ${node.ip}:10250; log ${node.dir}/kubelet.log)`);

  step('starting the local cluster: a control plane with a virtual node object (where InterLink\'s virtual kubelet would be)');
  local = await startLocalCluster('local', ['shop', 'interlink']);
  console.log(`local API server at ${local.controlPlane.apiServerUrl}`);

  step('starting the tunnel gateway for the local cluster (its RBAC as its chart renders it, a ServiceAccount token)');
  console.log(`bastion image: ${await runScript('build-project-images.sh', ['tunnel'])}`);
  const keys = await makeTunnelKeys(dir);
  localClient = await ClientNamespace.create();
  const [sshPort = 0, gatewayHttpPort = 0] = await freePorts(2);
  gateway = await startGatewayProcess({
    ...(await gatewayApiAccess(local, 'interlink', dir)),
    TUNNEL_GATEWAY_HOST_KEY: keys.hostKeyPath,
    TUNNEL_GATEWAY_POD_KEY_SECRET: keys.podKeySecret,
    TUNNEL_GATEWAY_LISTEN_PORT: String(sshPort),
    TUNNEL_GATEWAY_HTTP_HOST: '127.0.0.1',
    TUNNEL_GATEWAY_HTTP_PORT: String(gatewayHttpPort),
    TUNNEL_GATEWAY_PUBLISH_SERVICES: 'true',
    TUNNEL_GATEWAY_ADVERTISE_ADDRESS: localClient.hostIp,
    TUNNEL_GATEWAY_SERVICE_GRACE_MS: '3000',
  });
  console.log(`gateway: SSH on ${node.ip}:${String(sshPort)} for the bastions, publishing Services in the local cluster at ${localClient.hostIp}`);

  step('starting the plugin server with a config.ini that points at the remote cluster and the gateway');
  plugin = await startPluginProcess({
    dir,
    kubeconfigPath: remote.kubeconfigPath,
    settings: {
      tcp_tunnel: {
        enabled: 'true',
        gateway_host: node.ip,
        gateway_port: String(sshPort),
        gateway_host_public_key: keys.hostPublicKey.trim(),
        pod_key_secret: keys.podKeySecret,
        bastion_image: TUNNEL_IMAGE,
      },
    },
  });
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

  step('microservice: an HTTP pod with containerPort 8080, created in the local cluster and offloaded');
  const web = await createLocalPod(local, httpPod('shop', 'web', [{ port: 8080, name: 'http', body: 'hello-from-the-remote-cluster' }]));
  const webEntries = [{ name: 'web', configMaps: null, secrets: null, projectedvolumemaps: null, emptyDirs: null }];
  await call(client, 'POST', '/create', { pod: web, container: webEntries, jobConfig: {} });
  const webRemote = (await core.listPodForAllNamespaces({ labelSelector: `interlink.io/source.pod_uid=${web.metadata.uid}` })).items[0];
  const initNames = (webRemote?.spec?.initContainers ?? []).map((c) => `${c.name} (restartPolicy ${c.restartPolicy ?? 'none'})`);
  console.log(`remote pod ${webRemote?.metadata?.namespace ?? ''}/${webRemote?.metadata?.name ?? ''}, init containers: ${initNames.join(', ')}`);
  const { address, port } = await endpointOf(local, 'shop', 'web', 'http');
  const service = await local.kube.ok<{ spec: { ports: unknown[] } }>('GET', '/api/v1/namespaces/shop/services/web');
  console.log(`the gateway published Service shop/web (web.shop.svc) with ports ${JSON.stringify(service.spec.ports)}`);
  console.log(`its EndpointSlice: ${address}:${String(port)} (the gateway; the bastion in the remote pod forwards to 127.0.0.1:8080)`);
  step(`a client in network namespace ${localClient.name} asks http://${address}:${String(port)}/`);
  let body = '';
  const webDeadline = Date.now() + 60_000;
  while (body === '') {
    body = await localClient.get(address, port).catch((error: unknown) => {
      if (Date.now() > webDeadline) throw error;
      return '';
    });
    if (body === '') await new Promise((r) => setTimeout(r, 500));
  }
  show(body);

  step('delete the microservice: its bastion goes with the remote pod, then the gateway removes the Service');
  await call(client, 'POST', '/delete', web);
  const serviceDeadline = Date.now() + 60_000;
  while ((await local.kube.call('GET', '/api/v1/namespaces/shop/services/web')).status !== 404) {
    if (Date.now() > serviceDeadline) throw new Error('Service shop/web still there 60 s after the delete');
    await new Promise((r) => setTimeout(r, 500));
  }
  console.log(`[${((Date.now() - t0) / 1000).toFixed(1)} s] Service shop/web is gone from the local cluster`);
} finally {
  step('tearing down');
  await plugin?.stop();
  await gateway?.stop();
  await localClient?.remove();
  await local?.controlPlane.stop();
  await node?.stop();
  await remote.stop();
  await rm(dir, { recursive: true, force: true });
}
step('done');

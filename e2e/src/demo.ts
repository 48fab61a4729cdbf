/**
 * The main job of the sandbox for now: a real control plane (etcd,
 * kube-apiserver, kube-controller-manager) as the remote cluster, the plugin
 * server as its own process in front of it, and one sample pod driven through
 * create → status → logs → delete over HTTP exactly as InterLink does.
 */
import { PluginClient } from '@interlink-k8s/protocol';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane } from './harness/index.js';
import { startPluginProcess } from './plugin/plugin-process.js';
import { samplePodData } from './samples/sample-pod.js';

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
  return answer.text;
}

const dir = await mkdtemp(join(tmpdir(), 'interlink-k8s-demo-'));
step('starting the remote cluster: etcd, kube-apiserver, kube-controller-manager (real binaries)');
const remote = await startControlPlane({ name: 'remote' });
console.log(`remote API server at ${remote.apiServerUrl}`);
let plugin: Awaited<ReturnType<typeof startPluginProcess>> | undefined;
try {
  step('starting the plugin server with a config.ini that points at the remote cluster');
  plugin = await startPluginProcess({ dir, kubeconfigPath: remote.kubeconfigPath });
  console.log(`plugin listening at ${plugin.url} (log: ${plugin.logPath})`);

  const kc = new KubeConfig();
  kc.loadFromFile(remote.kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const client = new PluginClient({ host: '127.0.0.1', port: plugin.port });
  const data = samplePodData();
  const { pod } = data;

  step('ping: GET /status with [] (InterLink does this every 30 s)');
  show(await call(client, 'GET', '/status', []));

  step(`create: POST /create for pod ${pod.metadata.namespace}/${pod.metadata.name}`);
  show(await call(client, 'POST', '/create', data));

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

  step('status: GET /status with the pod (answered from the watch cache)');
  show(JSON.parse(await call(client, 'GET', '/status', [pod])));
  console.log('This remote cluster has no node yet, so the pod stays Pending and every container is reported waiting.');

  step('logs: GET /getLogs for container "main"');
  const logs = await call(client, 'GET', '/getLogs', {
    Namespace: pod.metadata.namespace,
    PodUID: pod.metadata.uid,
    PodName: pod.metadata.name,
    ContainerName: 'main',
    Opts: { Tail: 10 },
  });
  show(logs);

  step('delete: POST /delete with the pod');
  await call(client, 'POST', '/delete', pod);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const left = await core.listPodForAllNamespaces({ labelSelector: selector });
    const ns = await core.listNamespace({ labelSelector: 'app.kubernetes.io/managed-by=interlink-k8s' });
    const live = ns.items.filter((n) => n.status?.phase !== 'Terminating');
    if (left.items.length === 0 && live.length === 0) {
      console.log('nothing of the pod is left on the remote cluster; its namespace is gone or terminating');
      break;
    }
    if (Date.now() > deadline) throw new Error('objects left behind after delete');
    await new Promise((r) => setTimeout(r, 500));
  }

  step('status after delete: the pod is reported lost, so a local pod would fail visibly');
  show(JSON.parse(await call(client, 'GET', '/status', [pod])));
} finally {
  step('tearing down');
  await plugin?.stop();
  await remote.stop();
  await rm(dir, { recursive: true, force: true });
}
step('done');

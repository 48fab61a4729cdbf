/**
 * The main job (`./dev demo`): what a user of InterLink does, on the sandbox.
 *
 * The sandbox comes up (two real clusters, InterLink's Virtual Kubelet and
 * API server, the plugin, the tunnel gateway; see `sandbox/sandbox.ts`);
 * then, with kubectl against the LOCAL cluster: apply a pod with a ConfigMap,
 * a Secret and two containers to InterLink's virtual node, see it Running
 * there and running on the remote cluster's node, read its logs (`--tail`,
 * `-c`, `-f`), call an offloaded HTTP microservice through the Service the
 * gateway publishes, delete both pods and show that nothing is left on the
 * remote cluster; tear everything down.
 */
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually } from './harness/index.js';
import { startSandbox, type Sandbox } from './sandbox/sandbox.js';

const MANIFEST = fileURLToPath(new URL('../samples/offload-demo.yaml', import.meta.url));
const t0 = Date.now();
const at = (): string => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
const step = (title: string): void => {
  console.log(`\n[${at()}] ${title}`);
};

/** Prints `$ kubectl ...` and what it printed. */
async function kubectl(sandbox: Sandbox, args: string[], cluster: 'local' | 'remote' = 'local'): Promise<string> {
  const tool = cluster === 'local' ? sandbox.kubectl : sandbox.remoteKubectl;
  console.log(`$ ${cluster === 'local' ? 'kubectl' : 'kubectl-remote'} ${args.join(' ')}`);
  const out = await tool.run(args);
  if (out.trim() !== '') console.log(out.trimEnd());
  return out;
}

/** `kubectl logs -f` for `ms`, then stops it (as Ctrl-C would). */
function followFor(sandbox: Sandbox, args: string[], ms: number): Promise<void> {
  console.log(`$ kubectl ${args.join(' ')}   (stopped after ${String(ms / 1000)} s)`);
  return new Promise((resolve, reject) => {
    const child = spawn(sandbox.kubectl.binary, ['--kubeconfig', sandbox.kubectl.kubeconfig, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.on('data', (chunk: Buffer) => process.stdout.write(chunk));
    const timer = setTimeout(() => child.kill('SIGINT'), ms);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** What the plugin left on the remote cluster: its pods, ConfigMaps and Secrets. */
async function remoteLeftovers(sandbox: Sandbox): Promise<string[]> {
  const out = await sandbox.remoteKubectl.run([
    'get',
    'pods,configmaps,secrets',
    '--all-namespaces',
    '--selector=app.kubernetes.io/managed-by=interlink-k8s',
    '--output=name',
  ]);
  return out.split('\n').filter((line) => line !== '');
}

step('bringing the sandbox up: two clusters, InterLink, the plugin, the tunnel gateway');
const sandbox = await startSandbox({
  dir: await mkdtemp(join(tmpdir(), 'interlink-k8s-demo-')),
  tunnel: true,
  log: (line) => {
    console.log(`  ${line}`);
  },
});
let failed = false;
try {
  step('kubectl apply: a pod with a ConfigMap, a Secret and two containers, and an HTTP microservice, for the virtual node');
  await kubectl(sandbox, ['apply', '--filename', MANIFEST]);
  console.log('(the virtual node is NotReady until InterLink pings the plugin, 30 s after the VK starts: the pods wait Pending until then)');
  await sandbox.interlink.waitNodeReady();
  step('the virtual node is Ready; its capacity is what the plugin reported from the remote cluster');
  await kubectl(sandbox, ['get', 'node', sandbox.interlink.nodeName, '--output=custom-columns=NAME:.metadata.name,STATUS:.status.conditions[?(@.type=="Ready")].type,CPU:.status.capacity.cpu,MEMORY:.status.capacity.memory,PODS:.status.capacity.pods,VERSION:.status.nodeInfo.kubeletVersion']);

  step('waiting for the pods to be Running in the local cluster');
  await kubectl(sandbox, ['wait', '--for=condition=Ready', '--timeout=120s', 'pod/hello-offload', '--namespace=demo']);
  await kubectl(sandbox, ['get', 'pods', '--all-namespaces', '--output=wide', `--field-selector=spec.nodeName=${sandbox.interlink.nodeName}`]);
  step('the same pods on the remote cluster, running on its real node');
  await kubectl(sandbox, ['get', 'pods', '--all-namespaces', '--output=wide', '--selector=app.kubernetes.io/managed-by=interlink-k8s'], 'remote');
  await kubectl(sandbox, ['get', 'configmaps,secrets', '--all-namespaces', '--selector=app.kubernetes.io/managed-by=interlink-k8s'], 'remote');

  step('kubectl logs: the last lines, one container, then following');
  await eventually('the first lines of the log', async () => ((await sandbox.kubectl.run(['logs', 'hello-offload', '-n', 'demo', '-c', 'main'])).includes('tick') ? true : undefined), 30_000);
  await kubectl(sandbox, ['logs', 'hello-offload', '--namespace=demo', '--container=main', '--tail=3']);
  await kubectl(sandbox, ['logs', 'hello-offload', '--namespace=demo', '-c', 'reader']);
  await followFor(sandbox, ['logs', 'hello-offload', '--namespace=demo', '-c', 'main', '--tail=1', '-f'], 2500);

  step('the microservice: the gateway publishes Service shop/web (web.shop.svc) for the offloaded pod');
  await kubectl(sandbox, ['wait', '--for=condition=Ready', '--timeout=120s', 'pod/web', '--namespace=shop']);
  const tunnel = sandbox.tunnel;
  if (tunnel === undefined) throw new Error('the demo runs the sandbox with the tunnel');
  const endpoint = await eventually(
    'the EndpointSlice of shop/web',
    async () => {
      const out = await sandbox.kubectl.tryRun(['get', 'endpointslice', 'web', '--namespace=shop', '--output=jsonpath={.endpoints[0].addresses[0]} {.ports[0].port}']);
      const [address, port] = out.stdout.trim().split(' ');
      return out.code === 0 && address !== undefined && address !== '' && port !== undefined ? { address, port: Number(port) } : undefined;
    },
    60_000,
  );
  await kubectl(sandbox, ['get', 'service,endpointslice', '--namespace=shop']);
  console.log(`$ curl http://web.shop.svc:8080/   (from a client in network namespace ${tunnel.client.name}; the sandbox has no kube-proxy or DNS, so it connects where the EndpointSlice says: ${endpoint.address}:${String(endpoint.port)})`);
  const body = await eventually('an answer from the microservice', async () => tunnel.client.get(endpoint.address, endpoint.port).catch(() => undefined), 60_000);
  console.log(body);

  step('kubectl delete: the pods go from the local cluster, and everything of theirs from the remote cluster');
  await kubectl(sandbox, ['delete', '--filename', MANIFEST, '--wait=false']);
  for (const [namespace, name] of [
    ['demo', 'hello-offload'],
    ['shop', 'web'],
  ] as const) {
    await eventually(`pod ${namespace}/${name} gone`, async () => ((await sandbox.kubectl.tryRun(['get', 'pod', name, `--namespace=${namespace}`])).code !== 0 ? true : undefined), 60_000);
  }
  console.log(`[${at()}] the pods are gone from the local cluster`);
  const left = await eventually('nothing left on the remote cluster', async () => ((await remoteLeftovers(sandbox)).length === 0 ? [] : undefined), 60_000).catch(
    async () => remoteLeftovers(sandbox),
  );
  if (left.length > 0) throw new Error(`left on the remote cluster after the delete: ${left.join(', ')}`);
  await kubectl(sandbox, ['get', 'pods,configmaps,secrets', '--all-namespaces', '--selector=app.kubernetes.io/managed-by=interlink-k8s'], 'remote');
  console.log(`[${at()}] nothing of the offloaded pods is left on the remote cluster`);
  await eventually('Service shop/web gone', async () => ((await sandbox.kubectl.tryRun(['get', 'service', 'web', '--namespace=shop'])).code !== 0 ? true : undefined), 60_000);
  console.log(`[${at()}] Service shop/web went with its pod (the pod owns it)`);
} catch (error) {
  failed = true;
  console.error(`\nthe demo failed: ${error instanceof Error ? error.message : String(error)}`);
  console.error(`logs: plugin ${sandbox.plugin.logPath}; InterLink ${sandbox.interlink.apiLogPath}, ${sandbox.interlink.vkLogPath} (KEEP_SANDBOX=1 keeps them)`);
} finally {
  step('tearing down');
  await sandbox.stop();
}
step(failed ? 'failed' : 'done');
process.exit(failed ? 1 : 0);

/**
 * The microservice tunnel end to end, with real parts only:
 *
 * - remote cluster: the shared control plane and its real node; the plugin
 *   (in process, configured as in production) offloads HTTP pods there, each
 *   with the bastion sidecar from the REAL tunnel image;
 * - local cluster: a second control plane of its own (no node: the pods in
 *   it stand for the ones InterLink's virtual node holds), where the gateway
 *   publishes a Service + EndpointSlice per pod, with the RBAC the
 *   `tcp-tunnel-gateway` chart renders and a real ServiceAccount token;
 * - the gateway: `interlink-tunnel-gateway` from the same build as the
 *   image, as a host process;
 * - the client: `curl` in a network namespace of its own, across a veth
 *   pair: the "local side" of a network-namespace boundary. With no
 *   kube-proxy or DNS here (see e2e/SANDBOX-NOTES.md) it does what
 *   kube-proxy would: it reads the Service's EndpointSlice and connects to
 *   the address and port it names.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { Helm, Kubectl, helmBinary, kubectlBinary } from '../charts/chart-tools.js';
import { eventually, rawKube, runScript, startControlPlane, testKubeconfigPath, type ControlPlane, type RawKube } from '../harness/index.js';
import { freePorts } from '../harness/ports.js';
import { startInProcessPlugin, type InProcessPlugin } from '../plugin/in-process-plugin.js';

const run = promisify(execFile);
const TUNNEL_BIN = fileURLToPath(new URL('../../../packages/tunnel/dist/bin/', import.meta.url));
const IMAGE = 'ghcr.io/interlink-k8s/tcp-tunnel:0.1.0';
const TAG = randomBytes(3).toString('hex');
const LOCAL_NS = `shop-${TAG}`;
const GATEWAY_NS = 'interlink';
const VIRTUAL_NODE = 'interlink-vk';
const PREFIX = `tun${TAG}`;
const GRACE_MS = 5_000;
const NETNS = `ilk8s-client-${TAG}`;
// A /30 of 10.254.0.0/16 for the veth pair; the host end is what the gateway advertises.
const SUBNET = `10.254.${String(Number.parseInt(TAG.slice(0, 2), 16))}`;
const HOST_IP = `${SUBNET}.1`;
const CLIENT_IP = `${SUBNET}.2`;

let local: ControlPlane | undefined;
let localKube: RawKube;
let remoteKube: RawKube;
let plugin: InProcessPlugin | undefined;
let dir = '';
let gatewayEnv: Record<string, string> = {};
let gateway: Gateway | undefined;
let sshPort = 0;
const offloaded: LocalPod[] = [];

interface LocalPod {
  apiVersion: 'v1';
  kind: 'Pod';
  metadata: { name: string; namespace: string; uid: string };
  spec: Record<string, unknown>;
}

interface Slice {
  endpoints?: { addresses: string[] }[];
  ports?: { name: string; port: number }[];
}

// --- the gateway process ---------------------------------------------------

interface Gateway {
  readonly child: ChildProcess;
  readonly lines: string[];
  readonly startedAt: number;
  stop(): Promise<void>;
}

async function startGateway(): Promise<Gateway> {
  const child = spawn(process.execPath, ['--max-semi-space-size=4', join(TUNNEL_BIN, 'gateway.js')], {
    env: { PATH: process.env.PATH ?? '', ...gatewayEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let buffered = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr.on('data', (chunk: Buffer) => lines.push(chunk.toString('utf8')));
  const startedAt = Date.now();
  await eventually('gateway listening', async () => {
    if (child.exitCode !== null) throw new Error(`gateway exited ${String(child.exitCode)}:\n${lines.join('\n')}`);
    return Promise.resolve(lines.some((line) => line.includes('"event":"listening"')) ? true : undefined);
  }, 15_000, { retryOnError: false });
  return {
    child,
    lines,
    startedAt,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

function gatewayEvents(gw: Gateway, event: string): Record<string, unknown>[] {
  return gw.lines.filter((line) => line.includes(`"event":"${event}"`)).map((line) => JSON.parse(line) as Record<string, unknown>);
}

// --- the local side ----------------------------------------------------------

/** `curl` from the client's network namespace; the body, or throws with curl's error. */
async function fetchFromClient(address: string, port: number): Promise<string> {
  const { stdout } = await run('ip', ['netns', 'exec', NETNS, 'curl', '-sS', '--fail', '--max-time', '5', `http://${address}:${String(port)}/`]);
  return stdout.trim();
}

/** The EndpointSlice of the Service published for `pod`, once it has an endpoint for every named port. */
function publishedSlice(pod: string, portNames: readonly string[]): Promise<Required<Slice>> {
  return eventually(`EndpointSlice of ${pod} with ports ${portNames.join(',')}`, async () => {
    const res = await localKube.call('GET', `/apis/discovery.k8s.io/v1/namespaces/${LOCAL_NS}/endpointslices/${pod}`);
    if (res.status !== 200) return undefined;
    const slice = res.json as Slice;
    const names = (slice.ports ?? []).map((p) => p.name).sort();
    if ((slice.endpoints ?? []).length === 0 || JSON.stringify(names) !== JSON.stringify([...portNames].sort())) return undefined;
    return slice as Required<Slice>;
  }, 120_000, { intervalMs: 250 });
}

/** Address and port a client uses for the Service port `name` of `pod` (what kube-proxy would DNAT to). */
async function endpointOf(pod: string, name: string, portNames: readonly string[] = [name]): Promise<{ address: string; port: number }> {
  const slice = await publishedSlice(pod, portNames);
  const port = slice.ports.find((p) => p.name === name)?.port;
  const address = slice.endpoints[0]?.addresses[0];
  if (port === undefined || address === undefined) throw new Error(`no endpoint for ${pod}:${name}`);
  return { address, port };
}

// --- pods ------------------------------------------------------------------

/** An HTTP microservice pod as a user writes it: busybox httpd answering with `body` on each port. */
function httpPod(name: string, ports: readonly { port: number; name?: string; body: string }[]): LocalPod {
  const serve = ports
    .map(({ port, body }) => `mkdir -p /tmp/www${String(port)} && echo ${body} > /tmp/www${String(port)}/index.html && httpd -f -p ${String(port)} -h /tmp/www${String(port)} &`)
    .join(' ');
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: LOCAL_NS, uid: '' },
    spec: {
      nodeName: VIRTUAL_NODE,
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 2,
      // The virtual node never heartbeats; InterLink's node has the same tolerations.
      tolerations: [
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
      ],
      containers: [
        {
          name: 'web',
          image: 'busybox:1.36',
          imagePullPolicy: 'IfNotPresent',
          command: ['sh', '-c', `trap "exit 0" TERM; ${serve} wait`],
          ports: ports.map((p) => ({ containerPort: p.port, protocol: 'TCP', ...(p.name === undefined ? {} : { name: p.name }) })),
        },
      ],
    },
  };
}

/** Creates the pod in the local cluster (as the user would), then offloads it through the plugin (as InterLink would). */
async function offload(pod: LocalPod): Promise<LocalPod> {
  const created = await localKube.ok<{ metadata: { uid: string } }>('POST', `/api/v1/namespaces/${LOCAL_NS}/pods`, pod);
  const withUid: LocalPod = { ...pod, metadata: { ...pod.metadata, uid: created.metadata.uid } };
  const entries = [{ name: 'web', configMaps: null, secrets: null, projectedvolumemaps: null, emptyDirs: null }];
  const answer = await (plugin as InProcessPlugin).client.send('POST', '/create', { pod: withUid, container: entries, jobConfig: {} });
  if (answer.status !== 200) throw new Error(`create ${pod.metadata.name}: ${String(answer.status)} ${answer.text}`);
  offloaded.push(withUid);
  return withUid;
}

const remoteNamespace = `${PREFIX}-${LOCAL_NS}`;

// --- set-up ----------------------------------------------------------------

beforeAll(async () => {
  const remote = new KubeConfig();
  remote.loadFromFile(testKubeconfigPath());
  remoteKube = rawKube(remote);
  dir = await mkdtemp(join(tmpdir(), 'ilk8s-tunnel-e2e-'));

  // The real tunnel image (and, by the same build, the gateway program).
  await runScript('build-project-images.sh', ['tunnel']);

  // The local cluster, its virtual node and namespaces.
  local = await startControlPlane({ name: `local-${TAG}` });
  const localKc = new KubeConfig();
  localKc.loadFromFile(local.kubeconfigPath);
  localKube = rawKube(localKc);
  await localKube.ok('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: VIRTUAL_NODE, labels: { type: 'virtual-kubelet' } } });
  for (const name of [LOCAL_NS, GATEWAY_NS]) await localKube.ok('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });

  // Keys: the gateway's host key, and the secret per-pod keys come from.
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'gateway', '-f', join(dir, 'host')]);
  const hostPublic = await readFile(join(dir, 'host.pub'), 'utf8');
  const podKeySecret = randomBytes(32).toString('base64');

  // The gateway's RBAC exactly as its chart renders it, and a token of its ServiceAccount.
  const rendered = await new Helm(helmBinary()).template('tcp-tunnel-gateway', {
    release: 'gw',
    namespace: GATEWAY_NS,
    setJson: { hostKey: { privateKey: 'unused' }, podKeySecret: { value: podKeySecret } },
  });
  const kubectl = new Kubectl(kubectlBinary(), local.kubeconfigPath);
  const rbac = (await kubectl.objects(rendered)).filter((o) => ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind));
  expect(rbac.map((o) => o.kind).sort()).toEqual(['ClusterRole', 'ClusterRoleBinding', 'ServiceAccount']);
  await kubectl.run(['apply', '--namespace', GATEWAY_NS, '--filename=-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: rbac }));
  const account = rbac.find((o) => o.kind === 'ServiceAccount')?.metadata.name ?? '';
  const token = await localKube.ok<{ status: { token: string } }>('POST', `/api/v1/namespaces/${GATEWAY_NS}/serviceaccounts/${account}/token`, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: { expirationSeconds: 3600 },
  });
  await writeFile(join(dir, 'token'), token.status.token);
  await writeFile(join(dir, 'ca.crt'), Buffer.from(localKc.getCurrentCluster()?.caData ?? '', 'base64'));

  // The client's network namespace, joined to the host by a veth pair.
  await run('ip', ['netns', 'add', NETNS]);
  await run('ip', ['link', 'add', `ilk8s-h${TAG}`, 'type', 'veth', 'peer', 'name', `ilk8s-c${TAG}`]);
  await run('ip', ['link', 'set', `ilk8s-c${TAG}`, 'netns', NETNS]);
  await run('ip', ['addr', 'add', `${HOST_IP}/30`, 'dev', `ilk8s-h${TAG}`]);
  await run('ip', ['link', 'set', `ilk8s-h${TAG}`, 'up']);
  await run('ip', ['netns', 'exec', NETNS, 'ip', 'addr', 'add', `${CLIENT_IP}/30`, 'dev', `ilk8s-c${TAG}`]);
  await run('ip', ['netns', 'exec', NETNS, 'ip', 'link', 'set', `ilk8s-c${TAG}`, 'up']);
  await run('ip', ['netns', 'exec', NETNS, 'ip', 'link', 'set', 'lo', 'up']);

  // The gateway, reachable by bastions at the node's address (the pods' default gateway).
  const nodes = await remoteKube.ok<{ items: { status: { addresses: { type: string; address: string }[] } }[] }>('GET', '/api/v1/nodes');
  const nodeIp = nodes.items[0]?.status.addresses.find((a) => a.type === 'InternalIP')?.address ?? '';
  const [ssh = 0, http = 0] = await freePorts(2);
  sshPort = ssh;
  const range = 21000 + (Number.parseInt(TAG.slice(2, 4), 16) % 40) * 100;
  gatewayEnv = {
    TUNNEL_GATEWAY_HOST_KEY: join(dir, 'host'),
    TUNNEL_GATEWAY_POD_KEY_SECRET: podKeySecret,
    TUNNEL_GATEWAY_LISTEN_PORT: String(ssh),
    TUNNEL_GATEWAY_HTTP_HOST: '127.0.0.1',
    TUNNEL_GATEWAY_HTTP_PORT: String(http),
    TUNNEL_GATEWAY_PORT_RANGE: `${String(range)}-${String(range + 99)}`,
    TUNNEL_GATEWAY_PUBLISH_SERVICES: 'true',
    TUNNEL_GATEWAY_ADVERTISE_ADDRESS: HOST_IP,
    TUNNEL_GATEWAY_KUBE_API_URL: local.apiServerUrl,
    TUNNEL_GATEWAY_KUBE_TOKEN_FILE: join(dir, 'token'),
    TUNNEL_GATEWAY_KUBE_CA_FILE: join(dir, 'ca.crt'),
    TUNNEL_GATEWAY_SERVICE_GRACE_MS: String(GRACE_MS),
    TUNNEL_GATEWAY_KEEPALIVE_INTERVAL_MS: '2000',
    TUNNEL_GATEWAY_KEEPALIVE_COUNT_MAX: '1',
  };
  gateway = await startGateway();

  plugin = await startInProcessPlugin({
    K8S_KUBECONFIG_PATH: testKubeconfigPath(),
    K8S_FIELD_MANAGER: 'interlink-k8s-tunnel-e2e',
    OFFLOADING_NAMESPACE_PREFIX: PREFIX,
    APP_SHUTDOWN_TIMEOUT_SECONDS: '1',
    TCP_TUNNEL_ENABLED: 'true',
    TCP_TUNNEL_GATEWAY_HOST: nodeIp,
    TCP_TUNNEL_GATEWAY_PORT: String(sshPort),
    TCP_TUNNEL_GATEWAY_HOST_PUBLIC_KEY: hostPublic,
    TCP_TUNNEL_POD_KEY_SECRET: podKeySecret,
    TCP_TUNNEL_BASTION_IMAGE: IMAGE,
  });
}, 300_000);

afterAll(async () => {
  await Promise.all(offloaded.map((pod) => plugin?.client.send('POST', '/delete', pod)));
  await plugin?.close();
  await gateway?.stop();
  await remoteKube.call('DELETE', `/api/v1/namespaces/${remoteNamespace}`);
  await run('ip', ['netns', 'del', NETNS]).catch(() => undefined);
  await local?.stop();
  if (dir !== '') await rm(dir, { recursive: true, force: true });
}, 120_000);

// --- the tests -------------------------------------------------------------

describe('microservice offloading through the tunnel', () => {
  it('serves an offloaded HTTP pod to a client on the local side through its published Service', async () => {
    await offload(httpPod('web-a', [{ port: 8080, name: 'http', body: 'hello-from-web-a' }]));

    const { address, port } = await endpointOf('web-a', 'http');
    expect(address).toBe(HOST_IP);
    await expect(eventually('web-a answers', () => fetchFromClient(address, port), 30_000)).resolves.toBe('hello-from-web-a');

    // The Service: the pod's container port in front of the gateway's port, owned by the local pod.
    const service = await localKube.ok<{ metadata: { ownerReferences: { kind: string; name: string }[] }; spec: { ports: unknown[]; selector?: unknown } }>(
      'GET',
      `/api/v1/namespaces/${LOCAL_NS}/services/web-a`,
    );
    expect(service.spec.ports).toEqual([expect.objectContaining({ name: 'http', port: 8080, targetPort: port, protocol: 'TCP' })]);
    expect(service.spec.selector).toBeUndefined();
    expect(service.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'Pod', name: 'web-a' })]);

    // The bastion logged in with the pod's own key: its identity is verified.
    expect(gatewayEvents(gateway as Gateway, 'forwardAdded')).toContainEqual(
      expect.objectContaining({ identity: { pod: expect.objectContaining({ namespace: LOCAL_NS, name: 'web-a' }), verified: true } }),
    );

    // The sidecar is not part of the status InterLink gets.
    const pod = offloaded.find((p) => p.metadata.name === 'web-a') as LocalPod;
    const status = await (plugin as InProcessPlugin).client.send('GET', '/status', [pod]);
    expect(status.text).not.toContain('interlink-tunnel-bastion');
  }, 240_000);

  it('gives two pods exposing the same container port their own gateway ports', async () => {
    await offload(httpPod('web-b', [{ port: 8080, name: 'http', body: 'hello-from-web-b' }]));

    const a = await endpointOf('web-a', 'http');
    const b = await endpointOf('web-b', 'http');
    expect(b.port).not.toBe(a.port);
    await expect(eventually('web-b answers', () => fetchFromClient(b.address, b.port), 30_000)).resolves.toBe('hello-from-web-b');
    await expect(fetchFromClient(a.address, a.port)).resolves.toBe('hello-from-web-a');
  }, 240_000);

  it('publishes every port of a pod with two ports', async () => {
    await offload(httpPod('duo', [{ port: 8080, name: 'http', body: 'duo-8080' }, { port: 9090, body: 'duo-9090' }]));

    const names = ['http', 'tcp-9090'];
    const first = await endpointOf('duo', 'http', names);
    const second = await endpointOf('duo', 'tcp-9090', names);
    await expect(eventually('duo:8080 answers', () => fetchFromClient(first.address, first.port), 30_000)).resolves.toBe('duo-8080');
    await expect(fetchFromClient(second.address, second.port)).resolves.toBe('duo-9090');
  }, 240_000);

  it('recovers from a gateway restart in the middle of traffic: bastions are back within 5 s', async () => {
    const before = await endpointOf('web-a', 'http');
    // Traffic while the gateway goes away and comes back.
    let failures = 0;
    let successes = 0;
    let stop = false;
    const traffic = (async () => {
      while (!stop) {
        try {
          await fetchFromClient(before.address, before.port);
          successes++;
        } catch {
          failures++;
        }
      }
    })();
    await eventually('some traffic', () => Promise.resolve(successes > 2 ? true : undefined), 20_000);
    await (gateway as Gateway).stop();
    gateway = await startGateway();
    const restarted = gateway;

    // Each bastion re-asks for its forwards; measure from the new gateway's start.
    const back = await eventually(
      'the three bastions back',
      () => {
        const pods = new Set(gatewayEvents(restarted, 'forwardAdded').map((e) => (e.identity as { pod: { name: string } }).pod.name));
        return Promise.resolve(pods.size === 3 ? Date.now() : undefined);
      },
      30_000,
    );
    expect(back - restarted.startedAt).toBeLessThan(5_000);

    // New requests succeed, at whatever port the EndpointSlice names now.
    const after = await endpointOf('web-a', 'http');
    await expect(eventually('web-a answers again', () => fetchFromClient(after.address, after.port), 10_000)).resolves.toBe('hello-from-web-a');
    stop = true;
    await traffic;
    expect(successes).toBeGreaterThan(2);
  }, 120_000);

  it('removes the bastion, its Secret and the Service when the pod is deleted', async () => {
    const pod = offloaded.find((p) => p.metadata.name === 'web-b') as LocalPod;
    const remotePods = await remoteKube.ok<{ items: { metadata: { name: string; uid: string } }[] }>(
      'GET',
      `/api/v1/namespaces/${remoteNamespace}/pods?labelSelector=${encodeURIComponent(`interlink.io/source.pod_uid=${pod.metadata.uid}`)}`,
    );
    expect(remotePods.items).toHaveLength(1);

    const answer = await (plugin as InProcessPlugin).client.send('POST', '/delete', pod);
    expect(answer.status).toBe(200);
    offloaded.splice(offloaded.indexOf(pod), 1);
    await localKube.ok('DELETE', `/api/v1/namespaces/${LOCAL_NS}/pods/${pod.metadata.name}?gracePeriodSeconds=0`);

    const selector = `?labelSelector=${encodeURIComponent(`interlink.io/source.pod_uid=${pod.metadata.uid}`)}`;
    await eventually('remote pod and Secret gone', async () => {
      const pods = await remoteKube.ok<{ items: unknown[] }>('GET', `/api/v1/namespaces/${remoteNamespace}/pods${selector}`);
      const secrets = await remoteKube.ok<{ items: unknown[] }>('GET', `/api/v1/namespaces/${remoteNamespace}/secrets${selector}`);
      return pods.items.length + secrets.items.length === 0 ? true : undefined;
    }, 60_000);
    await eventually('Service and EndpointSlice of web-b gone', async () => {
      const service = await localKube.call('GET', `/api/v1/namespaces/${LOCAL_NS}/services/web-b`);
      const slice = await localKube.call('GET', `/apis/discovery.k8s.io/v1/namespaces/${LOCAL_NS}/endpointslices/web-b`);
      return service.status === 404 && slice.status === 404 ? true : undefined;
    }, 30_000);
    // The other pods keep theirs.
    const a = await endpointOf('web-a', 'http');
    await expect(fetchFromClient(a.address, a.port)).resolves.toBe('hello-from-web-a');
  }, 120_000);

  it('leaves no Service behind when a local pod is deleted while the gateway is down', async () => {
    const pod = offloaded.find((p) => p.metadata.name === 'duo') as LocalPod;
    await (gateway as Gateway).stop();
    await localKube.ok('DELETE', `/api/v1/namespaces/${LOCAL_NS}/pods/duo?gracePeriodSeconds=0`);
    // The cluster's garbage collector removes the Service it owns, and the slice with it.
    await eventually('Service of duo collected', async () => {
      const service = await localKube.call('GET', `/api/v1/namespaces/${LOCAL_NS}/services/duo`);
      const slice = await localKube.call('GET', `/apis/discovery.k8s.io/v1/namespaces/${LOCAL_NS}/endpointslices/duo`);
      return service.status === 404 && slice.status === 404 ? true : undefined;
    }, 60_000);
    await (plugin as InProcessPlugin).client.send('POST', '/delete', pod);
    offloaded.splice(offloaded.indexOf(pod), 1);
    gateway = await startGateway();
  }, 120_000);
});

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
 *   pair: the "local side" of a network-namespace boundary, connecting where
 *   the Service's EndpointSlice says (see ../tunnel/local-side.ts).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { eventually, rawKube, runScript, testKubeconfigPath, type RawKube } from '../harness/index.js';
import { freePorts } from '../harness/ports.js';
import { startInProcessPlugin, type InProcessPlugin } from '../plugin/in-process-plugin.js';
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
  type LocalPod,
} from '../tunnel/local-side.js';

const TAG = randomBytes(3).toString('hex');
const LOCAL_NS = `shop-${TAG}`;
const GATEWAY_NS = 'interlink';
const PREFIX = `tun${TAG}`;
const GRACE_MS = 5_000;

let local: LocalCluster;
let remoteKube: RawKube;
let plugin: InProcessPlugin;
let client: ClientNamespace;
let gatewayEnv: Record<string, string> = {};
let gateway: GatewayProcess;
const offloaded: LocalPod[] = [];
/** Undone in reverse order after the tests, whatever got started. */
const teardown: (() => Promise<unknown>)[] = [];

/** Creates the pod in the local cluster (as the user would), then offloads it through the plugin (as InterLink would). */
async function offload(pod: LocalPod): Promise<LocalPod> {
  const withUid = await createLocalPod(local, pod);
  const entries = [{ name: 'web', configMaps: null, secrets: null, projectedvolumemaps: null, emptyDirs: null }];
  const answer = await plugin.client.send('POST', '/create', { pod: withUid, container: entries, jobConfig: {} });
  if (answer.status !== 200) throw new Error(`create ${pod.metadata.name}: ${String(answer.status)} ${answer.text}`);
  offloaded.push(withUid);
  return withUid;
}

/** The offloaded pod named `name`. */
function offloadedPod(name: string): LocalPod {
  const pod = offloaded.find((p) => p.metadata.name === name);
  if (pod === undefined) throw new Error(`${name} was not offloaded`);
  return pod;
}

const endpoint = (pod: string, port: string, all?: readonly string[]) => endpointOf(local, LOCAL_NS, pod, port, all);
const fetchFromClient = (address: string, port: number) => client.get(address, port);

const remoteNamespace = `${PREFIX}-${LOCAL_NS}`;

// --- set-up ----------------------------------------------------------------

beforeAll(async () => {
  const remote = new KubeConfig();
  remote.loadFromFile(testKubeconfigPath());
  remoteKube = rawKube(remote);
  const dir = await mkdtemp(join(tmpdir(), 'ilk8s-tunnel-e2e-'));
  teardown.push(() => rm(dir, { recursive: true, force: true }));

  // The real tunnel image (and, by the same build, the gateway program).
  await runScript('build-project-images.sh', ['tunnel']);

  local = await startLocalCluster(`local-${TAG}`, [LOCAL_NS, GATEWAY_NS]);
  teardown.push(() => local.controlPlane.stop());
  const keys = await makeTunnelKeys(dir);
  client = await ClientNamespace.create();
  teardown.push(() => client.remove());

  // The gateway, reachable by bastions at the node's address (the pods' default gateway).
  const nodes = await remoteKube.ok<{ items: { status: { addresses: { type: string; address: string }[] } }[] }>('GET', '/api/v1/nodes');
  const nodeIp = nodes.items[0]?.status.addresses.find((a) => a.type === 'InternalIP')?.address ?? '';
  const [sshPort = 0, httpPort = 0] = await freePorts(2);
  const range = 21000 + (Number.parseInt(TAG.slice(2, 4), 16) % 40) * 100;
  gatewayEnv = {
    ...(await gatewayApiAccess(local, GATEWAY_NS, dir)),
    TUNNEL_GATEWAY_HOST_KEY: keys.hostKeyPath,
    TUNNEL_GATEWAY_POD_KEY_SECRET: keys.podKeySecret,
    TUNNEL_GATEWAY_LISTEN_PORT: String(sshPort),
    TUNNEL_GATEWAY_HTTP_HOST: '127.0.0.1',
    TUNNEL_GATEWAY_HTTP_PORT: String(httpPort),
    TUNNEL_GATEWAY_PORT_RANGE: `${String(range)}-${String(range + 99)}`,
    TUNNEL_GATEWAY_PUBLISH_SERVICES: 'true',
    TUNNEL_GATEWAY_ADVERTISE_ADDRESS: client.hostIp,
    TUNNEL_GATEWAY_SERVICE_GRACE_MS: String(GRACE_MS),
    TUNNEL_GATEWAY_KEEPALIVE_INTERVAL_MS: '2000',
    TUNNEL_GATEWAY_KEEPALIVE_COUNT_MAX: '1',
  };
  gateway = await startGatewayProcess(gatewayEnv);
  teardown.push(() => gateway.stop());

  teardown.push(() => remoteKube.call('DELETE', `/api/v1/namespaces/${remoteNamespace}`));
  plugin = await startInProcessPlugin({
    K8S_KUBECONFIG_PATH: testKubeconfigPath(),
    K8S_FIELD_MANAGER: 'interlink-k8s-tunnel-e2e',
    OFFLOADING_NAMESPACE_PREFIX: PREFIX,
    APP_SHUTDOWN_TIMEOUT_SECONDS: '1',
    TCP_TUNNEL_ENABLED: 'true',
    TCP_TUNNEL_GATEWAY_HOST: nodeIp,
    TCP_TUNNEL_GATEWAY_PORT: String(sshPort),
    TCP_TUNNEL_GATEWAY_HOST_PUBLIC_KEY: keys.hostPublicKey,
    TCP_TUNNEL_POD_KEY_SECRET: keys.podKeySecret,
    TCP_TUNNEL_BASTION_IMAGE: TUNNEL_IMAGE,
  });
  teardown.push(async () => {
    for (const pod of offloaded) await plugin.client.send('POST', '/delete', pod);
    await plugin.close();
  });
}, 300_000);

afterAll(async () => {
  for (const undo of teardown.reverse()) await undo();
}, 120_000);

// --- the tests -------------------------------------------------------------

describe('microservice offloading through the tunnel', () => {
  it('serves an offloaded HTTP pod to a client on the local side through its published Service', async () => {
    await offload(httpPod(LOCAL_NS, 'web-a', [{ port: 8080, name: 'http', body: 'hello-from-web-a' }]));

    const { address, port } = await endpoint('web-a', 'http');
    expect(address).toBe(client.hostIp);
    await expect(eventually('web-a answers', () => fetchFromClient(address, port), 30_000)).resolves.toBe('hello-from-web-a');

    // The Service: the pod's container port in front of the gateway's port, owned by the local pod.
    const service = await local.kube.ok<{ metadata: { ownerReferences: { kind: string; name: string }[] }; spec: { ports: unknown[]; selector?: unknown } }>(
      'GET',
      `/api/v1/namespaces/${LOCAL_NS}/services/web-a`,
    );
    expect(service.spec.ports).toEqual([expect.objectContaining({ name: 'http', port: 8080, targetPort: port, protocol: 'TCP' })]);
    expect(service.spec.selector).toBeUndefined();
    expect(service.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'Pod', name: 'web-a' })]);

    // The bastion logged in with the pod's own key: its identity is verified.
    expect(gateway.events('forwardAdded')).toContainEqual(
      expect.objectContaining({ identity: { pod: expect.objectContaining({ namespace: LOCAL_NS, name: 'web-a' }), verified: true } }),
    );

    // The sidecar is not part of the status InterLink gets.
    const pod = offloadedPod('web-a');
    const status = await plugin.client.send('GET', '/status', [pod]);
    expect(status.text).not.toContain('interlink-tunnel-bastion');
  }, 240_000);

  it('gives two pods exposing the same container port their own gateway ports', async () => {
    await offload(httpPod(LOCAL_NS, 'web-b', [{ port: 8080, name: 'http', body: 'hello-from-web-b' }]));

    const a = await endpoint('web-a', 'http');
    const b = await endpoint('web-b', 'http');
    expect(b.port).not.toBe(a.port);
    await expect(eventually('web-b answers', () => fetchFromClient(b.address, b.port), 30_000)).resolves.toBe('hello-from-web-b');
    await expect(fetchFromClient(a.address, a.port)).resolves.toBe('hello-from-web-a');
  }, 240_000);

  it('publishes every TCP port of a pod with two, and warns on the local pod about its UDP port', async () => {
    await offload(httpPod(LOCAL_NS, 'duo', [{ port: 8080, name: 'http', body: 'duo-8080' }, { port: 9090, body: 'duo-9090' }], [8125]));

    const names = ['http', 'tcp-9090'];
    const first = await endpoint('duo', 'http', names);
    const second = await endpoint('duo', 'tcp-9090', names);
    await expect(eventually('duo:8080 answers', () => fetchFromClient(first.address, first.port), 30_000)).resolves.toBe('duo-8080');
    await expect(fetchFromClient(second.address, second.port)).resolves.toBe('duo-9090');

    const selector = encodeURIComponent('involvedObject.name=duo,reason=PortsNotTunnelled');
    const events = await eventually('the Warning event on the local pod', async () => {
      const list = await local.kube.ok<{ items: { type: string; message: string; involvedObject: { uid: string } }[] }>(
        'GET',
        `/api/v1/namespaces/${LOCAL_NS}/events?fieldSelector=${selector}`,
      );
      return list.items.length > 0 ? list.items : undefined;
    }, 30_000);
    expect(events).toEqual([
      expect.objectContaining({
        type: 'Warning',
        message: 'Ports 8125/UDP are not reachable through Service duo: the TCP tunnel carries TCP only',
        involvedObject: expect.objectContaining({ uid: offloadedPod('duo').metadata.uid }),
      }),
    ]);
  }, 240_000);

  it('recovers from a gateway restart in the middle of traffic: bastions are back within 5 s', async () => {
    const before = await endpoint('web-a', 'http');
    // Traffic while the gateway goes away and comes back (requests fail while it is away).
    const load = { stop: false, successes: 0 };
    const traffic = (async () => {
      while (!load.stop) {
        try {
          await fetchFromClient(before.address, before.port);
          load.successes++;
        } catch {
          // The gateway is away.
        }
      }
    })();
    await eventually('some traffic', () => Promise.resolve(load.successes > 2 ? true : undefined), 20_000);
    await gateway.stop();
    gateway = await startGatewayProcess(gatewayEnv);
    const restarted = gateway;

    // Each bastion re-asks for its forwards; measure from the new gateway's start.
    const back = await eventually(
      'the three bastions back',
      () => {
        const pods = new Set(restarted.events('forwardAdded').map((e) => (e.identity as { pod: { name: string } }).pod.name));
        return Promise.resolve(pods.size === 3 ? Date.now() : undefined);
      },
      30_000,
    );
    expect(back - restarted.startedAt).toBeLessThan(5_000);

    // New requests succeed, at whatever port the EndpointSlice names now.
    const after = await endpoint('web-a', 'http');
    await expect(eventually('web-a answers again', () => fetchFromClient(after.address, after.port), 10_000)).resolves.toBe('hello-from-web-a');
    load.stop = true;
    await traffic;
    expect(load.successes).toBeGreaterThan(2);
  }, 120_000);

  it('removes the bastion, its Secret and, when its forwards are gone, the Service, when the pod is deleted', async () => {
    const pod = offloadedPod('web-b');
    const selector = `?labelSelector=${encodeURIComponent(`interlink.io/source.pod_uid=${pod.metadata.uid}`)}`;
    const remotePods = await remoteKube.ok<{ items: unknown[] }>('GET', `/api/v1/namespaces/${remoteNamespace}/pods${selector}`);
    expect(remotePods.items).toHaveLength(1);

    // InterLink deletes the offloaded pod; the local pod object is still there (terminating).
    const answer = await plugin.client.send('POST', '/delete', pod);
    expect(answer.status).toBe(200);
    offloaded.splice(offloaded.indexOf(pod), 1);

    await eventually('remote pod (with its bastion) and Secret gone', async () => {
      const pods = await remoteKube.ok<{ items: unknown[] }>('GET', `/api/v1/namespaces/${remoteNamespace}/pods${selector}`);
      const secrets = await remoteKube.ok<{ items: unknown[] }>('GET', `/api/v1/namespaces/${remoteNamespace}/secrets${selector}`);
      return pods.items.length + secrets.items.length === 0 ? true : undefined;
    }, 60_000);
    // The bastion's connection ended with its pod: the gateway empties the endpoints, then deletes the Service after the grace period.
    await eventually('EndpointSlice of web-b without endpoints', async () => {
      const slice = await local.kube.call('GET', `/apis/discovery.k8s.io/v1/namespaces/${LOCAL_NS}/endpointslices/web-b`);
      return slice.status === 200 && ((slice.json as { endpoints?: unknown[] }).endpoints ?? []).length === 0 ? true : undefined;
    }, 30_000);
    await eventually('Service and EndpointSlice of web-b gone', async () => {
      const service = await local.kube.call('GET', `/api/v1/namespaces/${LOCAL_NS}/services/web-b`);
      const slice = await local.kube.call('GET', `/apis/discovery.k8s.io/v1/namespaces/${LOCAL_NS}/endpointslices/web-b`);
      return service.status === 404 && slice.status === 404 ? true : undefined;
    }, GRACE_MS + 20_000);
    expect(gateway.events('serviceDeleted')).toContainEqual(expect.objectContaining({ service: `${LOCAL_NS}/web-b`, reason: 'forwards-gone' }));
    await local.kube.ok('DELETE', `/api/v1/namespaces/${LOCAL_NS}/pods/${pod.metadata.name}?gracePeriodSeconds=0`);

    // The other pods keep theirs.
    const a = await endpoint('web-a', 'http');
    await expect(fetchFromClient(a.address, a.port)).resolves.toBe('hello-from-web-a');
  }, 120_000);

  it('leaves no Service behind when a local pod is deleted while the gateway is down', async () => {
    const pod = offloadedPod('duo');
    await gateway.stop();
    await local.kube.ok('DELETE', `/api/v1/namespaces/${LOCAL_NS}/pods/duo?gracePeriodSeconds=0`);
    // The cluster's garbage collector removes the Service it owns, and the slice with it.
    await eventually('Service of duo collected', async () => {
      const service = await local.kube.call('GET', `/api/v1/namespaces/${LOCAL_NS}/services/duo`);
      const slice = await local.kube.call('GET', `/apis/discovery.k8s.io/v1/namespaces/${LOCAL_NS}/endpointslices/duo`);
      return service.status === 404 && slice.status === 404 ? true : undefined;
    }, 60_000);
    await plugin.client.send('POST', '/delete', pod);
    offloaded.splice(offloaded.indexOf(pod), 1);
    gateway = await startGatewayProcess(gatewayEnv);
  }, 120_000);
});

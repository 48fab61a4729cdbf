/**
 * The gateway's memory as it runs in a cluster: publishing a Service per
 * offloaded pod in a real local control plane, with per-pod keys, for
 * `BENCH_TUNNELS` (200) pods, each with its own bastion. Run on demand
 * (`pnpm bench:gateway-publishing`), not part of the tests; prints figures.
 *
 * The tunnel benchmark (`pnpm bench:tunnel`) measures the gateway without
 * publishing, beside OpenSSH; this one adds what publishing costs: the TLS
 * client to the API server and the publisher's state per pod. The gateway
 * runs as the image runs it (node flags and `MALLOC_ARENA_MAX`).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bastion } from '@interlink-k8s/tunnel';
import { bastionLabels, derivePodKey } from '@interlink-k8s/contract';
import { eventually } from '../harness/index.js';
import { freePorts } from '../harness/ports.js';
import { memoryOf } from '../harness/process.js';
import { ClientNamespace, createLocalPod, gatewayApiAccess, httpPod, makeTunnelKeys, startGatewayProcess, startLocalCluster } from '../tunnel/local-side.js';

const TUNNELS = Number(process.env.BENCH_TUNNELS ?? 200);
const NAMESPACE = 'shop';
const SETTLE_SECONDS = Number(process.env.BENCH_SETTLE_SECONDS ?? 30);

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'gateway-memory-'));
  const undo: (() => Promise<void>)[] = [() => rm(dir, { recursive: true, force: true })];
  const cleanUp = async () => {
    for (const step of undo.splice(0).reverse()) await step().catch(() => undefined);
  };
  // Interrupted (Ctrl-C), it still removes its network namespace and stops its control plane.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void cleanUp().then(() => process.exit(130));
    });
  }
  try {
    const local = await startLocalCluster('gwmem', [NAMESPACE, 'interlink']);
    undo.push(() => local.controlPlane.stop());
    const keys = await makeTunnelKeys(dir);
    const secret = Buffer.from(keys.podKeySecret, 'base64');
    // EndpointSlices refuse loopback addresses: the gateway advertises an address on a veth pair.
    const client = await ClientNamespace.create();
    undo.push(() => client.remove());
    const [sshPort = 0, httpPort = 0] = await freePorts(2);
    const gateway = await startGatewayProcess({
      ...(await gatewayApiAccess(local, 'interlink', dir)),
      TUNNEL_GATEWAY_HOST_KEY: keys.hostKeyPath,
      TUNNEL_GATEWAY_POD_KEY_SECRET: keys.podKeySecret,
      TUNNEL_GATEWAY_LISTEN_HOST: '127.0.0.1',
      TUNNEL_GATEWAY_LISTEN_PORT: String(sshPort),
      TUNNEL_GATEWAY_HTTP_HOST: '127.0.0.1',
      TUNNEL_GATEWAY_HTTP_PORT: String(httpPort),
      TUNNEL_GATEWAY_PORT_RANGE: '26000-26999',
      TUNNEL_GATEWAY_PUBLISH_SERVICES: 'true',
      TUNNEL_GATEWAY_ADVERTISE_ADDRESS: client.hostIp,
    });
    undo.push(() => gateway.stop());
    const pid = gateway.child.pid ?? 0;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const idle = await memoryOf(pid);

    // The bastions forward to a local server that is never called: the tunnels are idle.
    const target = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    undo.push(() => new Promise((resolve) => target.close(() => { resolve(); })));
    const bastions: Bastion[] = [];
    undo.push(async () => {
      await Promise.all(bastions.map((b) => b.stop()));
    });
    const started = Date.now();
    for (let i = 0; i < TUNNELS; i++) {
      const pod = await createLocalPod(local, httpPod(NAMESPACE, `web-${String(i)}`, [{ port: 8080, name: 'http', body: 'unused' }]));
      const identity = { namespace: NAMESPACE, name: pod.metadata.name, uid: pod.metadata.uid };
      const bastion = Bastion.fromConfig({
        host: '127.0.0.1',
        port: sshPort,
        labels: bastionLabels(identity),
        privateKey: derivePodKey(secret, identity).privateKey,
        hostKeys: keys.hostPublicKey,
        forwards: [{ bindPort: 8080, targetPort: (target.address() as AddressInfo).port }],
      });
      bastion.start();
      bastions.push(bastion);
    }
    await eventually('every Service published', () => Promise.resolve(gateway.events('servicePublished').length >= TUNNELS ? true : undefined), 180_000);
    const publishedIn = (Date.now() - started) / 1000;
    // Right after the burst of API calls, and once the garbage of it has had time to go.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const afterBurst = await memoryOf(pid);
    await new Promise((resolve) => setTimeout(resolve, SETTLE_SECONDS * 1000));
    const busy = await memoryOf(pid);
    const services = await local.kube.ok<{ items: unknown[] }>('GET', `/api/v1/namespaces/${NAMESPACE}/services`);

    process.stdout.write(
      [
        `gateway publishing in a real local control plane (per-pod keys), node ${process.version}`,
        `  ${String(services.items.length)} Services published for ${String(TUNNELS)} pods in ${publishedIn.toFixed(1)} s (pods created one by one meanwhile)`,
        `  gateway RSS: ${idle.rss.toFixed(1)} MiB idle; with ${String(TUNNELS)} idle tunnels and their Services ${afterBurst.rss.toFixed(1)} MiB 3 s after the last was published, ${busy.rss.toFixed(1)} MiB ${String(SETTLE_SECONDS)} s later`,
        `  of which anonymous: ${idle.anon.toFixed(1)}, ${afterBurst.anon.toFixed(1)} and ${busy.anon.toFixed(1)} MiB`,
        `  publish errors: ${String(gateway.events('publishFailed').length)}`,
        '',
      ].join('\n'),
    );
  } finally {
    await cleanUp();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`gateway-publishing-memory: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);

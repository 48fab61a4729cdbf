/**
 * The gateway with the per-namespace RBAC of its chart (`rbac.namespaces`):
 * a Role in `shop` and `web` only, a real ServiceAccount token, a local
 * control plane. OpenSSH's `ssh -R` stands in for a bastion with a shared
 * authorised key (the reference's set-up, where the pod a client names is
 * its claim). It publishes in `shop`, is refused nothing it needs there,
 * does not publish in `other`, and a restarted gateway takes over (and, with
 * no bastion back, removes) the Service through the per-namespace list.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually } from '../harness/index.js';
import { freePorts } from '../harness/ports.js';
import { startProcess, type ManagedProcess } from '../harness/process.js';
import {
  ClientNamespace,
  createLocalPod,
  endpointOf,
  gatewayApiAccess,
  httpPod,
  makeTunnelKeys,
  startGatewayProcess,
  startLocalCluster,
  type GatewayProcess,
  type LocalCluster,
} from '../tunnel/local-side.js';

const run = promisify(execFile);
const TAG = randomBytes(3).toString('hex');
const GRACE_MS = 3_000;

let local: LocalCluster;
let gateway: GatewayProcess;
let gatewayEnv: Record<string, string>;
let dir: string;
let sshPort: number;
let bastionKeyPath: string;
let knownHosts: string;
let client: ClientNamespace;
let web: Server;
let webPort: number;
const clients: ManagedProcess[] = [];
const teardown: (() => Promise<unknown>)[] = [];

/** `ssh -N -R <containerPort>:127.0.0.1:<web>` as the bastion of `namespace/name` (uid) would ask. */
function reverseForward(namespace: string, name: string, uid: string, containerPort: number): ManagedProcess {
  const user = `namespace=${namespace},pod=${name},uid=${uid}`;
  const client = startProcess({
    name: `ssh -R for ${namespace}/${name}`,
    command: '/usr/bin/ssh',
    logPath: join(dir, `ssh-${name}.log`),
    args: [
    '-F', '/dev/null',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', `UserKnownHostsFile=${knownHosts}`,
    '-o', 'BatchMode=yes',
    '-o', 'IdentitiesOnly=yes',
    '-o', 'ExitOnForwardFailure=yes',
    '-i', bastionKeyPath,
    '-N', '-p', String(sshPort),
    '-R', `${String(containerPort)}:127.0.0.1:${String(webPort)}`,
    `${user}@127.0.0.1`,
    ],
  });
  clients.push(client);
  return client;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ilk8s-tunnel-ns-'));
  teardown.push(() => rm(dir, { recursive: true, force: true }));
  local = await startLocalCluster(`local-ns-${TAG}`, ['shop', 'web', 'other', 'interlink']);
  teardown.push(() => local.controlPlane.stop());

  const keys = await makeTunnelKeys(dir);
  bastionKeyPath = join(dir, 'bastion');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bastion', '-f', bastionKeyPath]);
  const ports = await freePorts(2);
  sshPort = ports[0] ?? 0;
  knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, `[127.0.0.1]:${String(sshPort)} ${keys.hostPublicKey.split(' ').slice(0, 2).join(' ')}\n`);

  web = createServer((_req, res) => res.end('from-the-pod'));
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  webPort = (web.address() as { port: number }).port;
  teardown.push(() => new Promise((resolve) => web.close(resolve)));

  // EndpointSlices refuse loopback addresses: the gateway advertises an address on a veth pair.
  client = await ClientNamespace.create();
  teardown.push(() => client.remove());
  gatewayEnv = {
    ...(await gatewayApiAccess(local, 'interlink', dir, ['shop', 'web'])),
    TUNNEL_GATEWAY_HOST_KEY: keys.hostKeyPath,
    TUNNEL_GATEWAY_AUTHORIZED_KEYS: await readFile(`${bastionKeyPath}.pub`, 'utf8'),
    TUNNEL_GATEWAY_LISTEN_HOST: '127.0.0.1',
    TUNNEL_GATEWAY_LISTEN_PORT: String(sshPort),
    TUNNEL_GATEWAY_HTTP_HOST: '127.0.0.1',
    TUNNEL_GATEWAY_HTTP_PORT: String(ports[1] ?? 0),
    TUNNEL_GATEWAY_PORT_RANGE: '22100-22199',
    TUNNEL_GATEWAY_PUBLISH_SERVICES: 'true',
    TUNNEL_GATEWAY_ADVERTISE_ADDRESS: client.hostIp,
    TUNNEL_GATEWAY_SERVICE_GRACE_MS: String(GRACE_MS),
  };
  gateway = await startGatewayProcess(gatewayEnv);
  teardown.push(async () => {
    await Promise.all(clients.map((client) => client.stop()));
    await gateway.stop();
  });
}, 120_000);

afterAll(async () => {
  for (const undo of teardown.reverse()) await undo();
}, 60_000);

describe('the gateway with per-namespace RBAC', () => {
  it('publishes in a namespace it was given, with nothing refused', async () => {
    expect(gatewayEnv.TUNNEL_GATEWAY_NAMESPACES).toBe('shop,web');
    const api = await createLocalPod(local, httpPod('shop', 'api', [{ port: 8080, name: 'http', body: 'unused' }]));
    reverseForward('shop', 'api', api.metadata.uid, 8080);

    const { address, port } = await endpointOf(local, 'shop', 'api', 'http', ['http'], 30_000);
    expect(address).toBe(client.hostIp);
    await expect(client.get(address, port)).resolves.toBe('from-the-pod');
    expect(gateway.events('publishFailed')).toEqual([]);
  }, 60_000);

  it('does not publish in a namespace it was not given', async () => {
    const pod = await createLocalPod(local, httpPod('other', 'x', [{ port: 8080, body: 'unused' }]));
    reverseForward('other', 'x', pod.metadata.uid, 8080);

    await eventually('the forward refused for publishing', () =>
      Promise.resolve(gateway.events('publishSkipped').some((e) => e.reason === 'namespace-not-published') ? true : undefined), 30_000);
    expect((await local.kube.call('GET', '/api/v1/namespaces/other/services/x')).status).toBe(404);
    expect(gateway.events('publishFailed')).toEqual([]);
  }, 60_000);

  it('after a restart, finds its Service through the per-namespace list and removes it when no bastion comes back', async () => {
    await Promise.all(clients.splice(0).map((client) => client.stop()));
    await gateway.stop();
    gateway = await startGatewayProcess(gatewayEnv);

    await eventually('the stale Service removed', () =>
      Promise.resolve(gateway.events('serviceDeleted').some((e) => e.service === 'shop/api' && e.reason === 'stale') ? true : undefined),
      GRACE_MS + 20_000);
    expect((await local.kube.call('GET', '/api/v1/namespaces/shop/services/api')).status).toBe(404);
    expect(gateway.events('publishFailed')).toEqual([]);
  }, 60_000);
});

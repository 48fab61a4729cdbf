/**
 * The local side of the microservice tunnel in the sandbox, shared by the
 * tunnel's e2e test and the demo:
 *
 * - a local cluster: a control plane of its own with a virtual node object
 *   (no kubelet: its pods stand for the ones InterLink's virtual node holds);
 * - the gateway's credentials there: the RBAC its chart renders, applied for
 *   real, and a ServiceAccount token from the TokenRequest API;
 * - the gateway (`interlink-tunnel-gateway`, the build that goes into the
 *   tunnel image) as a host process;
 * - a client in a network namespace of its own, joined to the host by a veth
 *   pair. With no kube-proxy or DNS in the sandbox, it connects where the
 *   published Service's EndpointSlice says, which is what kube-proxy does.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { IMAGE_NODE_FLAGS, IMAGE_RUNTIME_ENV } from '@interlink-k8s/tunnel';
import { KubeConfig } from '@kubernetes/client-node';
import { Helm, Kubectl, helmBinary, kubectlBinary } from '../charts/chart-tools.js';
import { eventually, rawKube, startControlPlane, type ControlPlane, type RawKube } from '../harness/index.js';

const run = promisify(execFile);
const TUNNEL_BIN = fileURLToPath(new URL('../../../packages/tunnel/dist/bin/', import.meta.url));

/** The bastion image the plugin puts in offloaded pods (built by `build-project-images.sh tunnel`). */
export const TUNNEL_IMAGE = 'ghcr.io/interlink-k8s/tcp-tunnel:0.1.0';
/** Name of the virtual node object of every local cluster. */
export const VIRTUAL_NODE = 'interlink-vk';

/** A local cluster and an admin client of it. */
export interface LocalCluster {
  readonly controlPlane: ControlPlane;
  readonly kube: RawKube;
  /** PEM of the cluster's CA (what a gateway pod finds in its service-account volume). */
  readonly caPem: string;
}

/** Starts a control plane for the local cluster, with the virtual node and `namespaces`. */
export async function startLocalCluster(name: string, namespaces: readonly string[]): Promise<LocalCluster> {
  const controlPlane = await startControlPlane({ name });
  const kc = new KubeConfig();
  kc.loadFromFile(controlPlane.kubeconfigPath);
  const kube = rawKube(kc);
  await kube.ok('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: VIRTUAL_NODE, labels: { type: 'virtual-kubelet' } } });
  for (const namespace of namespaces) await kube.ok('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  return { controlPlane, kube, caPem: Buffer.from(kc.getCurrentCluster()?.caData ?? '', 'base64').toString('utf8') };
}

/** Keys shared by the gateway and the plugin. */
export interface TunnelKeys {
  /** Path of the gateway's host private key; `<path>.pub` holds its public half. */
  readonly hostKeyPath: string;
  readonly hostPublicKey: string;
  /** Base64 of 32 random bytes: the secret per-pod bastion keys come from. */
  readonly podKeySecret: string;
}

/** Generates the gateway's host key (ssh-keygen) and a pod-key secret in `dir`. */
export async function makeTunnelKeys(dir: string): Promise<TunnelKeys> {
  const hostKeyPath = join(dir, 'gateway-host-key');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'gateway', '-f', hostKeyPath]);
  return { hostKeyPath, hostPublicKey: await readFile(`${hostKeyPath}.pub`, 'utf8'), podKeySecret: randomBytes(32).toString('base64') };
}

/**
 * Applies the gateway's ServiceAccount and RBAC exactly as the
 * `tcp-tunnel-gateway` chart renders them, in `namespace` of the local
 * cluster — cluster-wide, or a Role per namespace of `publishIn` (the
 * chart's `rbac.namespaces`) — and writes a token of that account and the
 * cluster's CA to `dir`. Resolves to the environment the gateway needs to
 * reach the API with them (and to publish only in `publishIn`).
 */
export async function gatewayApiAccess(
  local: LocalCluster,
  namespace: string,
  dir: string,
  publishIn: readonly string[] = [],
): Promise<Record<string, string>> {
  const rendered = await new Helm(helmBinary()).template('tcp-tunnel-gateway', {
    release: 'gw',
    namespace,
    setJson: {
      hostKey: { privateKey: 'rendered-for-its-rbac-only' },
      authorizedKeys: ['ssh-ed25519 AAAA rendered-for-its-rbac-only'],
      rbac: { namespaces: publishIn },
    },
  });
  const kubectl = new Kubectl(kubectlBinary(), local.controlPlane.kubeconfigPath);
  const objects = await kubectl.objects(rendered);
  const rbac = objects.filter((o) => ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(o.kind));
  const expected = publishIn.length === 0 ? 3 : 1 + 2 * publishIn.length;
  if (rbac.length !== expected) throw new Error(`expected the chart's ServiceAccount and ${String(expected - 1)} RBAC objects, got ${rbac.map((o) => o.kind).join(', ')}`);
  // Roles carry their own namespaces; the rest goes to the release's.
  const placed = rbac.map((o) => (o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding' || o.metadata.namespace !== undefined ? o : { ...o, metadata: { ...o.metadata, namespace } }));
  await kubectl.run(['apply', '--filename=-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: placed }));
  const account = rbac.find((o) => o.kind === 'ServiceAccount')?.metadata.name ?? '';
  const token = await local.kube.ok<{ status: { token: string } }>('POST', `/api/v1/namespaces/${namespace}/serviceaccounts/${account}/token`, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: { expirationSeconds: 3600 },
  });
  await writeFile(join(dir, 'gateway-token'), token.status.token);
  await writeFile(join(dir, 'local-ca.crt'), local.caPem);
  return {
    ...(publishIn.length === 0 ? {} : { TUNNEL_GATEWAY_NAMESPACES: publishIn.join(',') }),
    TUNNEL_GATEWAY_KUBE_API_URL: local.controlPlane.apiServerUrl,
    TUNNEL_GATEWAY_KUBE_TOKEN_FILE: join(dir, 'gateway-token'),
    TUNNEL_GATEWAY_KUBE_CA_FILE: join(dir, 'local-ca.crt'),
  };
}

/** The gateway running as a process; its JSON log lines are kept. */
export interface GatewayProcess {
  readonly child: ChildProcess;
  readonly lines: string[];
  /** When it was spawned (ms since the epoch). */
  readonly startedAt: number;
  /** Its log lines of one `event` (`forwardAdded`, `servicePublished`, ...), parsed. */
  events(event: string): Record<string, unknown>[];
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
}

/** Starts `interlink-tunnel-gateway` with `env` (and PATH), as the tunnel image runs it, and waits until it listens. */
export async function startGatewayProcess(env: Readonly<Record<string, string>>): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [...IMAGE_NODE_FLAGS, join(TUNNEL_BIN, 'gateway.js')], {
    env: { PATH: process.env.PATH ?? '', ...IMAGE_RUNTIME_ENV, ...env },
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
  await eventually(
    'gateway listening',
    () => {
      if (child.exitCode !== null) throw new Error(`gateway exited ${String(child.exitCode)}:\n${lines.join('\n')}`);
      return Promise.resolve(lines.some((line) => line.includes('"event":"listening"')) ? true : undefined);
    },
    15_000,
    { retryOnError: false },
  );
  return {
    child,
    lines,
    startedAt,
    events: (event) => lines.filter((line) => line.includes(`"event":"${event}"`)).map((line) => JSON.parse(line) as Record<string, unknown>),
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/** A network namespace with `curl`, joined to the host by a veth pair on a /30 of 10.254.0.0/16. */
export class ClientNamespace {
  /** The host's end: the address the gateway advertises in EndpointSlices. */
  readonly hostIp: string;
  readonly name: string;
  readonly #tag: string;

  private constructor(tag: string) {
    this.#tag = tag;
    this.name = `ilk8s-client-${tag}`;
    this.hostIp = `10.254.${String(Number.parseInt(tag.slice(0, 2), 16))}.1`;
  }

  static async create(): Promise<ClientNamespace> {
    const ns = new ClientNamespace(randomBytes(3).toString('hex'));
    const [host, peer, clientIp] = [`ilk8s-h${ns.#tag}`, `ilk8s-c${ns.#tag}`, ns.hostIp.replace(/\.1$/, '.2')];
    await run('ip', ['netns', 'add', ns.name]);
    try {
      await run('ip', ['link', 'add', host, 'type', 'veth', 'peer', 'name', peer]);
      await run('ip', ['link', 'set', peer, 'netns', ns.name]);
      await run('ip', ['addr', 'add', `${ns.hostIp}/30`, 'dev', host]);
      await run('ip', ['link', 'set', host, 'up']);
      await run('ip', ['netns', 'exec', ns.name, 'ip', 'addr', 'add', `${clientIp}/30`, 'dev', peer]);
      await run('ip', ['netns', 'exec', ns.name, 'ip', 'link', 'set', peer, 'up']);
      await run('ip', ['netns', 'exec', ns.name, 'ip', 'link', 'set', 'lo', 'up']);
    } catch (error) {
      await ns.remove();
      throw error;
    }
    return ns;
  }

  /** `curl http://address:port/` from inside the namespace; the body, or throws with curl's error. */
  async get(address: string, port: number): Promise<string> {
    const { stdout } = await run('ip', ['netns', 'exec', this.name, 'curl', '-sS', '--fail', '--max-time', '5', `http://${address}:${String(port)}/`]);
    return stdout.trim();
  }

  /** Deletes the namespace (and with it the veth pair). */
  async remove(): Promise<void> {
    await run('ip', ['netns', 'del', this.name]).catch(() => undefined);
  }
}

/** A local pod as a user writes it, before the API server gives it a UID. */
export interface LocalPod {
  apiVersion: 'v1';
  kind: 'Pod';
  metadata: { name: string; namespace: string; uid: string };
  spec: Record<string, unknown>;
}

/**
 * An HTTP microservice pod on the virtual node: busybox `httpd` answering
 * `body` on each port; `udpPorts` are declared (as UDP) but not served.
 */
export function httpPod(
  namespace: string,
  name: string,
  ports: readonly { port: number; name?: string; body: string }[],
  udpPorts: readonly number[] = [],
): LocalPod {
  const serve = ports
    .map(({ port, body }) => {
      const root = `/tmp/www${String(port)}`;
      return `mkdir -p ${root} && echo ${body} > ${root}/index.html && httpd -f -p ${String(port)} -h ${root} &`;
    })
    .join(' ');
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, uid: '' },
    spec: {
      nodeName: VIRTUAL_NODE,
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 2,
      // The virtual node never heartbeats; InterLink's node pods tolerate that.
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
          ports: [
            ...ports.map((p) => ({ containerPort: p.port, protocol: 'TCP', ...(p.name === undefined ? {} : { name: p.name }) })),
            ...udpPorts.map((port) => ({ containerPort: port, protocol: 'UDP' })),
          ],
        },
      ],
    },
  };
}

/** Creates `pod` in the local cluster (as a user would); resolves to it with the UID the API server gave it. */
export async function createLocalPod(local: LocalCluster, pod: LocalPod): Promise<LocalPod> {
  const created = await local.kube.ok<{ metadata: { uid: string } }>('POST', `/api/v1/namespaces/${pod.metadata.namespace}/pods`, pod);
  return { ...pod, metadata: { ...pod.metadata, uid: created.metadata.uid } };
}

interface Slice {
  endpoints?: { addresses: string[] }[];
  ports?: { name: string; port: number }[];
}

/**
 * Where a client connects for the Service port `portName` of the Service
 * published for pod `name`: the address and port its EndpointSlice names,
 * once the slice has an endpoint and exactly the ports `allPortNames`.
 */
export async function endpointOf(
  local: LocalCluster,
  namespace: string,
  name: string,
  portName: string,
  allPortNames: readonly string[] = [portName],
  timeoutMs = 120_000,
): Promise<{ address: string; port: number }> {
  const wanted = JSON.stringify([...allPortNames].sort());
  return eventually(
    `EndpointSlice of ${namespace}/${name} with ports ${allPortNames.join(',')}`,
    async () => {
      const res = await local.kube.call('GET', `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices/${name}`);
      if (res.status !== 200) return undefined;
      const slice = res.json as Slice;
      if (JSON.stringify((slice.ports ?? []).map((p) => p.name).sort()) !== wanted) return undefined;
      const address = slice.endpoints?.[0]?.addresses[0];
      const port = slice.ports?.find((p) => p.name === portName)?.port;
      return address === undefined || port === undefined ? undefined : { address, port };
    },
    timeoutMs,
    { intervalMs: 250 },
  );
}

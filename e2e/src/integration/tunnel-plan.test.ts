import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { RetrievedPodDataSchema, type PluginAnswer } from '@interlink-k8s/protocol';
import {
  BASTION_CONTAINER_NAME,
  TCP_TUNNEL_IGNORED_PORTS_ANNOTATION,
  TUNNEL_SECRET_HOST_KEY,
  TUNNEL_SECRET_PRIVATE_KEY,
  planRemoteObjects,
  remoteTunnelSecretName,
} from '@interlink-k8s/remote-k8s';
import { eventually as poll, rawKube, testKubeconfigPath, type MetaJson } from '../harness/index.js';
import { startInProcessPlugin, type InProcessPlugin } from '../plugin/in-process-plugin.js';

// The TCP tunnel's bastion, as the plugin wires it: the plugin in this
// process, configured with the tcp_tunnel.* keys as in production, creates
// and deletes pods over HTTP against the shared real kube-apiserver; every
// object is read back as the API server's raw JSON. A node selector no node
// matches keeps the remote pods unscheduled, so no image is pulled and a
// delete takes effect at once.

const run = promisify(execFile);

type Meta = MetaJson;
interface EnvJson {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
interface ContainerJson {
  name: string;
  image?: string;
  args?: string[];
  restartPolicy?: string;
  env?: EnvJson[];
  securityContext?: Record<string, unknown>;
  [field: string]: unknown;
}
interface PodJson {
  metadata: Meta;
  spec: { containers: ContainerJson[]; initContainers?: ContainerJson[] };
}
interface SecretJson {
  metadata: Meta;
  data?: Record<string, string>;
}
interface StatusJson {
  containers: { name: string }[];
  initContainers: { name: string }[];
}

const PREFIX = 'tunnelplan';
const kc = new KubeConfig();
const api = rawKube(kc);
const podKeySecret = randomBytes(32);
let hostPublicKey = '';
let sharedPrivateKey = '';
let perPod: InProcessPlugin;
let shared: InProcessPlugin;

const eventually = <T>(what: string, check: () => Promise<T | undefined>): Promise<T> =>
  poll(what, check, 30_000, { intervalMs: 150, retryOnError: false });

async function sshKeyPair(dir: string, name: string): Promise<{ priv: string; pub: string }> {
  const path = join(dir, name);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', path]);
  return { priv: await readFile(path, 'utf8'), pub: await readFile(`${path}.pub`, 'utf8') };
}

/** The public key (and comment) OpenSSH derives from a private key: proves the key is a usable OpenSSH key. */
async function publicKeyOf(privateKey: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ilk8s-tunnel-plan-'));
  try {
    const path = join(dir, 'key');
    await writeFile(path, privateKey, { mode: 0o600 });
    return (await run('ssh-keygen', ['-y', '-f', path])).stdout.trim();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const startPlugin = (keyEnv: Record<string, string>): Promise<InProcessPlugin> =>
  startInProcessPlugin({
    K8S_KUBECONFIG_PATH: testKubeconfigPath(),
    K8S_FIELD_MANAGER: 'interlink-k8s-tunnel-plan-e2e',
    OFFLOADING_NAMESPACE_PREFIX: PREFIX,
    OFFLOADING_NODE_SELECTOR: JSON.stringify({ 'interlink-k8s.e2e/no-such-node': 'true' }),
    APP_SHUTDOWN_TIMEOUT_SECONDS: '1',
    TCP_TUNNEL_ENABLED: 'true',
    TCP_TUNNEL_GATEWAY_HOST: 'gateway.local.example',
    TCP_TUNNEL_GATEWAY_PORT: '30222',
    TCP_TUNNEL_GATEWAY_HOST_PUBLIC_KEY: Buffer.from(hostPublicKey).toString('base64'),
    TCP_TUNNEL_BASTION_IMAGE: 'ghcr.io/interlink-k8s/tcp-tunnel:0.1.0',
    ...keyEnv,
  });

beforeAll(async () => {
  kc.loadFromFile(testKubeconfigPath());
  const dir = await mkdtemp(join(tmpdir(), 'ilk8s-tunnel-plan-keys-'));
  try {
    hostPublicKey = (await sshKeyPair(dir, 'host')).pub;
    sharedPrivateKey = (await sshKeyPair(dir, 'bastion')).priv;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  perPod = await startPlugin({ TCP_TUNNEL_POD_KEY_SECRET: podKeySecret.toString('base64') });
  shared = await startPlugin({ TCP_TUNNEL_GATEWAY_SSH_PRIVATE_KEY: Buffer.from(sharedPrivateKey).toString('base64') });
}, 60_000);

afterAll(async () => {
  await Promise.all([perPod.close(), shared.close()]);
});

function ok(answer: PluginAnswer): unknown {
  if (answer.status !== 200) throw new Error(`expected 200, got ${answer.status}: ${answer.text}`);
  return answer.text === '' ? undefined : answer.json();
}

/** A web pod with an HTTP port and a UDP metrics port, in a fresh local namespace. */
function webPod(containerName = 'web') {
  const namespace = `tun-${randomBytes(3).toString('hex')}`;
  const uid = randomUUID();
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'shop', namespace, uid },
    spec: {
      nodeName: 'interlink-vk',
      containers: [
        {
          name: containerName,
          image: 'busybox:1.36',
          command: ['sh', '-c', 'sleep 600'],
          ports: [{ containerPort: 8080 }, { containerPort: 8125, protocol: 'UDP' }],
        },
      ],
    },
    status: { phase: 'Pending' },
  };
  const body = {
    pod,
    container: [{ name: containerName, configMaps: null, secrets: null, projectedvolumemaps: null, emptyDirs: null }],
    jobConfig: {},
  };
  return { pod, uid, namespace, body, remoteNamespace: `${PREFIX}-${namespace}` };
}

async function labelled<T>(kind: 'pods' | 'secrets', namespace: string, uid: string): Promise<T[]> {
  const selector = encodeURIComponent(`interlink.io/source.pod_uid=${uid}`);
  return (await api.ok<{ items: T[] }>('GET', `/api/v1/namespaces/${namespace}/${kind}?labelSelector=${selector}`)).items;
}

describe('POST /create with tcp_tunnel.enabled, read back from the remote API server', () => {
  it('gives the remote pod the bastion native sidecar and a Secret owned by it with the key derived for the pod; delete removes both', async () => {
    const { pod, uid, body, remoteNamespace } = webPod();
    ok(await perPod.client.send('POST', '/create', body));

    const [remote] = await labelled<PodJson>('pods', remoteNamespace, uid);
    if (remote === undefined) throw new Error('no remote pod');
    const sidecar = remote.spec.initContainers?.at(-1);
    expect(sidecar).toMatchObject({
      name: BASTION_CONTAINER_NAME,
      image: 'ghcr.io/interlink-k8s/tcp-tunnel:0.1.0',
      args: ['dist/bin/bastion.js'],
      restartPolicy: 'Always',
      securityContext: { runAsNonRoot: true, runAsUser: 65532, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
    });
    const env = Object.fromEntries((sidecar?.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom?.secretKeyRef]));
    const secretName = remoteTunnelSecretName('shop', uid);
    expect(env).toEqual({
      TUNNEL_BASTION_GATEWAY_HOST: 'gateway.local.example',
      TUNNEL_BASTION_GATEWAY_PORT: '30222',
      TUNNEL_BASTION_GATEWAY_HOST_KEY: { name: secretName, key: TUNNEL_SECRET_HOST_KEY },
      TUNNEL_BASTION_PRIVATE_KEY: { name: secretName, key: TUNNEL_SECRET_PRIVATE_KEY },
      TUNNEL_BASTION_LABELS: `namespace=${pod.metadata.namespace},pod=shop,uid=${uid},ignored-ports=8125/UDP`,
      TUNNEL_BASTION_FORWARDS: '8080',
      TUNNEL_BASTION_TARGET_HOST: '127.0.0.1',
    });
    expect(remote.metadata.annotations?.[TCP_TUNNEL_IGNORED_PORTS_ANNOTATION]).toBe('8125/UDP');

    const secret = await api.ok<SecretJson>('GET', `/api/v1/namespaces/${remoteNamespace}/secrets/${secretName}`);
    expect(secret.metadata.ownerReferences).toEqual([
      { apiVersion: 'v1', kind: 'Pod', name: remote.metadata.name, uid: remote.metadata.uid },
    ]);
    const privateKey = Buffer.from(secret.data?.[TUNNEL_SECRET_PRIVATE_KEY] ?? '', 'base64').toString('utf8');
    // The key is the one the translation derives for this pod, and OpenSSH reads it (its comment names the pod).
    const plan = planRemoteObjects(RetrievedPodDataSchema.parse(body), perPod.config.provider.translate);
    const planned = plan.secrets.find((s) => s.metadata?.name === secretName);
    expect(secret.data).toEqual(planned?.data);
    expect(await publicKeyOf(privateKey)).toMatch(new RegExp(`^ssh-ed25519 AAAA\\S+ ${pod.metadata.namespace}/shop$`));
    const hostKeys = Buffer.from(secret.data?.[TUNNEL_SECRET_HOST_KEY] ?? '', 'base64').toString('utf8');
    expect(hostKeys).toBe(`${hostPublicKey.split(' ').slice(0, 2).join(' ')}\n`);

    // InterLink's local pod has no bastion: the status answer does not list it.
    const [status] = ok(await perPod.client.send('GET', '/status', [pod])) as StatusJson[];
    expect(status?.containers.map((c) => c.name)).toEqual(['web']);
    expect(status?.initContainers).toEqual([]);

    ok(await perPod.client.send('POST', '/delete', pod));
    await eventually('pod and Secrets gone', async () => {
      const left = [...(await labelled('pods', remoteNamespace, uid)), ...(await labelled('secrets', remoteNamespace, uid))];
      return left.length === 0 ? true : undefined;
    });
  });

  it('gives another pod another key, and the shared key (tcp_tunnel.gateway_ssh_private_key) when no pod-key secret is set', async () => {
    const first = webPod();
    const second = webPod();
    const third = webPod();
    ok(await perPod.client.send('POST', '/create', first.body));
    ok(await perPod.client.send('POST', '/create', second.body));
    ok(await shared.client.send('POST', '/create', third.body));
    const keyOf = async (p: ReturnType<typeof webPod>): Promise<string> => {
      const secret = await api.ok<SecretJson>(
        'GET',
        `/api/v1/namespaces/${p.remoteNamespace}/secrets/${remoteTunnelSecretName('shop', p.uid)}`,
      );
      return Buffer.from(secret.data?.[TUNNEL_SECRET_PRIVATE_KEY] ?? '', 'base64').toString('utf8');
    };
    expect(await keyOf(first)).not.toBe(await keyOf(second));
    expect(await keyOf(third)).toBe(sharedPrivateKey);
    for (const [plugin, p] of [[perPod, first], [perPod, second], [shared, third]] as const) {
      ok(await plugin.client.send('POST', '/delete', p.pod));
    }
  });

  it('refuses a pod with a container named like the sidecar: 400 naming the field, nothing made remotely', async () => {
    const { uid, body, remoteNamespace } = webPod(BASTION_CONTAINER_NAME);
    const answer = await perPod.client.send('POST', '/create', body);
    expect(answer.status).toBe(400);
    expect((answer.json() as { error: { field?: string } }).error.field).toBe('pod.spec.containers[0].name');
    expect(await labelled('pods', remoteNamespace, uid)).toEqual([]);
    expect(await labelled('secrets', remoteNamespace, uid)).toEqual([]);
  });
});

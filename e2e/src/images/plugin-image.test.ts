import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runScript, testKubeconfigPath, testNodeName } from '../harness/index.js';
import { freePorts } from '../harness/ports.js';
import {
  RESTRICTED_CONTAINER,
  nodePod,
  createAll,
  imageInRegistry,
  kc,
  kube,
  podReady,
  processView,
  socketPid,
} from './image-helpers.js';

// The REAL plugin image (docker/plugin.Dockerfile's contents, built without
// Docker by e2e/scripts/build-project-images.sh into the local registry) run
// as a pod on the shared cluster's real node (containerd + kubelet), with the
// chart's securityContext: non-root 65532, read-only root filesystem, no
// capabilities. hostNetwork: the API server advertises 127.0.0.1, and the
// test reaches the plugin on 127.0.0.1:<free port> without port-forward.

const REPO = 'interlink-k8s/interlink-kubernetes-plugin';
const TAG = '0.1.0';
// containerd's mirror (remote-node.sh hosts.toml) serves ghcr.io from the
// local registry with the host dropped: the pushed REPO under this name.
const IMAGE = `ghcr.io/${REPO}:${TAG}`;

const NS = `image-plugin-${randomBytes(3).toString('hex')}`;
const POD = 'plugin';
let registry = '';
let port = 0;

beforeAll(async () => {
  kc.loadFromFile(testKubeconfigPath());
  // Idempotent: a few seconds when the image is up to date.
  const ref = await runScript('build-project-images.sh', ['plugin']);
  expect(ref).toMatch(new RegExp(`^127\\.0\\.0\\.1:\\d+/${REPO}:${TAG.replaceAll('.', '\\.')}$`));
  registry = ref.slice(0, ref.indexOf('/'));
  [port = 0] = await freePorts(1);
  const kubeconfig = await readFile(testKubeconfigPath(), 'utf8');
  await createAll([
    ['/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }],
    [
      `/api/v1/namespaces/${NS}/secrets`,
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'remote-kubeconfig' }, stringData: { kubeconfig } },
    ],
    [`/api/v1/namespaces/${NS}/pods`, pluginPod()],
  ]);
}, 300_000);

afterAll(async () => {
  if (kc.getCurrentCluster() === null) return;
  await kube('DELETE', `/api/v1/namespaces/${NS}/pods/${POD}?gracePeriodSeconds=0`);
  await kube('DELETE', `/api/v1/namespaces/${NS}`);
}, 60_000);

function pluginPod(): unknown {
  const probe = (path: string) => ({ httpGet: { path, port }, periodSeconds: 2, timeoutSeconds: 2, failureThreshold: 3 });
  return nodePod(
    POD,
    {
      name: 'plugin',
      image: IMAGE,
      imagePullPolicy: 'Always',
      // No command/args: the image's own ENTRYPOINT and WORKDIR.
      env: [
        { name: 'APP_SOCKET_ADDRESS', value: 'http://0.0.0.0' },
        { name: 'APP_SOCKET_PORT', value: String(port) },
        { name: 'K8S_KUBECONFIG_PATH', value: '/etc/interlink-k8s/remote/kubeconfig' },
        // Its own prefix and no sweep: other tests share this cluster.
        { name: 'OFFLOADING_NAMESPACE_PREFIX', value: NS },
        { name: 'OFFLOADING_SWEEP_INTERVAL_SECONDS', value: '0' },
      ],
      ports: [{ name: 'http', containerPort: port }],
      readinessProbe: probe('/readyz'),
      livenessProbe: { ...probe('/healthz'), failureThreshold: 5 },
      securityContext: RESTRICTED_CONTAINER,
      volumeMounts: [{ name: 'remote-kubeconfig', mountPath: '/etc/interlink-k8s/remote', readOnly: true }],
      resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
    },
    [{ name: 'remote-kubeconfig', secret: { secretName: 'remote-kubeconfig', defaultMode: 0o440 } }],
  );
}

describe('plugin image (docker/plugin.Dockerfile contents)', () => {
  it('has the runtime config of the Dockerfile: user 65532, entrypoint, workdir, no HEALTHCHECK', async () => {
    const { config, layerSizes } = await imageInRegistry(registry, REPO, TAG);
    expect(config.User).toBe('65532:65532');
    expect(config.Entrypoint).toEqual(['node', '--max-semi-space-size=4', 'dist/main.js']);
    expect(config.Cmd ?? []).toEqual([]);
    expect(config.WorkingDir).toBe('/app');
    expect(config.Healthcheck).toBeUndefined();
    expect(config.Env).toEqual(expect.arrayContaining([expect.stringMatching(/^PATH=(.*:)?\/usr\/local\/bin(:|$)/)]));
    // Base (node + libraries) and the deployed server; compressed size well
    // under a node:24-bookworm-slim based image.
    expect(layerSizes).toHaveLength(2);
    expect(layerSizes.reduce((sum, size) => sum + size, 0)).toBeLessThan(120 * 1024 * 1024);
  });

  it('runs on the real node as 65532 with a read-only root fs and becomes Ready through /readyz', async () => {
    const pod = await podReady(NS, POD);
    expect(pod.spec.nodeName).toBe(testNodeName());
    expect(pod.status?.containerStatuses?.[0]).toMatchObject({ name: 'plugin', ready: true, restartCount: 0 });

    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);

    // The process behind the port: the container's node, as uid/gid 65532,
    // no capabilities, its root mounted read-only.
    const proc = await processView(await socketPid(`sport = :${port}`, true));
    expect(proc.uid).toEqual(['65532', '65532', '65532', '65532']);
    expect(proc.gid).toEqual(['65532', '65532', '65532', '65532']);
    expect(proc.capEff).toBe('0000000000000000');
    expect(proc.argv).toEqual(['node', '--max-semi-space-size=4', 'dist/main.js']);
    expect(proc.rootReadOnly).toBe(true);
  }, 180_000);
});

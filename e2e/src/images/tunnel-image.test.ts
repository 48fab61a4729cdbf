import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { IMAGE_NODE_FLAGS } from '@interlink-k8s/tunnel';
import { runScript, testKubeconfigPath } from '../harness/index.js';
import { freePorts } from '../harness/ports.js';
import {
  RESTRICTED_CONTAINER,
  nodePod,
  createAll,
  eventually,
  imageInRegistry,
  kc,
  kube,
  podReady,
  processView,
  socketPid,
} from './image-helpers.js';

// The REAL tunnel image (docker/tunnel.Dockerfile's contents, built without
// Docker by e2e/scripts/build-project-images.sh) as two pods on the shared
// cluster's real node, with the charts' restricted securityContext: the
// gateway (the image's default command) and a bastion (args
// dist/bin/bastion.js) that forwards one port to the gateway's own /healthz.
// A request to the gateway's allocated forward port therefore travels
// gateway → SSH → bastion → gateway HTTP: the whole tunnel, inside the images.
// hostNetwork: the test reaches every port on 127.0.0.1.

const run = promisify(execFile);

const REPO = 'interlink-k8s/tcp-tunnel';
const TAG = '0.1.0';
const IMAGE = `ghcr.io/${REPO}:${TAG}`;

const NS = `image-tunnel-${randomBytes(3).toString('hex')}`;
let registry = '';
let sshPort = 0;
let httpPort = 0;
let forwardPort = 0;

async function keyPair(dir: string, name: string): Promise<{ priv: string; pub: string }> {
  const path = join(dir, name);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', path]);
  return { priv: await readFile(path, 'utf8'), pub: await readFile(`${path}.pub`, 'utf8') };
}

beforeAll(async () => {
  kc.loadFromFile(testKubeconfigPath());
  const ref = await runScript('build-project-images.sh', ['tunnel']);
  expect(ref).toMatch(new RegExp(`/${REPO}:${TAG.replaceAll('.', '\\.')}$`));
  registry = ref.slice(0, ref.indexOf('/'));
  [sshPort = 0, httpPort = 0, forwardPort = 0] = await freePorts(3);

  const dir = await mkdtemp(join(tmpdir(), 'ilk8s-tunnel-keys-'));
  try {
    const host = await keyPair(dir, 'host');
    const bastion = await keyPair(dir, 'bastion');
    await createAll([
      ['/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }],
      [
        `/api/v1/namespaces/${NS}/secrets`,
        {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'gateway' },
          stringData: { host: host.priv, authorized_keys: bastion.pub },
        },
      ],
      [
        `/api/v1/namespaces/${NS}/secrets`,
        {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'bastion' },
          stringData: { 'host.pub': host.pub, bastion: bastion.priv },
        },
      ],
      [`/api/v1/namespaces/${NS}/pods`, gatewayPod()],
      [`/api/v1/namespaces/${NS}/pods`, bastionPod()],
    ]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}, 300_000);

afterAll(async () => {
  if (kc.getCurrentCluster() === null) return;
  for (const pod of ['gateway', 'bastion']) {
    await kube('DELETE', `/api/v1/namespaces/${NS}/pods/${pod}?gracePeriodSeconds=0`);
  }
  await kube('DELETE', `/api/v1/namespaces/${NS}`);
}, 60_000);

function pod(name: string, container: Record<string, unknown>, secret: string): unknown {
  return nodePod(
    name,
    {
      name,
      image: IMAGE,
      imagePullPolicy: 'Always',
      securityContext: RESTRICTED_CONTAINER,
      volumeMounts: [{ name: 'keys', mountPath: '/keys', readOnly: true }],
      resources: { requests: { cpu: '20m', memory: '32Mi' }, limits: { memory: '128Mi' } },
      ...container,
    },
    [{ name: 'keys', secret: { secretName: secret, defaultMode: 0o440 } }],
  );
}

function gatewayPod(): unknown {
  const probe = { httpGet: { path: '/healthz', port: httpPort }, periodSeconds: 2, timeoutSeconds: 2 };
  // No command/args: the image's default (the gateway).
  return pod(
    'gateway',
    {
      env: [
        { name: 'TUNNEL_GATEWAY_HOST_KEY', value: '/keys/host' },
        { name: 'TUNNEL_GATEWAY_AUTHORIZED_KEYS', value: '/keys/authorized_keys' },
        { name: 'TUNNEL_GATEWAY_LISTEN_HOST', value: '127.0.0.1' },
        { name: 'TUNNEL_GATEWAY_LISTEN_PORT', value: String(sshPort) },
        { name: 'TUNNEL_GATEWAY_FORWARD_HOST', value: '127.0.0.1' },
        { name: 'TUNNEL_GATEWAY_PORT_RANGE', value: `${forwardPort}-${forwardPort}` },
        // The kubelet probes the node IP: every address.
        { name: 'TUNNEL_GATEWAY_HTTP_HOST', value: '0.0.0.0' },
        { name: 'TUNNEL_GATEWAY_HTTP_PORT', value: String(httpPort) },
      ],
      readinessProbe: probe,
      livenessProbe: { ...probe, failureThreshold: 5 },
    },
    'gateway',
  );
}

function bastionPod(): unknown {
  return pod(
    'bastion',
    {
      args: ['dist/bin/bastion.js'],
      env: [
        { name: 'TUNNEL_BASTION_GATEWAY_HOST', value: '127.0.0.1' },
        { name: 'TUNNEL_BASTION_GATEWAY_PORT', value: String(sshPort) },
        { name: 'TUNNEL_BASTION_GATEWAY_HOST_KEY', value: '/keys/host.pub' },
        { name: 'TUNNEL_BASTION_PRIVATE_KEY', value: '/keys/bastion' },
        { name: 'TUNNEL_BASTION_LABELS', value: `pod=bastion,namespace=${NS}` },
        // "container port" 80 → the gateway's own HTTP server.
        { name: 'TUNNEL_BASTION_FORWARDS', value: `80:127.0.0.1:${httpPort}` },
      ],
    },
    'bastion',
  );
}

/** The Dockerfile's ENTRYPOINT: node and its flags (a tunnel unit test keeps the two in step). */
const ENTRYPOINT = ['node', ...IMAGE_NODE_FLAGS];

describe('tunnel image (docker/tunnel.Dockerfile contents)', () => {
  it('has the runtime config of the Dockerfile: user 65532, node entrypoint, gateway by default, no HEALTHCHECK', async () => {
    const { config, layerSizes } = await imageInRegistry(registry, REPO, TAG);
    expect(config.User).toBe('65532:65532');
    expect(config.Entrypoint).toEqual(ENTRYPOINT);
    expect(config.Env).toContain('MALLOC_ARENA_MAX=1');
    expect(config.Cmd).toEqual(['dist/bin/gateway.js']);
    expect(config.WorkingDir).toBe('/app');
    expect(config.Healthcheck).toBeUndefined();
    expect(layerSizes).toHaveLength(2);
  });

  it('runs the gateway (Ready via /healthz) and a bastion whose forward reaches back through the tunnel', async () => {
    const gateway = await podReady(NS, 'gateway');
    expect(gateway.status?.containerStatuses?.[0]).toMatchObject({ ready: true, restartCount: 0 });
    expect((await fetch(`http://127.0.0.1:${httpPort}/healthz`)).status).toBe(200);

    // Through the tunnel: forward port (gateway) → SSH → bastion → gateway HTTP.
    const body = await eventually(
      'the bastion forward answers',
      async () => {
        const res = await fetch(`http://127.0.0.1:${forwardPort}/healthz`);
        return res.status === 200 ? await res.text() : undefined;
      },
      60_000,
    );
    expect(JSON.parse(body)).toEqual({ status: 'ok' });

    const gatewayProc = await processView(await socketPid(`sport = :${sshPort}`, true));
    expect(gatewayProc.argv).toEqual([...ENTRYPOINT, 'dist/bin/gateway.js']);
    // The bastion: the client end of the SSH connection.
    const bastionProc = await processView(await socketPid(`dport = :${sshPort}`, false));
    expect(bastionProc.argv).toEqual([...ENTRYPOINT, 'dist/bin/bastion.js']);
    for (const proc of [gatewayProc, bastionProc]) {
      // ssh2's native crypto binding is in the image and loaded (it falls back to slower JS-driven crypto silently otherwise).
      expect(await readFile(`/proc/${String(proc.pid)}/maps`, 'utf8')).toContain('sshcrypto.node');
      // The image's runtime setting reaches the process (one malloc arena).
      expect((await readFile(`/proc/${String(proc.pid)}/environ`, 'utf8')).split('\0')).toContain('MALLOC_ARENA_MAX=1');
      expect(proc.uid).toEqual(['65532', '65532', '65532', '65532']);
      expect(proc.capEff).toBe('0000000000000000');
      expect(proc.rootReadOnly).toBe(true);
    }
  }, 180_000);
});

import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { KubeConfig, type HttpMethod } from '@kubernetes/client-node';
import { rawKube, testNodeName } from '../harness/index.js';
import { eventually as poll } from '../harness/eventually.js';

// Helpers of the image tests: raw API calls to the shared cluster, waiting for
// a pod to be Ready, the registry's view of an image, and the host's view of
// a hostNetwork container's process.

const run = promisify(execFile);

export const kc = new KubeConfig();

/** A raw call to the shared cluster as its admin (the body as text). */
export const kube = (method: HttpMethod, path: string, body?: unknown) => rawKube(kc).call(method, path, body);

/** POSTs each object to its collection path; anything but 201 throws. */
export async function createAll(objects: readonly (readonly [path: string, body: unknown])[]): Promise<void> {
  for (const [path, body] of objects) {
    const res = await kube('POST', path, body);
    if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${res.text}`);
  }
}

/** Polls `check` every 500 ms until it returns a value; errors are retried until `timeoutMs`. */
export const eventually = <T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> =>
  poll(what, check, timeoutMs, { intervalMs: 500 });

export interface Pod {
  spec: { nodeName?: string };
  status?: {
    phase?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: {
      name: string;
      ready: boolean;
      restartCount: number;
      state: { waiting?: { reason?: string; message?: string }; running?: unknown; terminated?: unknown };
    }[];
  };
}

/** Waits for the pod's Ready condition; fails fast on pull/crash states. */
export function podReady(namespace: string, name: string, timeoutMs = 120_000): Promise<Pod> {
  return eventually(
    `pod ${namespace}/${name} Ready`,
    async () => {
      const res = await kube('GET', `/api/v1/namespaces/${namespace}/pods/${name}`);
      if (res.status !== 200) throw new Error(`GET pod: ${res.status} ${res.text}`);
      const pod = JSON.parse(res.text) as Pod;
      for (const status of pod.status?.containerStatuses ?? []) {
        const reason = status.state.waiting?.reason;
        if (reason !== undefined && /ErrImage|ImagePullBackOff|CrashLoopBackOff|CreateContainer/.test(reason)) {
          throw new Error(`container ${status.name} waiting: ${reason} ${status.state.waiting?.message ?? ''}`);
        }
      }
      return pod.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? pod : undefined;
    },
    timeoutMs,
  );
}

export interface ImageConfig {
  config: {
    User?: string;
    Entrypoint?: string[];
    Cmd?: string[] | null;
    WorkingDir?: string;
    Env?: string[];
    Healthcheck?: unknown;
  };
}

/** The image config and layer sizes of REPO:TAG, read from the registry's HTTP API. */
export async function imageInRegistry(
  registry: string,
  repo: string,
  tag: string,
): Promise<{ config: ImageConfig['config']; layerSizes: number[] }> {
  const accept = 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json';
  const res = await fetch(`http://${registry}/v2/${repo}/manifests/${tag}`, { headers: { Accept: accept } });
  if (res.status !== 200) throw new Error(`manifest ${repo}:${tag}: ${res.status}`);
  const manifest = (await res.json()) as { config: { digest: string }; layers: { size: number }[] };
  const blob = await fetch(`http://${registry}/v2/${repo}/blobs/${manifest.config.digest}`);
  const image = (await blob.json()) as ImageConfig;
  return { config: image.config, layerSizes: manifest.layers.map((layer) => layer.size) };
}

/** pid of the first process with a socket matching the `ss` filter (hostNetwork: the host's own sockets). */
export async function socketPid(filter: string, listening: boolean): Promise<number> {
  const { stdout } = await run('ss', [listening ? '-Hltnp' : '-Htnp', filter]);
  const match = /pid=(\d+)/.exec(stdout);
  if (match === null) throw new Error(`no socket for "${filter}": ${stdout}`);
  return Number(match[1]);
}

/** What the host sees of a process: ids, effective capabilities, argv, whether its root is read-only. */
export async function processView(pid: number): Promise<{ pid: number; uid: string[]; gid: string[]; capEff: string; argv: string[]; rootReadOnly: boolean }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): string => new RegExp(`^${name}:\\s+(.*)$`, 'm').exec(status)?.[1]?.trim() ?? '';
  const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean);
  const mountinfo = await readFile(`/proc/${pid}/mountinfo`, 'utf8');
  const root = mountinfo.split('\n').find((line) => line.split(' ')[4] === '/');
  return {
    pid,
    uid: field('Uid').split(/\s+/),
    gid: field('Gid').split(/\s+/),
    capEff: field('CapEff'),
    argv,
    rootReadOnly: root?.split(' ')[5]?.split(',').includes('ro') ?? false,
  };
}

/** The securityContext of the charts: non-root 65532, read-only root, no capabilities. */
export const RESTRICTED_CONTAINER = {
  runAsNonRoot: true,
  runAsUser: 65532,
  runAsGroup: 65532,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
} as const;

export const RESTRICTED_POD = {
  runAsNonRoot: true,
  runAsUser: 65532,
  runAsGroup: 65532,
  fsGroup: 65532,
  seccompProfile: { type: 'RuntimeDefault' },
} as const;

/**
 * A pod pinned to the shared test node, on its host network (the API server
 * advertises 127.0.0.1), with the restricted pod security context, one
 * container and its volumes.
 */
export function nodePod(name: string, container: Record<string, unknown>, volumes: readonly unknown[]): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      nodeName: testNodeName(),
      hostNetwork: true,
      dnsPolicy: 'ClusterFirstWithHostNet',
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: 5,
      securityContext: RESTRICTED_POD,
      containers: [container],
      volumes,
    },
  };
}

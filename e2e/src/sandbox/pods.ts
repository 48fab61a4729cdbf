/**
 * What tests and benchmarks do with pods on the sandbox, the way a user
 * does it: kubectl against the local cluster, and a look at the remote
 * cluster to see what the plugin made of them.
 */
import { eventually } from '../harness/index.js';
import type { Sandbox } from './sandbox.js';
import { VIRTUAL_NODE_TAINT } from './interlink.js';

/** A container's state as the API server shows it. */
export interface ContainerStateJson {
  waiting?: { reason?: string; message?: string };
  running?: { startedAt?: string };
  terminated?: { exitCode: number; reason?: string; message?: string };
}

/** A pod as the API server shows it, the fields tests read. */
export interface PodJson {
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    deletionTimestamp?: string;
  };
  spec: { nodeName?: string; [field: string]: unknown };
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    containerStatuses?: { name: string; state?: ContainerStateJson; lastState?: ContainerStateJson; restartCount?: number; ready?: boolean }[];
    initContainerStatuses?: { name: string; state?: ContainerStateJson; restartCount?: number }[];
  };
}

/** The label the plugin puts on every remote object of a local pod (the reference plugin's). */
export const SOURCE_UID_LABEL = 'interlink.io/source.pod_uid';

/**
 * A pod for InterLink's virtual node: `spec` plus the node selector and
 * toleration the conformance templates use (`restartPolicy: Never` and a
 * short grace period unless `spec` says otherwise).
 */
export function virtualNodePod(sandbox: Sandbox, namespace: string, name: string, spec: Record<string, unknown>, metadata: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { ...metadata, name, namespace },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 5,
      nodeSelector: { 'kubernetes.io/hostname': sandbox.interlink.nodeName },
      tolerations: [{ key: VIRTUAL_NODE_TAINT, operator: 'Exists', effect: 'NoSchedule' }],
      ...spec,
    },
  };
}

/** `kubectl apply` of objects (as JSON) to the local cluster. */
export async function apply(sandbox: Sandbox, ...objects: Record<string, unknown>[]): Promise<void> {
  await sandbox.kubectl.run(['apply', '--filename=-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
}

/** Creates a namespace in the local cluster unless it exists. */
export async function ensureNamespace(sandbox: Sandbox, name: string): Promise<void> {
  if ((await sandbox.localKube.call('GET', `/api/v1/namespaces/${name}`)).status === 404) {
    await sandbox.localKube.ok('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }
}

/** The local pod, or `undefined` once it is gone. */
export async function localPod(sandbox: Sandbox, namespace: string, name: string): Promise<PodJson | undefined> {
  const answer = await sandbox.localKube.call('GET', `/api/v1/namespaces/${namespace}/pods/${name}`);
  if (answer.status === 404) return undefined;
  if (answer.status !== 200) throw new Error(`GET pod ${namespace}/${name}: ${String(answer.status)} ${answer.text}`);
  return answer.json as PodJson;
}

/** The remote pods the plugin made for the local pod with `uid`. */
export async function remotePodsOf(sandbox: Sandbox, uid: string): Promise<PodJson[]> {
  const list = await sandbox.remoteKube.ok<{ items: PodJson[] }>('GET', `/api/v1/pods?labelSelector=${encodeURIComponent(`${SOURCE_UID_LABEL}=${uid}`)}`);
  return list.items;
}

/** Every remote object (pods, ConfigMaps, Secrets) the plugin made for the local pod with `uid`, as `Kind ns/name`. */
export async function remoteObjectsOf(sandbox: Sandbox, uid: string): Promise<string[]> {
  const selector = encodeURIComponent(`${SOURCE_UID_LABEL}=${uid}`);
  const found: string[] = [];
  for (const [kind, path] of [
    ['Pod', 'pods'],
    ['ConfigMap', 'configmaps'],
    ['Secret', 'secrets'],
  ] as const) {
    const list = await sandbox.remoteKube.ok<{ items: PodJson[] }>('GET', `/api/v1/${path}?labelSelector=${selector}`);
    found.push(...list.items.map((o) => `${kind} ${o.metadata.namespace}/${o.metadata.name}`));
  }
  return found;
}

/**
 * Polls the local pod until `done` says so, recording each phase it shows
 * (in order, without repeats); resolves to the phases and the last pod.
 */
export async function watchPhases(
  sandbox: Sandbox,
  namespace: string,
  name: string,
  done: (pod: PodJson) => boolean,
  timeoutMs = 120_000,
): Promise<{ phases: string[]; pod: PodJson }> {
  const phases: string[] = [];
  const pod = await eventually(
    `pod ${namespace}/${name} to reach the expected state`,
    async () => {
      const now = await localPod(sandbox, namespace, name);
      const phase = now?.status?.phase;
      if (phase !== undefined && phases.at(-1) !== phase) phases.push(phase);
      return now !== undefined && done(now) ? now : undefined;
    },
    timeoutMs,
    { intervalMs: 200 },
  );
  return { phases, pod };
}

/** A pod is in one of `phases`. */
export const inPhase =
  (...phases: string[]) =>
  (pod: PodJson): boolean =>
    phases.includes(pod.status?.phase ?? '');

/** Waits until the local pod has been deleted. */
export async function waitGone(sandbox: Sandbox, namespace: string, name: string, timeoutMs = 60_000): Promise<void> {
  await eventually(`pod ${namespace}/${name} gone from the local cluster`, async () => ((await localPod(sandbox, namespace, name)) === undefined ? true : undefined), timeoutMs);
}

/** Waits until nothing of the local pod `uid` is left on the remote cluster. */
export async function waitRemoteGone(sandbox: Sandbox, uid: string, timeoutMs = 60_000): Promise<void> {
  await eventually(`nothing of pod ${uid} left on the remote cluster`, async () => ((await remoteObjectsOf(sandbox, uid)).length === 0 ? true : undefined), timeoutMs);
}

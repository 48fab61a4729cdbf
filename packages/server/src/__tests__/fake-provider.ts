import { Readable } from 'node:stream';
import type { LogStruct, Pod, RetrievedPodData } from '@interlink-k8s/protocol';
import type { OffloadProvider } from '@interlink-k8s/remote-k8s';

/** What a {@link fakeProvider} was asked. */
export interface FakeCalls {
  create: RetrievedPodData[];
  delete: Pod[];
  status: (readonly Pod[])[];
  logs: { request: LogStruct; signal: AbortSignal }[];
  ping: number;
  start: number;
  stop: number;
}

/** A plain OffloadProvider that answers sensibly and records its calls; override any method. */
export function fakeProvider(overrides: Partial<OffloadProvider> = {}): OffloadProvider & { calls: FakeCalls } {
  const calls: FakeCalls = { create: [], delete: [], status: [], logs: [], ping: 0, start: 0, stop: 0 };
  const base: OffloadProvider = {
    create(data) {
      calls.create.push(data);
      return Promise.resolve({ PodUID: data.pod.metadata.uid, PodJID: `remote-${data.pod.metadata.uid}` });
    },
    delete(pod) {
      calls.delete.push(pod);
      return Promise.resolve();
    },
    status(pods) {
      calls.status.push(pods);
      return Promise.resolve(
        pods.map((pod) => ({
          name: pod.metadata.name,
          UID: pod.metadata.uid,
          namespace: pod.metadata.namespace,
          JID: `remote-${pod.metadata.uid}`,
          containers: [
            {
              name: 'main',
              state: { running: { startedAt: '2026-01-01T00:00:00Z' } },
              ready: true,
              restartCount: 0,
              image: 'busybox',
              imageID: '',
            },
          ],
          initContainers: [],
        })),
      );
    },
    logs(request, signal) {
      calls.logs.push({ request, signal });
      return Promise.resolve(Readable.from(['line 1\n', 'line 2\n']));
    },
    ping() {
      calls.ping += 1;
      return Promise.resolve({ status: 'ok', resources: { cpu: '8', memory: '16Gi', pods: '110' } });
    },
    readiness() {
      return Promise.resolve([{ name: 'remote-api', ok: true }]);
    },
    offloadedPods() {
      return 3;
    },
    start() {
      calls.start += 1;
      return Promise.resolve();
    },
    stop() {
      calls.stop += 1;
      return Promise.resolve();
    },
  };
  return { ...base, ...overrides, calls };
}

/** A pod as InterLink sends it. */
export function samplePod(uid = 'uid-1'): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'team-a', uid },
    spec: { containers: [{ name: 'main', image: 'busybox', env: [{ name: 'API_KEY', value: 'env-secret-value' }] }] },
    status: { phase: 'Pending' },
  };
}

/** A create body (InterLink 0.5+) with one ConfigMap and one Secret. */
export function sampleCreateBody(uid = 'uid-1'): Record<string, unknown> {
  return {
    pod: samplePod(uid),
    container: [
      {
        name: 'main',
        configMaps: [{ metadata: { name: 'cfg', namespace: 'team-a' }, data: { a: '1' } }],
        projectedvolumemaps: [{ metadata: { name: 'kube-api-access-x' }, data: { token: 'projected-token-value' } }],
        secrets: [{ kind: 'Secret', metadata: { name: 'pw', namespace: 'team-a' }, data: { password: 'c2VjcmV0LXZhbHVl' } }],
        emptyDirs: null,
      },
    ],
    jobConfig: {},
  };
}

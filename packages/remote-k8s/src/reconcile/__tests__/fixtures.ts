import { RetrievedPodDataSchema, type Pod, type RetrievedPodData } from '@interlink-k8s/protocol';
import type { TranslateOptions } from '../../translate/types.js';

/** Translation settings of the tests: remote namespace `offloading-<local>`. */
export const translateOptions: TranslateOptions = {
  namespacePrefix: 'offloading',
  namespacePrefixExclusions: [],
  nodeSelector: {},
  tolerations: [],
};

/** What a test pod looks like. */
export interface PodDataInit {
  uid?: string;
  name?: string;
  namespace?: string;
  serviceAccountName?: string;
  annotations?: Record<string, string>;
  /** Extra volumes (e.g. PVCs); the ConfigMap and Secret volumes are always there. */
  volumes?: Record<string, unknown>[];
}

/**
 * A create body as InterLink sends it: two containers that both mount the
 * ConfigMap `settings` (so it arrives twice), one that mounts the Secret `token`.
 */
export function podData(init: PodDataInit = {}): RetrievedPodData {
  const uid = init.uid ?? 'uid-1';
  const namespace = init.namespace ?? 'team';
  const configMap = { metadata: { name: 'settings', namespace, uid: 'cm-uid' }, data: { 'app.conf': 'debug=true' } };
  const secret = { metadata: { name: 'token', namespace, uid: 'secret-uid' }, data: { token: 'c2VjcmV0' }, type: 'Opaque' };
  return RetrievedPodDataSchema.parse({
    pod: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: init.name ?? 'job',
        namespace,
        uid,
        labels: { app: 'demo' },
        annotations: init.annotations ?? {},
      },
      spec: {
        nodeName: 'virtual-node',
        ...(init.serviceAccountName === undefined ? {} : { serviceAccountName: init.serviceAccountName }),
        containers: [
          {
            name: 'main',
            image: 'busybox',
            volumeMounts: [
              { name: 'cfg', mountPath: '/cfg' },
              { name: 'creds', mountPath: '/creds' },
            ],
          },
          { name: 'side', image: 'busybox', volumeMounts: [{ name: 'cfg', mountPath: '/cfg' }] },
        ],
        initContainers: [{ name: 'setup', image: 'busybox' }],
        volumes: [
          { name: 'cfg', configMap: { name: 'settings' } },
          { name: 'creds', secret: { secretName: 'token' } },
          ...(init.volumes ?? []),
        ],
      },
      status: { phase: 'Pending' },
    },
    container: [
      { name: 'setup', configMaps: null, secrets: null, projectedvolumemaps: null, emptyDirs: null },
      { name: 'main', configMaps: [configMap], secrets: [secret], projectedvolumemaps: null, emptyDirs: null },
      { name: 'side', configMaps: [configMap], secrets: null, projectedvolumemaps: null, emptyDirs: null },
    ],
    jobConfig: {},
  });
}

/** The local pod of {@link podData}. */
export function localPod(init: PodDataInit = {}): Pod {
  return podData(init).pod;
}

/**
 * The local pod as InterLink's Virtual Kubelet sends it once the create has
 * been answered: annotated with the `PodJID` under `JobID`.
 */
export function acknowledgedPod(init: PodDataInit = {}, jid = 'remote-uid'): Pod {
  const pod = localPod(init);
  return { ...pod, metadata: { ...pod.metadata, annotations: { ...pod.metadata.annotations, JobID: jid } } };
}

/** Polls `condition` every few milliseconds until it holds; fails after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs = 2000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

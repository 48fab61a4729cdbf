import { PodSchema, RetrievedPodDataSchema } from '@interlink-k8s/protocol';
import type { Pod, RetrievedPodData } from '@interlink-k8s/protocol';
import type { TranslateOptions } from '../types.js';

/** The local pod UID used throughout the tests. */
export const UID = '8d3b1c2e-5f6a-4b7c-8d9e-0a1b2c3d4e5f';

/** Translation settings as the sample config.ini gives them. */
export const OPTIONS: TranslateOptions = {
  namespacePrefix: 'offloading',
  namespacePrefixExclusions: [],
  nodeSelector: {},
  tolerations: [],
};

/** The service-account token volume the local admission adds and InterLink turns into a projected map. */
export const TOKEN_VOLUME = {
  name: 'kube-api-access-x7k2p',
  projected: {
    defaultMode: 420,
    sources: [
      { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      {
        downwardAPI: {
          items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
        },
      },
    ],
  },
};

/** The projected map InterLink sends for {@link TOKEN_VOLUME}. */
export const TOKEN_MAP = {
  metadata: { name: 'kube-api-access-x7k2p' },
  data: { token: 'eyJhbGciOiJSUzI1NiJ9.payload.sig', 'ca.crt': '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', namespace: 'team-a' },
};

/** A minimal local pod scheduled on the virtual node, as the VK sends it. */
export function localPodJson(spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'web',
      namespace: 'team-a',
      uid: UID,
      resourceVersion: '4711',
      creationTimestamp: '2026-07-01T10:00:00Z',
      generateName: 'web-',
      labels: { app: 'web' },
      annotations: { 'example.com/owner': 'team-a' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-5d8f', uid: 'rs-uid', controller: true }],
      finalizers: ['example.com/cleanup'],
      managedFields: [{ manager: 'kube-controller-manager', operation: 'Update' }],
      ...metadata,
    },
    spec: {
      nodeName: 'interlink-node',
      containers: [{ name: 'app', image: 'nginx:1.27' }],
      tolerations: [
        { key: 'virtual-node.interlink/no-schedule', operator: 'Exists', effect: 'NoSchedule' },
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      ],
      ...spec,
    },
    status: { phase: 'Pending' },
  };
}

/** A parsed local pod. */
export function localPod(spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}): Pod {
  return PodSchema.parse(localPodJson(spec, metadata));
}

/** A parsed create body, as the server hands it to the translation. */
export function createRequest(
  spec: Record<string, unknown> = {},
  container: Record<string, unknown>[] = [],
  metadata: Record<string, unknown> = {},
): RetrievedPodData {
  return RetrievedPodDataSchema.parse({ pod: localPodJson(spec, metadata), container, jobConfig: {} });
}

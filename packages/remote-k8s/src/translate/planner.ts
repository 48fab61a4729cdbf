import type { V1Namespace } from '@kubernetes/client-node';
import { InputError } from '@interlink-k8s/protocol';
import type { RetrievedPodData } from '@interlink-k8s/protocol';
import { copyDataObjects } from './data.js';
import { NAMESPACE_CREATED_BY_ANNOTATION, SOURCE_NAMESPACE_ANNOTATION, isLabelValue, managedLabels } from './labels.js';
import { remoteNamespaceName } from './names.js';
import type { Manifest, RemotePlan, TranslateOptions } from './types.js';
import { translatePod } from './pod.js';
import { planClaims } from './pvc.js';
import { planTunnel } from './tunnel.js';

/**
 * Everything to create on the remote cluster for one create request: the
 * namespace, the per-pod copies of the ConfigMaps, Secrets and projected
 * volumes InterLink sent (each once), the opted-in claims and the pod; with
 * `opts.tunnel`, the TCP tunnel's bastion sidecar and its Secret (see
 * {@link planTunnel}). Pure: the same input always gives the same plan, so
 * applying it twice changes nothing.
 *
 * @throws InputError (with `field`) when the request cannot be translated:
 *   a pod UID that cannot be a label value, a pod without spec, a volume
 *   using a ConfigMap or Secret InterLink did not send, or a claim not
 *   opted in with `interlink.io/remote-pvc`, or (tunnel enabled) a container
 *   named like the bastion sidecar.
 */
export function planRemoteObjects(data: RetrievedPodData, opts: TranslateOptions): RemotePlan {
  const local = data.pod;
  const localUid = local.metadata.uid;
  if (!isLabelValue(localUid)) {
    throw new InputError(`the pod UID "${localUid}" cannot be used as a label value`, { field: 'pod.metadata.uid' });
  }
  const localNamespace = local.metadata.namespace;
  const namespace = remoteNamespaceName(localNamespace, opts);

  const copies = copyDataObjects(data, { namespace, localNamespace, localUid });
  const pod = translatePod(local, { namespace, options: opts, copies });
  const secrets = [...copies.secrets];
  const warnings: string[] = [];
  if (opts.tunnel !== undefined && pod.spec !== undefined) {
    const tunnel = planTunnel(local, pod.spec, { namespace, options: opts.tunnel });
    if (tunnel.sidecar !== undefined) pod.spec.initContainers = [...(pod.spec.initContainers ?? []), tunnel.sidecar];
    if (tunnel.secret !== undefined) secrets.push(tunnel.secret);
    if (Object.keys(tunnel.annotations).length > 0) {
      pod.metadata = { ...pod.metadata, annotations: { ...pod.metadata?.annotations, ...tunnel.annotations } };
    }
    warnings.push(...tunnel.warnings);
  }

  const claimNames = [
    ...new Set((pod.spec?.volumes ?? []).flatMap((v) => (v.persistentVolumeClaim ? [v.persistentVolumeClaim.claimName] : []))),
  ];

  const namespaceManifest: Manifest<V1Namespace> = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: namespace,
      labels: managedLabels(),
      annotations: { [SOURCE_NAMESPACE_ANNOTATION]: localNamespace },
    },
  };

  return {
    localUid,
    namespace,
    namespaceManifest,
    configMaps: copies.configMaps,
    secrets,
    persistentVolumeClaims: planClaims(data, claimNames, { namespace, localNamespace }),
    persistentVolumeClaimNames: claimNames,
    pod,
    warnings,
  };
}

/**
 * The namespace manifest as the provider creates it when it is missing: the
 * planned one, annotated with {@link NAMESPACE_CREATED_BY_ANNOTATION} and
 * the installation's field manager (a namespace found already there is never
 * annotated, so it is never deleted).
 */
export function namespaceToCreate(namespace: Manifest<V1Namespace>, fieldManager: string): Manifest<V1Namespace> {
  return {
    ...namespace,
    metadata: { ...namespace.metadata, annotations: { ...namespace.metadata?.annotations, [NAMESPACE_CREATED_BY_ANNOTATION]: fieldManager } },
  };
}

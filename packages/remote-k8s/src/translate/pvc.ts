import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';
import type { RetrievedPodData } from '@interlink-k8s/protocol';
import { managedLabels, mergeMetadataMap, remotePvcClaims, sourceAnnotations } from './labels.js';
import { remotePvcName } from './names.js';
import type { Manifest } from './types.js';

/** Where remote claims go. */
export interface ClaimTarget {
  /** Remote namespace. */
  namespace: string;
  /** Local namespace (for the `interlink.io/source.namespace` annotation). */
  localNamespace: string;
}

/**
 * Annotation prefixes the local PV controller and provisioners write on a
 * claim; carried over they would make the remote controllers believe the
 * claim is bound, or provision it for a local node.
 */
const CONTROLLER_ANNOTATION_PREFIXES = ['pv.kubernetes.io/', 'volume.kubernetes.io/', 'volume.beta.kubernetes.io/'];

/** Spec fields that name local objects (a PV, PV labels, a snapshot or claim to clone). */
const LOCAL_SPEC_FIELDS = new Set(['volumeName', 'selector', 'dataSource', 'dataSourceRef']);

interface WireClaim {
  metadata: {
    name: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: Record<string, unknown>;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const stringMap = (value: unknown): Record<string, string> | undefined => {
  if (!isRecord(value)) return undefined;
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) if (typeof item === 'string') out[key] = item;
  return out;
};

/** The claims a newer InterLink sends in the container entries (`persistentVolumeClaims`, not in 0.6.2). */
function wireClaims(data: RetrievedPodData): Map<string, WireClaim> {
  const claims = new Map<string, WireClaim>();
  for (const entry of data.container) {
    const list = entry.persistentVolumeClaims;
    if (!Array.isArray(list)) continue;
    for (const item of list as unknown[]) {
      if (!isRecord(item) || !isRecord(item.metadata) || !isRecord(item.spec)) continue;
      const meta = item.metadata;
      const name = meta.name;
      if (typeof name !== 'string' || name === '' || claims.has(name)) continue;
      const uid = meta.uid;
      claims.set(name, {
        metadata: {
          name,
          ...(typeof uid === 'string' ? { uid } : {}),
          ...(stringMap(meta.labels) ? { labels: stringMap(meta.labels) } : {}),
          ...(stringMap(meta.annotations) ? { annotations: stringMap(meta.annotations) } : {}),
        },
        spec: item.spec,
      });
    }
  }
  return claims;
}

/**
 * Manifests for the opted-in claims whose definition InterLink sent (a
 * pending InterLink change adds `persistentVolumeClaims` to the container
 * entries). InterLink 0.6.2 sends none, so this is usually empty and the
 * claims must exist remotely already. A claim is named as locally, carries
 * the managed labels but no pod UID (it outlives the pod and may be shared),
 * and loses what names local objects: `volumeName`, `selector`,
 * `dataSource`, `dataSourceRef` and the PV controller's annotations.
 * The reconciler creates these only when missing, never overwriting a claim.
 */
export function planClaims(
  data: RetrievedPodData,
  claimNames: readonly string[],
  target: ClaimTarget,
): Manifest<V1PersistentVolumeClaim>[] {
  const sent = wireClaims(data);
  const out: Manifest<V1PersistentVolumeClaim>[] = [];
  for (const claim of claimNames) {
    const source = sent.get(claim);
    if (source === undefined) continue;
    const annotations = Object.fromEntries(
      Object.entries(source.metadata.annotations ?? {}).filter(
        ([key]) => !CONTROLLER_ANNOTATION_PREFIXES.some((prefix) => key.startsWith(prefix)),
      ),
    );
    const spec = Object.fromEntries(Object.entries(source.spec).filter(([key]) => !LOCAL_SPEC_FIELDS.has(key)));
    out.push({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {
        name: remotePvcName(claim),
        namespace: target.namespace,
        labels: mergeMetadataMap(source.metadata.labels, managedLabels()),
        annotations: mergeMetadataMap(
          annotations,
          sourceAnnotations({ name: claim, namespace: target.localNamespace, uid: source.metadata.uid }),
        ),
      },
      // The local API server validated the claim: its spec is a PersistentVolumeClaimSpec as JSON.
      spec,
    });
  }
  return out;
}

/**
 * The claim names of `volumes` that are opted in by `annotations` (the
 * pod annotation `interlink.io/remote-pvc`), or all of them when
 * `annotations` is undefined: the claims a delete may have to remove.
 */
export function claimNamesOf(annotations: Readonly<Record<string, string>> | null | undefined, volumes: unknown): string[] {
  if (!Array.isArray(volumes)) return [];
  const optedIn = annotations === undefined ? undefined : remotePvcClaims(annotations);
  const names: string[] = [];
  for (const volume of volumes as unknown[]) {
    if (typeof volume !== 'object' || volume === null) continue;
    const pvc = (volume as { persistentVolumeClaim?: { claimName?: unknown } }).persistentVolumeClaim;
    const claim = pvc?.claimName;
    if (typeof claim === 'string' && (optedIn === undefined || optedIn.has(claim))) names.push(claim);
  }
  return names;
}

import { Buffer } from 'node:buffer';
import type {
  V1ConfigMap,
  V1Container,
  V1KeyToPath,
  V1ObjectMeta,
  V1Secret,
  V1Volume,
  V1VolumeProjection,
} from '@kubernetes/client-node';
import { InputError } from '@interlink-k8s/protocol';
import type { ConfigMap, RetrievedPodData, Secret } from '@interlink-k8s/protocol';
import { mergeMetadataMap, podObjectLabels, sourceAnnotations } from './labels.js';
import { remoteConfigMapName, remoteProjectedSecretName, remoteSecretName, secretKeyForPath } from './names.js';
import type { Manifest } from './types.js';

/** Where the copies go and whom they belong to. */
export interface DataTarget {
  /** Remote namespace. */
  namespace: string;
  /** Local namespace (for the `interlink.io/source.namespace` annotation). */
  localNamespace: string;
  /** Local pod UID: part of every copy's name and its `interlink.io/source.pod_uid` label. */
  localUid: string;
}

/** The Secret that replaces one projected (or downward API) volume. */
export interface ProjectedCopy {
  /** Name of the remote Secret. */
  secretName: string;
  /** Secret key → original file path, sorted by path. */
  items: Manifest<V1KeyToPath>[];
}

/** The per-pod copies of the data objects InterLink sent, and how to find them by local name. */
export interface DataCopies {
  /** ConfigMap copies, one per distinct source ConfigMap. */
  configMaps: Manifest<V1ConfigMap>[];
  /** Secret copies and projected-volume Secrets, one per distinct source. */
  secrets: Manifest<V1Secret>[];
  /** Local ConfigMap name → remote copy name. */
  configMapNames: ReadonlyMap<string, string>;
  /** Local Secret name → remote copy name. */
  secretNames: ReadonlyMap<string, string>;
  /** Projected (or downward API) volume name → the Secret replacing it. */
  projected: ReadonlyMap<string, ProjectedCopy>;
}

/** Secret types whose contents a remote controller manages; their copies become `Opaque`. */
const CONTROLLER_MANAGED_SECRET_TYPES = new Set(['kubernetes.io/service-account-token']);

/**
 * Copies every ConfigMap, Secret and projected-volume map of the create body
 * into the remote namespace, once each (the same object mounted by several
 * containers arrives once per container). Values are carried byte for byte:
 * `binaryData` and Secret `data` stay the base64 strings InterLink sent.
 * A projected-volume map becomes a Secret (it may hold a service-account
 * token) whose keys are its file paths made valid with {@link secretKeyForPath}.
 */
export function copyDataObjects(data: RetrievedPodData, target: DataTarget): DataCopies {
  const configMaps = new Map<string, Manifest<V1ConfigMap>>();
  const secrets = new Map<string, Manifest<V1Secret>>();
  const projectedSecrets = new Map<string, Manifest<V1Secret>>();
  const configMapNames = new Map<string, string>();
  const secretNames = new Map<string, string>();
  const projected = new Map<string, ProjectedCopy>();

  for (const entry of data.container) {
    for (const source of entry.configMaps) {
      const name = source.metadata.name;
      if (configMaps.has(name)) continue;
      const remoteName = remoteConfigMapName(name, target.localUid);
      configMaps.set(name, copyConfigMap(source, remoteName, target));
      configMapNames.set(name, remoteName);
    }
    for (const source of entry.secrets) {
      const name = source.metadata.name;
      if (secrets.has(name)) continue;
      const remoteName = remoteSecretName(name, target.localUid);
      secrets.set(name, copySecret(source, remoteName, target));
      secretNames.set(name, remoteName);
    }
    for (const source of entry.projectedvolumemaps) {
      const volumeName = source.metadata.name;
      if (projected.has(volumeName)) continue;
      const remoteName = remoteProjectedSecretName(volumeName, target.localUid);
      const { secret, items } = projectedToSecret(source, remoteName, target);
      projectedSecrets.set(volumeName, secret);
      projected.set(volumeName, { secretName: remoteName, items });
    }
  }

  return {
    configMaps: [...configMaps.values()],
    secrets: [...secrets.values(), ...projectedSecrets.values()],
    configMapNames,
    secretNames,
    projected,
  };
}

function copyMetadata(name: string, source: ConfigMap['metadata'], target: DataTarget): Manifest<V1ObjectMeta> {
  return {
    name,
    namespace: target.namespace,
    labels: mergeMetadataMap(source.labels, podObjectLabels(target.localUid)),
    annotations: mergeMetadataMap(
      source.annotations,
      sourceAnnotations({ name: source.name, namespace: source.namespace ?? target.localNamespace, uid: source.uid }),
    ),
  };
}

function copyConfigMap(source: ConfigMap, name: string, target: DataTarget): Manifest<V1ConfigMap> {
  const copy: Manifest<V1ConfigMap> = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: copyMetadata(name, source.metadata, target),
  };
  if (source.data != null) copy.data = { ...source.data };
  if (source.binaryData != null) copy.binaryData = { ...source.binaryData };
  if (source.immutable != null) copy.immutable = source.immutable;
  return copy;
}

function copySecret(source: Secret, name: string, target: DataTarget): Manifest<V1Secret> {
  const copy: Manifest<V1Secret> = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: copyMetadata(name, source.metadata, target),
  };
  if (source.data != null) copy.data = { ...source.data };
  if (source.stringData != null) copy.stringData = { ...source.stringData };
  if (source.type != null && source.type !== '') {
    // A remote token controller would empty or delete a token Secret whose
    // ServiceAccount it does not know; as Opaque the copy keeps its bytes.
    copy.type = CONTROLLER_MANAGED_SECRET_TYPES.has(source.type) ? 'Opaque' : source.type;
  }
  if (source.immutable != null) copy.immutable = source.immutable;
  return copy;
}

function projectedToSecret(
  source: ConfigMap,
  name: string,
  target: DataTarget,
): { secret: Manifest<V1Secret>; items: Manifest<V1KeyToPath>[] } {
  const volumeName = source.metadata.name;
  const data: Record<string, string> = {};
  const items: Manifest<V1KeyToPath>[] = [];
  const add = (path: string, base64: string): void => {
    const key = secretKeyForPath(path);
    data[key] = base64;
    items.push({ key, path });
  };
  for (const [path, text] of Object.entries(source.data ?? {})) add(path, Buffer.from(text, 'utf8').toString('base64'));
  for (const [path, base64] of Object.entries(source.binaryData ?? {})) add(path, base64);
  items.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

  const secret: Manifest<V1Secret> = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name,
      namespace: target.namespace,
      labels: podObjectLabels(target.localUid),
      annotations: sourceAnnotations({ name: volumeName, namespace: target.localNamespace }),
    },
    type: 'Opaque',
    data,
  };
  return { secret, items };
}

/**
 * Points a pod's volumes at the remote copies:
 * - `configMap` / `secret` volumes → the copies; one InterLink did not send
 *   is kept by name when `optional: true`, otherwise an {@link InputError};
 * - `projected` and `downwardAPI` volumes whose map InterLink sent → a
 *   `secret` volume over the projected Secret, with `items` restoring the
 *   original file paths and the volume's `defaultMode` and item modes kept;
 *   without a map (the VK's `DisableProjectedVolumes`) the volume is kept
 *   and the remote cluster fills it, with `configMap`/`secret` sources that
 *   were copied pointed at the copies;
 * - `persistentVolumeClaim` volumes are kept when their claim is listed in
 *   `remotePvcs`, otherwise an {@link InputError} naming the volume (the
 *   local claim does not exist remotely, so the pod could never start);
 * - everything else (emptyDir, ephemeral, hostPath, csi, image, ...) as it is.
 */
export function rewriteVolumes(
  volumes: readonly Manifest<V1Volume>[],
  copies: DataCopies,
  remotePvcs: ReadonlySet<string>,
): Manifest<V1Volume>[] {
  return volumes.map((volume, index): Manifest<V1Volume> => {
    const field = `pod.spec.volumes[${index}]`;
    const projectedCopy = copies.projected.get(volume.name);
    if (projectedCopy !== undefined && (volume.projected !== undefined || volume.downwardAPI !== undefined)) {
      return projectedVolume(volume, projectedCopy);
    }
    if (volume.configMap) {
      const name = volume.configMap.name ?? '';
      const copy = copies.configMapNames.get(name);
      if (copy === undefined && volume.configMap.optional !== true) {
        throw new InputError(
          `volume "${volume.name}" uses ConfigMap "${name}", which InterLink did not send with the pod`,
          { field: `${field}.configMap.name` },
        );
      }
      return { ...volume, configMap: { ...volume.configMap, name: copy ?? name } };
    }
    if (volume.secret) {
      const name = volume.secret.secretName ?? '';
      const copy = copies.secretNames.get(name);
      if (copy === undefined && volume.secret.optional !== true) {
        throw new InputError(
          `volume "${volume.name}" uses Secret "${name}", which InterLink did not send with the pod`,
          { field: `${field}.secret.secretName` },
        );
      }
      return { ...volume, secret: { ...volume.secret, secretName: copy ?? name } };
    }
    if (volume.projected) {
      return {
        ...volume,
        projected: { ...volume.projected, sources: volume.projected.sources?.map((s) => rewriteProjection(s, copies)) },
      };
    }
    if (volume.persistentVolumeClaim) {
      const claim = volume.persistentVolumeClaim.claimName;
      if (!remotePvcs.has(claim)) {
        throw new InputError(
          `volume "${volume.name}" uses PersistentVolumeClaim "${claim}", which is not offloaded: ` +
            `list it in the pod annotation interlink.io/remote-pvc to use a remote claim of the same name`,
          { field: `${field}.persistentVolumeClaim.claimName` },
        );
      }
      return volume;
    }
    return volume;
  });
}

function projectedVolume(volume: Manifest<V1Volume>, copy: ProjectedCopy): Manifest<V1Volume> {
  const modes = itemModes(volume);
  const defaultMode = volume.projected?.defaultMode ?? volume.downwardAPI?.defaultMode;
  const items = copy.items.map((item): Manifest<V1KeyToPath> => {
    const mode = modes.get(item.path);
    return mode === undefined ? { ...item } : { ...item, mode };
  });
  // Keep every other field of the volume (future ones too); only the source changes.
  const rest: Manifest<V1Volume> = { ...volume };
  delete rest.projected;
  delete rest.downwardAPI;
  return {
    ...rest,
    secret: {
      secretName: copy.secretName,
      ...(items.length > 0 ? { items } : {}),
      ...(defaultMode === undefined ? {} : { defaultMode }),
    },
  };
}

/** File modes the original volume set per item path. */
function itemModes(volume: Manifest<V1Volume>): Map<string, number> {
  const modes = new Map<string, number>();
  const note = (items: readonly { path: string; mode?: number | undefined }[] | undefined): void => {
    for (const item of items ?? []) if (item.mode !== undefined) modes.set(item.path, item.mode);
  };
  note(volume.downwardAPI?.items);
  for (const source of volume.projected?.sources ?? []) {
    note(source.configMap?.items);
    note(source.secret?.items);
    note(source.downwardAPI?.items);
  }
  return modes;
}

function rewriteProjection(source: Manifest<V1VolumeProjection>, copies: DataCopies): Manifest<V1VolumeProjection> {
  const configMapCopy = source.configMap?.name === undefined ? undefined : copies.configMapNames.get(source.configMap.name);
  const secretCopy = source.secret?.name === undefined ? undefined : copies.secretNames.get(source.secret.name);
  return {
    ...source,
    ...(source.configMap && configMapCopy !== undefined ? { configMap: { ...source.configMap, name: configMapCopy } } : {}),
    ...(source.secret && secretCopy !== undefined ? { secret: { ...source.secret, name: secretCopy } } : {}),
  };
}

/**
 * Points a container's env references (`valueFrom.configMapKeyRef` /
 * `secretKeyRef`, `envFrom.configMapRef` / `secretRef`) at the copies.
 * A reference to an object InterLink did not send stays as it is, naming a
 * remote object of the same name: the VK replaces every reference it
 * resolves with a literal value, so one still present was not resolved
 * (`SkipDownwardAPIResolution`); dropping it would lose configuration
 * silently, while a missing remote object shows up as the remote kubelet's
 * `CreateContainerConfigError` in the pod status (or, with `optional: true`,
 * leaves the variable unset).
 */
export function rewriteEnvReferences(container: Manifest<V1Container>, copies: DataCopies): Manifest<V1Container> {
  const out: Manifest<V1Container> = { ...container };
  if (container.env) {
    out.env = container.env.map((variable) => {
      const from = variable.valueFrom;
      if (!from) return variable;
      const cm = from.configMapKeyRef;
      const secret = from.secretKeyRef;
      const cmCopy = cm?.name === undefined ? undefined : copies.configMapNames.get(cm.name);
      const secretCopy = secret?.name === undefined ? undefined : copies.secretNames.get(secret.name);
      if (cmCopy === undefined && secretCopy === undefined) return variable;
      return {
        ...variable,
        valueFrom: {
          ...from,
          ...(cm && cmCopy !== undefined ? { configMapKeyRef: { ...cm, name: cmCopy } } : {}),
          ...(secret && secretCopy !== undefined ? { secretKeyRef: { ...secret, name: secretCopy } } : {}),
        },
      };
    });
  }
  if (container.envFrom) {
    out.envFrom = container.envFrom.map((source) => {
      const cmCopy = source.configMapRef?.name === undefined ? undefined : copies.configMapNames.get(source.configMapRef.name);
      const secretCopy = source.secretRef?.name === undefined ? undefined : copies.secretNames.get(source.secretRef.name);
      return {
        ...source,
        ...(source.configMapRef && cmCopy !== undefined ? { configMapRef: { ...source.configMapRef, name: cmCopy } } : {}),
        ...(source.secretRef && secretCopy !== undefined ? { secretRef: { ...source.secretRef, name: secretCopy } } : {}),
      };
    });
  }
  return out;
}

import type {
  V1ConfigMap,
  V1Namespace,
  V1PersistentVolumeClaim,
  V1Pod,
  V1Secret,
} from '@kubernetes/client-node';

/** Settings of the translation, from the `offloading.*` configuration keys. */
export interface TranslateOptions {
  /** `offloading.namespace_prefix`: remote namespace is `<prefix>-<local namespace>`; empty for none. */
  namespacePrefix: string;
  /** `offloading.namespace_prefix_exclusions`: local namespaces kept unprefixed. */
  namespacePrefixExclusions: readonly string[];
  /** `offloading.node_selector`: merged into every remote pod's nodeSelector (the pod's own keys win). */
  nodeSelector: Readonly<Record<string, string>>;
  /** `offloading.node_tolerations`: appended to every remote pod's tolerations. */
  tolerations: readonly Record<string, unknown>[];
}

/**
 * Everything to create on the remote cluster for one local pod, as plain
 * Kubernetes JSON manifests (apiVersion and kind set), ready for server-side
 * apply. Data objects carry no ownerReferences yet: the reconciler adds them
 * once the remote pod exists and has a UID.
 */
export interface RemotePlan {
  /** The local pod UID every object is labelled with. */
  localUid: string;
  /** Remote namespace name (a valid DNS label). */
  namespace: string;
  /** The namespace manifest, labelled as managed (applied only if missing). */
  namespaceManifest: V1Namespace;
  /** Copied ConfigMaps, de-duplicated. */
  configMaps: V1ConfigMap[];
  /** Copied Secrets and projected-volume maps (which may hold tokens), de-duplicated. */
  secrets: V1Secret[];
  /** PVCs opted in with `interlink.io/remote-pvc`. */
  persistentVolumeClaims: V1PersistentVolumeClaim[];
  /**
   * The remote pod. Its `serviceAccountName` is the local one; the
   * reconciler replaces it with `default` when the remote namespace lacks it.
   */
  pod: V1Pod;
}

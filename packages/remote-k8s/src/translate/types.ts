import type {
  V1ConfigMap,
  V1Namespace,
  V1PersistentVolumeClaim,
  V1Pod,
  V1Secret,
} from '@kubernetes/client-node';

/**
 * A `@kubernetes/client-node` model as plain JSON, which is what this
 * package builds and what the API server reads: the same fields without the
 * class identity (the manifests are object literals, never model instances)
 * and with times as RFC 3339 strings.
 */
export type Manifest<T> = T extends Date
  ? string
  : T extends readonly (infer U)[]
    ? Manifest<U>[]
    : T extends object
      ? { [K in keyof T]: Manifest<T[K]> }
      : T;

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
  /** `tcp_tunnel.*`: when set, every pod with TCP ports gets a bastion sidecar (see TRANSLATION.md). */
  tunnel?: TunnelOptions | undefined;
}

/**
 * Where each bastion's SSH private key comes from: derived per pod from a
 * secret the gateway shares (a key then opens only its own pod's forwards),
 * or one key shared by every bastion (the reference plugin's setup).
 */
export type BastionKeySource =
  | { kind: 'per-pod'; secret: Uint8Array }
  | { kind: 'shared'; privateKey: string };

/** Settings of the TCP tunnel's bastion sidecar, from the `tcp_tunnel.*` configuration keys. */
export interface TunnelOptions {
  /** `tcp_tunnel.gateway_host`: the gateway's SSH server as the remote cluster reaches it. */
  gatewayHost: string;
  /** `tcp_tunnel.gateway_port`. */
  gatewayPort: number;
  /** `tcp_tunnel.gateway_host_public_key`: the keys the bastion pins, OpenSSH one-line form, one per line. */
  gatewayHostKeys: string;
  /** `tcp_tunnel.pod_key_secret` or `tcp_tunnel.gateway_ssh_private_key` (the private key as OpenSSH/PEM text). */
  bastionKey: BastionKeySource;
  /** `tcp_tunnel.bastion_image`. */
  image: string;
  /** `tcp_tunnel.ciphers`: passed to the bastion as `TUNNEL_CIPHERS`; unset for its default. */
  ciphers?: string | undefined;
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
  namespaceManifest: Manifest<V1Namespace>;
  /** Copied ConfigMaps, de-duplicated. */
  configMaps: Manifest<V1ConfigMap>[];
  /** Copied Secrets and projected-volume maps (which may hold tokens), de-duplicated. */
  secrets: Manifest<V1Secret>[];
  /**
   * Manifests of PVCs opted in with `interlink.io/remote-pvc` whose
   * definition InterLink sent (newer InterLink only; usually empty). Named
   * as the local claim, labelled as managed but not with the pod UID: a
   * claim outlives the pod and may be shared. Create only when missing.
   */
  persistentVolumeClaims: Manifest<V1PersistentVolumeClaim>[];
  /**
   * Claim names the remote pod mounts (each opted in with
   * `interlink.io/remote-pvc`), whether or not a manifest is planned: the
   * remote claims of these names must exist for the pod to start. On delete
   * the reconciler removes one only if it carries
   * `interlink.io/pvc-retention-policy: delete`.
   */
  persistentVolumeClaimNames: string[];
  /**
   * The remote pod. Its `serviceAccountName` is the local one; the
   * reconciler replaces it with `default` when the remote namespace lacks it.
   */
  pod: Manifest<V1Pod>;
  /**
   * What the translation left out that the user would expect, one
   * human-readable sentence each naming the pod (e.g. a UDP port the TCP
   * tunnel does not carry). The plan is still applied.
   */
  warnings: string[];
}

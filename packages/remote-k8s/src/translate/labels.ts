import {
  MANAGED_BY_LABEL,
  SOURCE_NAME_ANNOTATION,
  SOURCE_NAMESPACE_ANNOTATION,
  SOURCE_POD_UID_LABEL,
  SOURCE_UID_ANNOTATION,
} from '@interlink-k8s/contract';

// The names the tunnel gateway reads too are defined once, in the contract; re-exported as part of the translation's vocabulary.
export { MANAGED_BY_LABEL, SOURCE_NAME_ANNOTATION, SOURCE_NAMESPACE_ANNOTATION, SOURCE_POD_UID_LABEL, SOURCE_UID_ANNOTATION };

/** Label on every object this plugin creates, kept from the reference plugin. */
export const OFFLOADING_LABEL = 'interlink.io';
/** Value of {@link OFFLOADING_LABEL}. */
export const OFFLOADING_LABEL_VALUE = 'offloading';
/** Value of {@link MANAGED_BY_LABEL}. */
export const MANAGED_BY_VALUE = 'interlink-k8s';

/**
 * Annotation on a remote namespace this plugin created (value: the field
 * manager of the installation). Only such namespaces are ever deleted, and
 * only when nothing managed is left in them.
 */
export const NAMESPACE_CREATED_BY_ANNOTATION = 'interlink.io/namespace-created-by';

/** Pod annotation: comma-separated claim names whose volumes use a remote claim of the same name. */
export const REMOTE_PVC_ANNOTATION = 'interlink.io/remote-pvc';
/** PVC annotation: `delete` makes the reconciler delete the remote claim with the pod; anything else retains it. */
export const PVC_RETENTION_POLICY_ANNOTATION = 'interlink.io/pvc-retention-policy';

/** Pod annotation: `false` keeps the pod out of the TCP tunnel (no bastion sidecar); any other value, or none, keeps it in. */
export const TCP_TUNNEL_ANNOTATION = 'interlink.io/tcp-tunnel';
/** Remote pod annotation: the ports the TCP tunnel does not carry (UDP, SCTP), e.g. `53/UDP,5060/SCTP`. */
export const TCP_TUNNEL_IGNORED_PORTS_ANNOTATION = 'interlink.io/tcp-tunnel-ignored-ports';

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Whether `value` is a valid label value (at most 63 characters, alphanumeric at both ends). */
export function isLabelValue(value: string): boolean {
  return value.length <= 63 && LABEL_VALUE.test(value);
}

/** The labels that mark an object as this plugin's and not tied to one pod (namespaces, PVCs). */
export function managedLabels(): Record<string, string> {
  return { [OFFLOADING_LABEL]: OFFLOADING_LABEL_VALUE, [MANAGED_BY_LABEL]: MANAGED_BY_VALUE };
}

/** The labels every per-pod remote object carries: {@link managedLabels} plus the local pod UID. */
export function podObjectLabels(localUid: string): Record<string, string> {
  return { ...managedLabels(), [SOURCE_POD_UID_LABEL]: localUid };
}

/** Identity of the local object a remote object is made from. */
export interface SourceRef {
  name: string;
  namespace: string;
  /** Absent for objects InterLink builds itself (projected-volume maps). */
  uid?: string | undefined;
}

/** The `interlink.io/source.*` annotations describing `source`. */
export function sourceAnnotations(source: SourceRef): Record<string, string> {
  return {
    ...(source.uid === undefined || source.uid === '' ? {} : { [SOURCE_UID_ANNOTATION]: source.uid }),
    [SOURCE_NAME_ANNOTATION]: source.name,
    [SOURCE_NAMESPACE_ANNOTATION]: source.namespace,
  };
}

/**
 * Labels or annotations of a remote object: the local object's own, with
 * this plugin's keys on top (ours win, so a user label cannot hide a pod
 * from the reconciler).
 */
export function mergeMetadataMap(
  own: Readonly<Record<string, string>> | null | undefined,
  ours: Readonly<Record<string, string>>,
): Record<string, string> {
  return { ...(own ?? {}), ...ours };
}

/**
 * The claim names listed in the pod annotation {@link REMOTE_PVC_ANNOTATION}
 * (comma-separated; blanks around names ignored).
 */
export function remotePvcClaims(annotations: Readonly<Record<string, string>> | null | undefined): Set<string> {
  const raw = annotations?.[REMOTE_PVC_ANNOTATION] ?? '';
  return new Set(
    raw
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== ''),
  );
}

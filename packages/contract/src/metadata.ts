/**
 * Label and annotation names that the plugin writes on the remote cluster
 * and the gateway writes on the local one. Both read them back after a
 * restart (the cluster is the database), so a name changed on one side only
 * would orphan the other side's objects.
 */

/** Standard "managed by" label; its value tells who owns the object (the plugin or the gateway). */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
/** Label holding the local pod UID on every per-pod object; the plugin's reconciler and the gateway select on it. */
export const SOURCE_POD_UID_LABEL = 'interlink.io/source.pod_uid';

/** Annotation: UID of the local object a remote object stands for (the pod, or the copied ConfigMap/Secret). */
export const SOURCE_UID_ANNOTATION = 'interlink.io/source.uid';
/** Annotation: name of the local object an object stands for (a label value could not hold every pod name). */
export const SOURCE_NAME_ANNOTATION = 'interlink.io/source.name';
/** Annotation: namespace of the local object a remote object stands for. */
export const SOURCE_NAMESPACE_ANNOTATION = 'interlink.io/source.namespace';

import type {
  V1Affinity,
  V1NodeSelectorRequirement,
  V1NodeSelectorTerm,
  V1Pod,
  V1PodSpec,
  V1PreferredSchedulingTerm,
  V1Toleration,
} from '@kubernetes/client-node';
import { InputError } from '@interlink-k8s/protocol';
import type { Pod } from '@interlink-k8s/protocol';
import type { DataCopies } from './data.js';
import { rewriteEnvReferences, rewriteVolumes } from './data.js';
import { mergeMetadataMap, podObjectLabels, remotePvcClaims, sourceAnnotations } from './labels.js';
import { DNS_LABEL_MAX, isDnsLabel, remoteObjectName } from './names.js';
import type { Manifest, TranslateOptions } from './types.js';

/** Label and taint key prefix of the InterLink virtual node. */
export const VIRTUAL_NODE_PREFIX = 'virtual-node.interlink/';
/** Taint key of upstream virtual-kubelet nodes. */
const VIRTUAL_KUBELET_TAINT = 'virtual-kubelet.io/provider';
/** Node label keys whose every value names a local node. */
const LOCAL_NODE_KEYS = new Set(['kubernetes.io/hostname']);
/** Node label values the InterLink VK sets on its node (`type`, `kubernetes.io/os`, `kubernetes.io/role`). */
const VIRTUAL_NODE_VALUES: Readonly<Record<string, string>> = {
  type: 'virtual-kubelet',
  'kubernetes.io/os': 'virtual-kubelet',
  'kubernetes.io/role': 'agent',
  [`${VIRTUAL_NODE_PREFIX}type`]: 'virtual-kubelet',
};

/**
 * Whether a node selector entry (or affinity expression) can only mean "the
 * virtual node": any `virtual-node.interlink/*` key, `kubernetes.io/hostname`
 * (local node names), or a label value only the VK's node carries
 * (`type: virtual-kubelet`, `kubernetes.io/os: virtual-kubelet`,
 * `kubernetes.io/role: agent`).
 */
export function targetsVirtualNode(key: string, values: readonly string[]): boolean {
  if (key.startsWith(VIRTUAL_NODE_PREFIX) || LOCAL_NODE_KEYS.has(key)) return true;
  if (values.includes('virtual-kubelet')) return true;
  const vkValue = VIRTUAL_NODE_VALUES[key];
  return vkValue !== undefined && values.length > 0 && values.every((value) => value === vkValue);
}

/** Whether a toleration exists only to tolerate the virtual node's taint. */
function toleratesVirtualNode(toleration: Manifest<V1Toleration>): boolean {
  const key = toleration.key ?? '';
  return key.startsWith(VIRTUAL_NODE_PREFIX) || key === VIRTUAL_KUBELET_TAINT;
}

/** What {@link translatePod} needs besides the local pod. */
export interface PodTarget {
  /** Remote namespace. */
  namespace: string;
  /** Translation settings (node selector and tolerations added to every pod). */
  options: Pick<TranslateOptions, 'nodeSelector' | 'tolerations'>;
  /** The copies of the pod's data objects, to point volumes and env references at. */
  copies: DataCopies;
}

/**
 * The remote pod manifest for a local pod. The whole spec is carried over,
 * unknown and future fields included, except what cannot mean anything on
 * the remote cluster (see TRANSLATION.md for the full table):
 * - dropped: `nodeName`, `priority`, `priorityClassName`, `preemptionPolicy`,
 *   `schedulerName`, `overhead`, `readinessGates`, `ephemeralContainers`,
 *   the deprecated `serviceAccount`, `status`, and every metadata field but
 *   name, namespace, labels and annotations;
 * - node selector entries, affinity terms and tolerations that target the
 *   virtual node are removed; `options.nodeSelector` is merged in (the pod's
 *   own keys win) and `options.tolerations` appended without duplicates;
 * - `automountServiceAccountToken` is false: the local token arrives as the
 *   copy of the `kube-api-access-*` projected volume, mounted where the
 *   local one was, so the remote service account's token must not be added;
 * - `hostname` is set to the local pod's hostname when the pod sets none
 *   (and is not on the host network), so the workload sees the same host
 *   name as it would locally;
 * - volumes, env references and image pull secrets point at the data copies
 *   where InterLink sent the object; other references keep their names.
 *
 * @throws InputError when the pod has no spec or a volume cannot be translated.
 */
export function translatePod(local: Pod, target: PodTarget): Manifest<V1Pod> {
  if (local.spec === undefined) throw new InputError('the pod has no spec', { field: 'pod.spec' });
  const uid = local.metadata.uid;
  // The local API server validated the spec: it is a PodSpec as JSON. A deep
  // copy keeps every field this code does not know and leaves the input alone.
  const spec = structuredClone(local.spec) as Manifest<V1PodSpec>;

  delete spec.nodeName;
  // The remote Priority admission rejects a `priority` that does not match the
  // remote class, and a class name the remote cluster may not have.
  delete spec.priority;
  delete spec.priorityClassName;
  delete spec.preemptionPolicy;
  delete spec.schedulerName;
  // Recomputed from the remote RuntimeClass; a local value that differs is rejected.
  delete spec.overhead;
  // Only local controllers set these conditions; remotely the pod would never be Ready.
  delete spec.readinessGates;
  // Cannot be set on create (they are added through the pod's subresource).
  delete spec.ephemeralContainers;
  // Deprecated alias of serviceAccountName; the reconciler may change the latter.
  delete spec.serviceAccount;
  spec.automountServiceAccountToken = false;

  const nodeSelector = mergeNodeSelector(spec.nodeSelector, target.options.nodeSelector);
  if (nodeSelector === undefined) delete spec.nodeSelector;
  else spec.nodeSelector = nodeSelector;

  const tolerations = mergeTolerations(spec.tolerations, target.options.tolerations);
  if (tolerations.length === 0) delete spec.tolerations;
  else spec.tolerations = tolerations;

  const affinity = withoutVirtualNodeAffinity(spec.affinity);
  if (affinity === undefined) delete spec.affinity;
  else spec.affinity = affinity;

  if (spec.volumes) {
    spec.volumes = rewriteVolumes(spec.volumes, target.copies, remotePvcClaims(local.metadata.annotations));
  }
  spec.containers = spec.containers.map((container) => rewriteEnvReferences(container, target.copies));
  if (spec.initContainers) {
    spec.initContainers = spec.initContainers.map((container) => rewriteEnvReferences(container, target.copies));
  }

  if (spec.imagePullSecrets) {
    // Kept by name (they must exist remotely), unless InterLink sent the Secret for a volume too.
    spec.imagePullSecrets = spec.imagePullSecrets.map((ref) => {
      const copy = ref.name === undefined ? undefined : target.copies.secretNames.get(ref.name);
      return copy === undefined ? ref : { ...ref, name: copy };
    });
  }

  // A host-network pod has its node's host name, which no spec field can reproduce.
  if ((spec.hostname === undefined || spec.hostname === '') && spec.hostNetwork !== true) {
    const hostname = kubeletHostname(local.metadata.name);
    if (isDnsLabel(hostname)) spec.hostname = hostname;
  }

  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: remoteObjectName(local.metadata.name, uid),
      namespace: target.namespace,
      labels: mergeMetadataMap(local.metadata.labels, podObjectLabels(uid)),
      annotations: mergeMetadataMap(
        local.metadata.annotations,
        sourceAnnotations({ uid, name: local.metadata.name, namespace: local.metadata.namespace }),
      ),
    },
    spec,
  };
}

/** The host name a kubelet gives a pod without `spec.hostname`: its name cut at 63, no trailing `-` or `.`. */
function kubeletHostname(podName: string): string {
  return podName.length <= DNS_LABEL_MAX ? podName : podName.slice(0, DNS_LABEL_MAX).replace(/[-.]+$/, '');
}

/** The pod's selector without virtual-node entries, over the configured one (pod keys win); undefined if empty. */
export function mergeNodeSelector(
  own: Readonly<Record<string, string>> | undefined,
  configured: Readonly<Record<string, string>>,
): Record<string, string> | undefined {
  const kept = Object.entries(own ?? {}).filter(([key, value]) => !targetsVirtualNode(key, [value]));
  const merged = { ...configured, ...Object.fromEntries(kept) };
  return Object.keys(merged).length === 0 ? undefined : merged;
}

/** The pod's tolerations without virtual-node ones, then the configured ones; exact duplicates removed. */
export function mergeTolerations(
  own: readonly Manifest<V1Toleration>[] | undefined,
  configured: readonly Record<string, unknown>[],
): Manifest<V1Toleration>[] {
  const seen = new Set<string>();
  const out: Manifest<V1Toleration>[] = [];
  // Configured tolerations are validated JSON tolerations from the configuration.
  for (const toleration of [...(own ?? []), ...(configured as readonly Manifest<V1Toleration>[])]) {
    if (toleratesVirtualNode(toleration)) continue;
    const identity = JSON.stringify([
      toleration.key ?? '',
      toleration.operator ?? 'Equal',
      toleration.value ?? '',
      toleration.effect ?? '',
      toleration.tolerationSeconds ?? null,
    ]);
    if (seen.has(identity)) continue;
    seen.add(identity);
    out.push(toleration);
  }
  return out;
}

const keepRequirement = (requirement: Manifest<V1NodeSelectorRequirement>): boolean =>
  !targetsVirtualNode(requirement.key, requirement.values ?? []);

/** A node selector term without what targets the virtual node; `matchFields` (local node names) go too. */
function filterTerm(term: Manifest<V1NodeSelectorTerm>): Manifest<V1NodeSelectorTerm> {
  const out: Manifest<V1NodeSelectorTerm> = { ...term };
  delete out.matchFields;
  const expressions = (term.matchExpressions ?? []).filter(keepRequirement);
  if (expressions.length > 0) out.matchExpressions = expressions;
  else delete out.matchExpressions;
  return out;
}

const isEmptyTerm = (term: Manifest<V1NodeSelectorTerm>): boolean =>
  (term.matchExpressions ?? []).length === 0 && (term.matchFields ?? []).length === 0;

/**
 * Node affinity without the virtual node. Required terms are ORed, and a
 * term left empty by the filtering meant "the virtual node", which stands
 * for any remote node: then the whole requirement is dropped. Preferred
 * terms left empty are dropped. Pod (anti-)affinity is kept: the remote pod
 * carries the local pod's labels.
 */
export function withoutVirtualNodeAffinity(affinity: Manifest<V1Affinity> | undefined): Manifest<V1Affinity> | undefined {
  const nodeAffinity = affinity?.nodeAffinity;
  if (affinity === undefined || nodeAffinity === undefined) return affinity;
  const out: Manifest<V1Affinity> = { ...affinity, nodeAffinity: { ...nodeAffinity } };
  const filtered = out.nodeAffinity ?? {};

  const required = nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution;
  if (required) {
    const terms = required.nodeSelectorTerms.map(filterTerm);
    if (terms.length === 0 || terms.some(isEmptyTerm)) delete filtered.requiredDuringSchedulingIgnoredDuringExecution;
    else filtered.requiredDuringSchedulingIgnoredDuringExecution = { ...required, nodeSelectorTerms: terms };
  }

  const preferred = nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution;
  if (preferred) {
    const terms = preferred
      .map((term): Manifest<V1PreferredSchedulingTerm> => ({ ...term, preference: filterTerm(term.preference) }))
      .filter((term) => !isEmptyTerm(term.preference));
    if (terms.length > 0) filtered.preferredDuringSchedulingIgnoredDuringExecution = terms;
    else delete filtered.preferredDuringSchedulingIgnoredDuringExecution;
  }

  if (Object.keys(filtered).length === 0) delete out.nodeAffinity;
  return Object.keys(out).length === 0 ? undefined : out;
}

/** The service account a remote pod runs as when its own does not exist in the remote namespace. */
export const FALLBACK_SERVICE_ACCOUNT = 'default';

/**
 * The service account the remote namespace must be checked for before the
 * pod is applied: the pod's own, unless it is empty or already the
 * {@link FALLBACK_SERVICE_ACCOUNT}.
 */
export function serviceAccountToCheck(pod: { spec?: { serviceAccountName?: string | undefined } | undefined }): string | undefined {
  const account = pod.spec?.serviceAccountName;
  return account === undefined || account === '' || account === FALLBACK_SERVICE_ACCOUNT ? undefined : account;
}

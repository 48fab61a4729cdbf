import type { Accelerator, PingResponse } from '@interlink-k8s/protocol';
import { formatQuantity, tryParseQuantity } from '../shared/quantity.js';
import type { RawContainer, RawNode, RawPod, RawResourceList } from './remote-api.js';

/** Which remote nodes count, and which pods the local scheduler already accounts for. */
export interface CapacityOptions {
  /** Only nodes carrying all these labels count (`offloading.node_selector`). */
  nodeSelector: Readonly<Record<string, string>>;
  /** Tolerations every offloaded pod gets; nodes with other NoSchedule/NoExecute taints do not count. */
  tolerations: readonly Record<string, unknown>[];
  /**
   * Pods whose requests are *not* subtracted: the pods this plugin offloaded.
   * The local scheduler already subtracts them from the virtual node's
   * allocatable, so subtracting them here as well would count them twice.
   */
  isOffloaded?: (pod: RawPod) => boolean;
}

type Resources = Map<string, bigint>;

const TERMINAL_PHASES = new Set(['Succeeded', 'Failed']);

/**
 * Whether a resource name is an accelerator (an extended resource such as
 * `nvidia.com/gpu` or `amd.com/gpu`): a name with a `/`, except hugepages
 * and ephemeral storage.
 */
export function isAcceleratorResource(name: string): boolean {
  return name.includes('/') && !name.startsWith('hugepages-') && name !== 'ephemeral-storage';
}

/** Whether a node is Ready and schedulable. */
export function isNodeUsable(node: RawNode): boolean {
  if (node.spec?.unschedulable === true) return false;
  return (node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Whether `labels` satisfy an equality `selector`. */
export function matchesSelector(
  labels: Readonly<Record<string, string>> | undefined,
  selector: Readonly<Record<string, string>>,
): boolean {
  return Object.entries(selector).every(([key, value]) => labels?.[key] === value);
}

/** Kubernetes' toleration rule: whether `toleration` tolerates `taint`. */
export function tolerates(
  toleration: Readonly<Record<string, unknown>>,
  taint: { key: string; value?: string | undefined; effect: string },
): boolean {
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  const effect = str(toleration.effect);
  if (effect !== '' && effect !== taint.effect) return false;
  const key = str(toleration.key);
  const operator = str(toleration.operator) || 'Equal';
  if (key === '') return operator === 'Exists';
  if (key !== taint.key) return false;
  return operator === 'Exists' || str(toleration.value) === (taint.value ?? '');
}

function blockingTaintsTolerated(node: RawNode, tolerations: readonly Record<string, unknown>[]): boolean {
  return (node.spec?.taints ?? [])
    .filter((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute')
    .every((taint) => tolerations.some((t) => tolerates(t, taint)));
}

function toResources(list: RawResourceList | undefined): Resources {
  const out: Resources = new Map();
  for (const [name, text] of Object.entries(list ?? {})) {
    const value = tryParseQuantity(text);
    if (value !== undefined) out.set(name, value);
  }
  return out;
}

function add(into: Resources, from: Resources): void {
  for (const [name, value] of from) into.set(name, (into.get(name) ?? 0n) + value);
}

function maxInto(into: Resources, from: Resources): void {
  for (const [name, value] of from) if (value > (into.get(name) ?? 0n)) into.set(name, value);
}

const requestsOf = (c: RawContainer): Resources => toResources(c.resources?.requests);

/**
 * The requests a pod holds on its node, computed as the scheduler does:
 * the larger of (containers + sidecars) and the peak of any init container
 * (plus the sidecars started before it), plus the pod overhead. Pod-level
 * `spec.resources.requests` replace the per-container sum where set.
 */
export function podRequests(pod: RawPod): Resources {
  const spec = pod.spec ?? {};
  const total: Resources = new Map();
  for (const c of spec.containers ?? []) add(total, requestsOf(c));
  const sidecars: Resources = new Map();
  const initPeak: Resources = new Map();
  for (const c of spec.initContainers ?? []) {
    const own = requestsOf(c);
    if (c.restartPolicy === 'Always') {
      // A native sidecar keeps running next to the containers.
      add(total, own);
      add(sidecars, own);
      maxInto(initPeak, sidecars);
    } else {
      const during = new Map(sidecars);
      add(during, own);
      maxInto(initPeak, during);
    }
  }
  maxInto(total, initPeak);
  for (const [name, value] of toResources(spec.resources?.requests)) total.set(name, value);
  add(total, toResources(spec.overhead));
  return total;
}

/**
 * What the remote cluster can still take, for the ping answer: allocatable
 * cpu, memory, pods and accelerators summed over the Ready, schedulable
 * nodes that match the node selector and whose blocking taints the
 * configured tolerations tolerate, minus the requests of the non-terminal
 * pods bound to them (except pods this plugin offloaded, see
 * {@link CapacityOptions.isOffloaded}). Each node's remainder is floored at
 * zero. `undefined` when no node qualifies: the caller then omits
 * `resources`, because reporting 0 drains the virtual node; likewise a
 * resource no qualifying node reports is left out.
 */
export function computeCapacity(
  nodes: readonly RawNode[],
  pods: readonly RawPod[],
  options: CapacityOptions,
): PingResponse['resources'] {
  const usable = nodes.filter(
    (n) =>
      n.metadata?.name !== undefined &&
      isNodeUsable(n) &&
      matchesSelector(n.metadata.labels, options.nodeSelector) &&
      blockingTaintsTolerated(n, options.tolerations),
  );
  if (usable.length === 0) return undefined;

  const used = new Map<string, Resources>();
  for (const pod of pods) {
    const nodeName = pod.spec?.nodeName;
    if (nodeName === undefined || nodeName === '') continue;
    if (TERMINAL_PHASES.has(pod.status?.phase ?? '')) continue;
    // The local scheduler already counts an offloaded pod (its requests and
    // its pod slot) on the virtual node.
    if (options.isOffloaded?.(pod) === true) continue;
    let onNode = used.get(nodeName);
    if (onNode === undefined) {
      onNode = new Map();
      used.set(nodeName, onNode);
    }
    add(onNode, podRequests(pod));
    onNode.set('pods', (onNode.get('pods') ?? 0n) + 1_000_000_000n);
  }

  const free: Resources = new Map();
  for (const node of usable) {
    const allocatable = toResources(node.status?.allocatable);
    const onNode = used.get(node.metadata?.name ?? '') ?? new Map<string, bigint>();
    for (const [name, value] of allocatable) {
      const left = value - (onNode.get(name) ?? 0n);
      free.set(name, (free.get(name) ?? 0n) + (left > 0n ? left : 0n));
    }
  }

  const accelerators: Accelerator[] = [...free.keys()]
    .filter(isAcceleratorResource)
    .sort()
    .map((name) => ({ resourceType: name, available: formatQuantity(free.get(name) ?? 0n) }));
  // A resource no node reports is omitted rather than reported as 0.
  const amount = (name: string, style: 'decimal' | 'binary'): string | undefined => {
    const value = free.get(name);
    return value === undefined ? undefined : formatQuantity(value, style);
  };
  const cpu = amount('cpu', 'decimal');
  const memory = amount('memory', 'binary');
  const podSlots = amount('pods', 'decimal');
  return {
    ...(cpu === undefined ? {} : { cpu }),
    ...(memory === undefined ? {} : { memory }),
    ...(podSlots === undefined ? {} : { pods: podSlots }),
    ...(accelerators.length > 0 ? { accelerators } : {}),
  };
}

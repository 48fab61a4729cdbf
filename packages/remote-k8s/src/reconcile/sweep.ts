import {
  NAMESPACE_CREATED_BY_ANNOTATION,
  SOURCE_NAME_ANNOTATION,
  SOURCE_NAMESPACE_ANNOTATION,
  SOURCE_POD_UID_LABEL,
  claimNamesOf,
} from '../translate/index.js';
import type { SweptKind } from '../offload-provider.js';
import { MANAGED_SELECTOR, OFFLOADED_POD_SELECTOR, isDeleting, type ReconcileContext } from './context.js';
import { deleteIfPresent, deleteNamespaceIfEmpty, removePodObjects } from './delete.js';
import type { LocalPodReader } from './local-pods.js';
import type { RawObject } from './remote-api.js';

/** The sweep: leftovers of pods that are gone, on the remote cluster. */

/** The result of one sweep. */
export interface SweepResult {
  /** Remote pods deleted because their local pod is gone; only with read access to the local cluster. */
  pods?: number;
  configMaps: number;
  secrets: number;
  namespaces: number;
}

/** Whether `manager` applied (or updated) the object, by its `managedFields`. */
const appliedBy = (obj: RawObject, manager: string): boolean => {
  const entries = obj.metadata?.managedFields;
  return Array.isArray(entries) && entries.some((e: unknown) => typeof e === 'object' && e !== null && (e as { manager?: unknown }).manager === manager);
};

/**
 * Removes leftovers: with read access to the local cluster, managed remote
 * pods whose local pod no longer exists (see `sweepOrphanPods`); managed
 * ConfigMaps and Secrets older than the grace period whose pod (by local
 * UID label) no longer exists; and empty namespaces this plugin created.
 * Skipped while the pod cache is not synced (it is what says which pods
 * exist).
 */
export async function sweepLeftovers(ctx: ReconcileContext): Promise<SweepResult> {
  const result: SweepResult = { configMaps: 0, secrets: 0, namespaces: 0 };
  if (!ctx.cache.synced) return result;
  if (ctx.options.localPods !== undefined) result.pods = await sweepOrphanPods(ctx, ctx.options.localPods);
  const cutoff = ctx.now() - (ctx.options.sweepGraceMs ?? 120_000);
  const oldEnough = (obj: RawObject): boolean => {
    const created = Date.parse(obj.metadata?.creationTimestamp ?? '');
    return Number.isFinite(created) && created < cutoff;
  };
  for (const resource of ['configmaps', 'secrets'] as const) {
    const { items } = await ctx.api.list(resource, { labelSelector: OFFLOADED_POD_SELECTOR });
    for (const obj of items) {
      const uid = obj.metadata?.labels?.[SOURCE_POD_UID_LABEL];
      const name = obj.metadata?.name;
      if (uid === undefined || name === undefined || !oldEnough(obj) || ctx.cache.has(uid)) continue;
      if (await deleteIfPresent(ctx, resource, name, obj.metadata?.namespace, obj.metadata?.uid)) {
        if (resource === 'configmaps') result.configMaps += 1;
        else result.secrets += 1;
      }
    }
  }
  const { items: namespaces } = await ctx.api.list('namespaces', { labelSelector: MANAGED_SELECTOR });
  for (const ns of namespaces) {
    const name = ns.metadata?.name;
    if (name === undefined || !oldEnough(ns) || ns.metadata?.annotations?.[NAMESPACE_CREATED_BY_ANNOTATION] === undefined) {
      continue;
    }
    if (await deleteNamespaceIfEmpty(ctx, name)) result.namespaces += 1;
  }
  if ((result.pods ?? 0) + result.configMaps + result.secrets + result.namespaces > 0) {
    ctx.events.notice?.('swept leftovers on the remote cluster', { ...result });
    const removed: Partial<Record<SweptKind, number>> = {};
    if ((result.pods ?? 0) > 0) removed.pods = result.pods;
    if (result.configMaps > 0) removed.configmaps = result.configMaps;
    if (result.secrets > 0) removed.secrets = result.secrets;
    if (result.namespaces > 0) removed.namespaces = result.namespaces;
    ctx.events.swept?.(removed);
  }
  return result;
}

/**
 * Deletes the managed remote pods whose local pod is gone: InterLink sends
 * one delete per pod and never again, so a delete lost while the plugin
 * (or InterLink's API server) was down would leave the remote pod running
 * for ever. A remote pod is deleted, with everything made for it, only
 * when a fresh read of the local cluster answers that its local pod (by
 * the `interlink.io/source.namespace` and `source.name` annotations) does
 * not exist, or exists with another UID than its
 * `interlink.io/source.pod_uid` label (a new pod under the same name).
 * Only pods this installation applied (its field manager) are looked at:
 * another installation offloading into the same remote cluster has its
 * pods in another local cluster. Never touched: pods younger than
 * `orphanGraceMs` (their create may be in flight, the local pod not
 * visible yet), pods already being deleted, and pods without those
 * annotations. The first failed local read ends the
 * pass (`events.localError`): an unreadable local cluster proves nothing.
 * Resolves with the number of remote pods deleted.
 */
async function sweepOrphanPods(ctx: ReconcileContext, local: LocalPodReader): Promise<number> {
  const cutoff = ctx.now() - (ctx.options.orphanGraceMs ?? 60_000);
  let removed = 0;
  for (const pod of ctx.cache.pods()) {
    const meta = pod.metadata;
    const uid = meta?.labels?.[SOURCE_POD_UID_LABEL];
    const localNamespace = meta?.annotations?.[SOURCE_NAMESPACE_ANNOTATION];
    const localName = meta?.annotations?.[SOURCE_NAME_ANNOTATION];
    const namespace = meta?.namespace;
    const created = Date.parse(meta?.creationTimestamp ?? '');
    if (uid === undefined || localNamespace === undefined || localName === undefined || namespace === undefined) continue;
    if (!appliedBy(pod, ctx.options.fieldManager)) continue;
    if (isDeleting(pod) || !Number.isFinite(created) || created >= cutoff) continue;
    let localUid: string | undefined;
    try {
      localUid = await local.podUid(localNamespace, localName);
    } catch (err) {
      ctx.events.localError?.('sweep: get local pod', err instanceof Error ? err : new Error(String(err)));
      break;
    }
    if (localUid === uid) continue;
    const claims = new Set(claimNamesOf(meta?.annotations, pod.spec?.volumes));
    await removePodObjects(ctx, namespace, uid, claims);
    await deleteNamespaceIfEmpty(ctx, namespace);
    removed += 1;
    ctx.events.notice?.(
      localUid === undefined
        ? 'deleted a remote pod whose local pod no longer exists'
        : 'deleted a remote pod whose local pod was replaced by another of the same name',
      { namespace: localNamespace, pod: localName, uid, remotePod: `${namespace}/${meta?.name ?? ''}` },
    );
  }
  return removed;
}

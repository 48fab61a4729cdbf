import { PVC_RETENTION_POLICY_ANNOTATION, NAMESPACE_CREATED_BY_ANNOTATION, SOURCE_POD_UID_LABEL, claimNamesOf, deletionGracePeriodOf, remoteNamespaceName } from '../translate/index.js';
import type { Pod } from '@interlink-k8s/protocol';
import { MANAGED_SELECTOR, isDeleting, type ReconcileContext } from './context.js';
import { hasStatus } from './errors.js';
import type { CoreResource, RawObject } from './remote-api.js';

/**
 * The delete verb: everything labelled with the pod UID (the remote pod
 * with the local pod's `deletionGracePeriodSeconds` when set), opted-in
 * claims with `interlink.io/pvc-retention-policy: delete`, and the namespace
 * if this plugin created it and nothing managed is left.
 */

/**
 * Removes a local pod's remote objects in every namespace they may be in
 * (the one its namespace maps to, and the cached pod's), then each namespace
 * if this plugin created it and nothing is left.
 */
export async function deletePod(ctx: ReconcileContext, pod: Pod): Promise<void> {
  const uid = pod.metadata.uid;
  const namespaces = new Set([remoteNamespaceName(pod.metadata.namespace, ctx.options.translate)]);
  const cached = ctx.cache.get(uid);
  const cachedNamespace = cached?.metadata?.namespace;
  if (cachedNamespace !== undefined) namespaces.add(cachedNamespace);
  const claims = new Set(claimNamesOf(pod.metadata.annotations, pod.spec?.volumes));
  for (const claim of claimNamesOf(pod.metadata.annotations, cached?.spec?.volumes)) claims.add(claim);
  const gracePeriodSeconds = deletionGracePeriodOf(pod);
  try {
    for (const namespace of namespaces) await removePodObjects(ctx, namespace, uid, claims, gracePeriodSeconds);
    for (const namespace of namespaces) await deleteNamespaceIfEmpty(ctx, namespace);
  } catch (err) {
    throw ctx.fail('delete', err);
  }
}

/**
 * Deletes a local pod's remote pod, its copies and opted-in claims in one
 * namespace; the pod with `gracePeriodSeconds` when given, else with its
 * own `terminationGracePeriodSeconds`.
 */
export async function removePodObjects(
  ctx: ReconcileContext,
  namespace: string,
  uid: string,
  claims: ReadonlySet<string>,
  gracePeriodSeconds?: number,
): Promise<void> {
  const labelSelector = `${SOURCE_POD_UID_LABEL}=${uid}`;
  const [pods, configMaps, secrets, labelledClaims] = await Promise.all([
    ctx.api.list('pods', { namespace, labelSelector }),
    ctx.api.list('configmaps', { namespace, labelSelector }),
    ctx.api.list('secrets', { namespace, labelSelector }),
    ctx.api.list('persistentvolumeclaims', { namespace, labelSelector }),
  ]);
  const remove = (resource: CoreResource, items: readonly RawObject[], grace?: number): Promise<boolean>[] =>
    items.flatMap((o) =>
      o.metadata?.name === undefined ? [] : [deleteIfPresent(ctx, resource, o.metadata.name, namespace, o.metadata.uid, grace)],
    );
  // The pod first: its owned ConfigMaps and Secrets then go even if this call dies half-way.
  await Promise.all(remove('pods', pods.items, gracePeriodSeconds));
  await Promise.all([...remove('configmaps', configMaps.items), ...remove('secrets', secrets.items)]);

  const claimNames = new Set(claims);
  for (const c of labelledClaims.items) if (c.metadata?.name !== undefined) claimNames.add(c.metadata.name);
  if (claimNames.size > 0) await removeClaims(ctx, namespace, uid, claimNames);
}

/** Deletes the claims that opted in (`interlink.io/pvc-retention-policy: delete`) and that no other pod uses. */
async function removeClaims(ctx: ReconcileContext, namespace: string, uid: string, names: ReadonlySet<string>): Promise<void> {
  const doomed: RawObject[] = [];
  for (const name of names) {
    try {
      const claim = await ctx.api.get('persistentvolumeclaims', name, namespace);
      if (claim.metadata?.annotations?.[PVC_RETENTION_POLICY_ANNOTATION] === 'delete') doomed.push(claim);
    } catch (err) {
      if (!hasStatus(err, 404)) throw err;
    }
  }
  if (doomed.length === 0) return;
  const { items: pods } = await ctx.api.list('pods', { namespace });
  const inUse = new Set(
    pods
      .filter((p) => p.metadata?.labels?.[SOURCE_POD_UID_LABEL] !== uid && !isDeleting(p))
      .flatMap((p) => claimNamesOf(undefined, p.spec?.volumes)),
  );
  await Promise.all(
    doomed.flatMap((c) => {
      const name = c.metadata?.name;
      return name === undefined || inUse.has(name)
        ? []
        : [deleteIfPresent(ctx, 'persistentvolumeclaims', name, namespace, c.metadata?.uid)];
    }),
  );
}

/**
 * Deletes a namespace this plugin created once nothing is left in it: no
 * pod at all and no managed ConfigMap, Secret or claim. Resolves `true`
 * when it asked for the deletion.
 */
export async function deleteNamespaceIfEmpty(ctx: ReconcileContext, name: string): Promise<boolean> {
  let ns: RawObject;
  try {
    ns = await ctx.api.get('namespaces', name);
  } catch (err) {
    if (hasStatus(err, 404)) return false;
    throw err;
  }
  if (ns.metadata?.annotations?.[NAMESPACE_CREATED_BY_ANNOTATION] === undefined || isDeleting(ns)) return false;
  const lists = await Promise.all([
    ctx.api.list('configmaps', { namespace: name, labelSelector: MANAGED_SELECTOR, limit: 1 }),
    ctx.api.list('secrets', { namespace: name, labelSelector: MANAGED_SELECTOR, limit: 1 }),
    ctx.api.list('persistentvolumeclaims', { namespace: name, labelSelector: MANAGED_SELECTOR, limit: 1 }),
  ]);
  if (lists.some((l) => l.items.length > 0) || (await hasLivePods(ctx, name))) return false;
  return deleteIfPresent(ctx, 'namespaces', name, undefined, ns.metadata.uid);
}

/**
 * Whether a namespace holds a pod that is not being deleted. Pods in
 * graceful termination do not count: deleting the namespace waits for them,
 * and counting them would leave the namespace behind after the last delete.
 */
async function hasLivePods(ctx: ReconcileContext, namespace: string): Promise<boolean> {
  const first = await ctx.api.list('pods', { namespace, limit: 1 });
  const [pod] = first.items;
  if (pod === undefined) return false;
  if (!isDeleting(pod)) return true;
  // Rare: the first pod listed is terminating; look at all of them.
  const all = await ctx.api.list('pods', { namespace });
  return all.items.some((p) => !isDeleting(p));
}

/**
 * Deletes one object (a pod with `gracePeriodSeconds` when given);
 * `false` when it was already gone (or replaced by another with the same name).
 */
export async function deleteIfPresent(
  ctx: ReconcileContext,
  resource: CoreResource,
  name: string,
  namespace?: string,
  uid?: string,
  gracePeriodSeconds?: number,
): Promise<boolean> {
  try {
    await ctx.api.delete(resource, name, namespace, { uid, gracePeriodSeconds });
    return true;
  } catch (err) {
    if (hasStatus(err, 404) || (uid !== undefined && hasStatus(err, 409))) return false;
    throw err;
  }
}

import { backoffDelay } from '@interlink-k8s/contract';
import {
  ConflictError,
  PluginError,
  RemoteUnavailableError,
  type CreateStruct,
  type RetrievedPodData,
} from '@interlink-k8s/protocol';
import {
  FALLBACK_SERVICE_ACCOUNT,
  SOURCE_POD_UID_LABEL,
  namespaceToCreate,
  planRemoteObjects,
  serviceAccountToCheck,
  type RemotePlan,
} from '../translate/index.js';
import { isDeleting, toJson, type ReconcileContext } from './context.js';
import { deleteIfPresent, deleteNamespaceIfEmpty } from './delete.js';
import { hasStatus } from './errors.js';
import type { CoreResource, RawObject, RawOwnerReference, RawPod } from './remote-api.js';
import { sleep } from './sleep.js';

/**
 * The create verb: namespace (created if missing, annotated as ours), the
 * pod by server-side apply, then its ConfigMaps and Secrets owned by the
 * remote pod and its opted-in claims; idempotent per local pod UID.
 */

/** What one create call made, so that a failure can take it back. */
interface CreateProgress {
  namespaceCreated: boolean;
  podCreated: boolean;
  podName?: string;
  data: { resource: CoreResource; name: string }[];
  claims: string[];
}

/** Admission refuses pods until the namespace's ServiceAccount exists (fresh namespaces get `default` within moments). */
const serviceAccountMissing = (err: unknown): boolean =>
  hasStatus(err, 403) && /error looking up service account|serviceaccount "[^"]*" not found/i.test(err.message);

/** The namespace went away (or is going) between our check and our write. */
const namespaceGone = (err: unknown): boolean =>
  (hasStatus(err, 403) &&
    (err.causes.some((c) => c.type === 'NamespaceTerminating') || err.message.includes('being terminated'))) ||
  (hasStatus(err, 404) && err.request.resource !== 'namespaces' && /namespaces? "[^"]*" not found/.test(err.message));

/**
 * Offloads one pod: plans it, creates what the plan holds (see the module's
 * comment), takes back what this call made when it fails, and sends the
 * plan's warnings once the pod is offloaded.
 */
export async function createPod(ctx: ReconcileContext, data: RetrievedPodData): Promise<CreateStruct> {
  // Translation errors are the caller's (400), not the remote's: not reported as remote errors.
  const plan = planRemoteObjects(data, ctx.options.translate);
  const progress: CreateProgress = { namespaceCreated: false, podCreated: false, data: [], claims: [] };
  let created: CreateStruct;
  try {
    created = await createPlanned(ctx, plan, progress);
  } catch (err) {
    await rollback(ctx, plan, progress);
    throw ctx.fail('create', err);
  }
  const { namespace, name, uid } = data.pod.metadata;
  for (const warning of plan.warnings) ctx.events.podWarning?.({ namespace, name, uid }, warning);
  return created;
}

/** Makes what `plan` holds, recording in `progress` what this call made. */
async function createPlanned(ctx: ReconcileContext, plan: RemotePlan, progress: CreateProgress): Promise<CreateStruct> {
  const podName = plan.pod.metadata?.name;
  if (podName === undefined) throw new PluginError('the translated pod has no name');
  progress.podName = podName;
  const deadline = ctx.now() + (ctx.options.settleTimeoutMs ?? 60_000);
  // Both reads at once: one round trip less on every create. A namespace
  // this call (re)created holds no pod, whatever the read saw before. When
  // both fail, the namespace's error is the one reported, as when the two
  // ran one after the other.
  const [namespaceRead, podRead] = await Promise.allSettled([
    ensureNamespace(ctx, plan, deadline),
    existingRemotePod(ctx, plan.localUid, plan.namespace, podName),
  ]);
  if (namespaceRead.status === 'rejected') throw namespaceRead.reason;
  if (namespaceRead.value) progress.namespaceCreated = true;
  if (podRead.status === 'rejected') throw podRead.reason;
  let pod = namespaceRead.value ? undefined : podRead.value;
  if (pod !== undefined && isDeleting(pod)) {
    throw new ConflictError(`the remote pod ${plan.namespace}/${podName} is still being deleted; retry later`);
  }
  if (pod === undefined) {
    // Set first: if the apply's answer is lost, the pod may exist anyway.
    progress.podCreated = true;
    pod = await applyPod(ctx, plan, await podManifest(ctx, plan), deadline, progress);
  }
  const remoteUid = pod.metadata?.uid;
  if (remoteUid === undefined) throw new PluginError('the remote API answered a pod without uid');

  const owner: RawOwnerReference = { apiVersion: 'v1', kind: 'Pod', name: podName, uid: remoteUid };
  const data: { resource: CoreResource; manifest: RawObject }[] = [
    ...plan.configMaps.map((m) => ({ resource: 'configmaps' as const, manifest: toJson(m) })),
    ...plan.secrets.map((m) => ({ resource: 'secrets' as const, manifest: toJson(m) })),
  ];
  const applied = await Promise.allSettled(
    data.map(async ({ resource, manifest }) => {
      const meta = manifest.metadata ?? {};
      const name = meta.name ?? '';
      progress.data.push({ resource, name });
      await ctx.api.apply(resource, { ...manifest, metadata: { ...meta, ownerReferences: [owner] } }, ctx.options.fieldManager);
    }),
  );
  const claims = await Promise.allSettled(plan.persistentVolumeClaims.map((claim) => ensureClaim(ctx, toJson(claim), progress)));
  for (const outcome of [...applied, ...claims]) if (outcome.status === 'rejected') throw outcome.reason;
  return { PodUID: plan.localUid, PodJID: remoteUid };
}

/** Creates the namespace when missing; waits while it is terminating. Resolves `true` when this call created it. */
async function ensureNamespace(ctx: ReconcileContext, plan: RemotePlan, deadline: number): Promise<boolean> {
  const name = plan.namespace;
  for (let attempt = 0; ; attempt++) {
    if (attempt > 0 && ctx.now() >= deadline) {
      throw new RemoteUnavailableError(`the remote namespace "${name}" did not settle in time (still being deleted?); retry later`);
    }
    let existing: RawObject | undefined;
    try {
      existing = await ctx.api.get('namespaces', name);
    } catch (err) {
      if (!hasStatus(err, 404)) throw err;
    }
    if (existing === undefined) {
      const manifest = toJson(namespaceToCreate(plan.namespaceManifest, ctx.options.fieldManager));
      try {
        await ctx.api.create('namespaces', manifest);
        return true;
      } catch (err) {
        // Another replica (or create) made it meanwhile: look again.
        if (!hasStatus(err, 409)) throw err;
        continue;
      }
    }
    if (!isDeleting(existing)) return false;
    await sleep(backoffDelay({ initialMs: 100, maxMs: 2000 }, attempt));
  }
}

/** The remote pod of a local UID if it exists: from the cache, else one direct read by name. */
async function existingRemotePod(ctx: ReconcileContext, localUid: string, namespace: string, name: string): Promise<RawPod | undefined> {
  const cached = ctx.cache.get(localUid);
  if (cached !== undefined) return cached;
  try {
    const pod = await ctx.api.get('pods', name, namespace);
    if (pod.metadata?.labels?.[SOURCE_POD_UID_LABEL] !== localUid) {
      throw new ConflictError(`the remote pod name ${namespace}/${name} is taken by another pod`);
    }
    return pod;
  } catch (err) {
    if (hasStatus(err, 404)) return undefined;
    throw err;
  }
}

/** The pod manifest, with the service account replaced by `default` when the remote namespace lacks it. */
async function podManifest(ctx: ReconcileContext, plan: RemotePlan): Promise<RawObject> {
  const manifest = toJson(plan.pod) as RawPod;
  const account = serviceAccountToCheck(manifest);
  if (manifest.spec === undefined || account === undefined) return manifest;
  try {
    await ctx.api.get('serviceaccounts', account, plan.namespace);
  } catch (err) {
    if (!hasStatus(err, 404)) throw err;
    manifest.spec.serviceAccountName = FALLBACK_SERVICE_ACCOUNT;
  }
  return manifest;
}

async function applyPod(ctx: ReconcileContext, plan: RemotePlan, manifest: RawObject, deadline: number, progress: CreateProgress): Promise<RawPod> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await ctx.api.apply('pods', manifest, ctx.options.fieldManager);
    } catch (err) {
      const settling = serviceAccountMissing(err) || namespaceGone(err);
      if (!settling || ctx.now() >= deadline) throw err;
      if (namespaceGone(err) && (await ensureNamespace(ctx, plan, deadline))) progress.namespaceCreated = true;
      await sleep(backoffDelay({ initialMs: 50, maxMs: 1000 }, attempt));
    }
  }
}

/** Creates a planned claim only when missing: a claim may be shared and outlives pods, so it is never overwritten. */
async function ensureClaim(ctx: ReconcileContext, manifest: RawObject, progress: CreateProgress): Promise<void> {
  const name = manifest.metadata?.name;
  if (name === undefined) return;
  try {
    await ctx.api.get('persistentvolumeclaims', name, manifest.metadata?.namespace);
    return;
  } catch (err) {
    if (!hasStatus(err, 404)) throw err;
  }
  progress.claims.push(name);
  await ctx.api.apply('persistentvolumeclaims', manifest, ctx.options.fieldManager);
}

/** Best effort: takes back what a failed create made (never what an earlier create made). */
async function rollback(ctx: ReconcileContext, plan: RemotePlan, progress: CreateProgress): Promise<void> {
  const namespace = plan.namespace;
  const steps: Promise<unknown>[] = [];
  if (progress.podCreated && progress.podName !== undefined) {
    steps.push(deleteIfPresent(ctx, 'pods', progress.podName, namespace));
    for (const { resource, name } of progress.data) steps.push(deleteIfPresent(ctx, resource, name, namespace));
    for (const name of progress.claims) steps.push(deleteIfPresent(ctx, 'persistentvolumeclaims', name, namespace));
  }
  for (const outcome of await Promise.allSettled(steps)) {
    if (outcome.status === 'rejected') ctx.fail('create rollback', outcome.reason);
  }
  if (progress.namespaceCreated) {
    try {
      await deleteNamespaceIfEmpty(ctx, namespace);
    } catch (err) {
      ctx.fail('create rollback', err);
    }
  }
}

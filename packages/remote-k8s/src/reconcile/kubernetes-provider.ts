import type { Readable } from 'node:stream';
import { backoffDelay } from '@interlink-k8s/contract';
import {
  ConflictError,
  NotFoundError,
  PluginError,
  RemoteUnavailableError,
  type CreateStruct,
  type LogStruct,
  type PingResponse,
  type Pod,
  type PodStatus,
  type RetrievedPodData,
} from '@interlink-k8s/protocol';
import type { OffloadProvider, ProviderEvents, ReadinessCheck, SweptKind } from '../offload-provider.js';
import {
  OFFLOADING_LABEL,
  OFFLOADING_LABEL_VALUE,
  PVC_RETENTION_POLICY_ANNOTATION,
  SOURCE_NAME_ANNOTATION,
  SOURCE_NAMESPACE_ANNOTATION,
  SOURCE_POD_UID_LABEL,
  FALLBACK_SERVICE_ACCOUNT,
  NAMESPACE_CREATED_BY_ANNOTATION,
  claimNamesOf,
  createAcknowledged,
  deletionGracePeriodOf,
  missingPodStatus,
  namespaceToCreate,
  planRemoteObjects,
  remoteNamespaceName,
  serviceAccountToCheck,
  toLogQuery,
  toPodStatus,
  type RemotePlan,
  type TranslateOptions,
} from '../translate/index.js';
import { computeCapacity } from './capacity.js';
import { ClientNodeRemoteApi, buildKubeConfig } from './client.js';
import type { KubernetesProviderConfig } from './config.js';
import { KubeApiError, hasStatus, toPluginError } from './errors.js';
import { KubernetesLocalPods, type LocalPodReader } from './local-pods.js';
import { PodCache, type PodCacheOptions } from './pod-cache.js';
import type { CoreResource, RawObject, RawOwnerReference, RawPod, RemoteApi } from './remote-api.js';
import { sleep } from './sleep.js';

/** Selects the remote pods this plugin (or the reference plugin) offloaded. */
export const OFFLOADED_POD_SELECTOR = `${OFFLOADING_LABEL}=${OFFLOADING_LABEL_VALUE},${SOURCE_POD_UID_LABEL}`;

const MANAGED_SELECTOR = `${OFFLOADING_LABEL}=${OFFLOADING_LABEL_VALUE}`;

/** Everything {@link KubernetesProvider} needs besides the remote API, as plain data. */
export interface KubernetesProviderOptions {
  /** How local pods become remote objects (`offloading.*`). */
  translate: TranslateOptions;
  /** Server-side apply field manager; one per installation. */
  fieldManager: string;
  /** Period of the leftover sweep; 0 disables it. */
  sweepIntervalMs: number;
  /** Leftovers younger than this are never swept (a create may be in flight). Default 2 min. */
  sweepGraceMs?: number;
  /**
   * Read access to the local cluster's pods. When set, the sweep also
   * deletes managed remote pods whose local pod no longer exists (or is
   * another pod now), and a first sweep runs once the pod cache has synced
   * after start-up (unless the sweep is disabled). Unset: the local cluster
   * is never read.
   */
  localPods?: LocalPodReader | undefined;
  /** Remote pods younger than this are never deleted for a missing local pod (its create may be in flight). Default 1 min. */
  orphanGraceMs?: number;
  /** Delay before the first sweep after start-up (with `localPods`); it then waits for the pod cache to sync. Default 1 s. */
  firstSweepDelayMs?: number;
  /**
   * How long a create waits for the remote cluster to settle: a namespace
   * still terminating, a fresh namespace's `default` ServiceAccount. Default 60 s.
   */
  settleTimeoutMs?: number;
  /** Watch tunables (tests shorten them). */
  podCache?: Pick<PodCacheOptions, 'backoff' | 'watchTimeoutSeconds'>;
  /** Clock (tests move it). */
  now?: () => number;
}

/** What one create call made, so that a failure can take it back. */
interface CreateProgress {
  namespaceCreated: boolean;
  podCreated: boolean;
  podName?: string;
  data: { resource: CoreResource; name: string }[];
  claims: string[];
}

/** The result of one sweep. */
export interface SweepResult {
  /** Remote pods deleted because their local pod is gone; only with read access to the local cluster. */
  pods?: number;
  configMaps: number;
  secrets: number;
  namespaces: number;
}

const toJson = (value: unknown): RawObject => JSON.parse(JSON.stringify(value)) as RawObject;

const isDeleting = (obj: RawObject | undefined): boolean => obj?.metadata?.deletionTimestamp !== undefined;

/** Whether `manager` applied (or updated) the object, by its `managedFields`. */
const appliedBy = (obj: RawObject, manager: string): boolean => {
  const entries = obj.metadata?.managedFields;
  return Array.isArray(entries) && entries.some((e: unknown) => typeof e === 'object' && e !== null && (e as { manager?: unknown }).manager === manager);
};

/** Admission refuses pods until the namespace's ServiceAccount exists (fresh namespaces get `default` within moments). */
const serviceAccountMissing = (err: unknown): boolean =>
  hasStatus(err, 403) && /error looking up service account|serviceaccount "[^"]*" not found/i.test(err.message);

/** The namespace went away (or is going) between our check and our write. */
const namespaceGone = (err: unknown): boolean =>
  (hasStatus(err, 403) &&
    (err.causes.some((c) => c.type === 'NamespaceTerminating') || err.message.includes('being terminated'))) ||
  (hasStatus(err, 404) && err.request.resource !== 'namespaces' && /namespaces? "[^"]*" not found/.test(err.message));

/**
 * The {@link OffloadProvider} for a remote Kubernetes cluster.
 *
 * - create: namespace (created if missing, annotated as ours), the pod by
 *   server-side apply, then its ConfigMaps and Secrets owned by the remote
 *   pod (the TCP tunnel's Secret among them); idempotent per local pod UID;
 *   a failed create takes back what it made; the plan's warnings go out as
 *   `events.podWarning` once the pod is offloaded.
 * - status: from a watch-fed cache of the offloaded pods, no remote request
 *   per known pod; a pod missing from the cache is confirmed with one read.
 * - delete: everything labelled with the pod UID (the remote pod with the
 *   local pod's `deletionGracePeriodSeconds` when set), opted-in claims with
 *   `interlink.io/pvc-retention-policy: delete`, and the namespace if this
 *   plugin created it and nothing managed is left.
 * - logs, ping, readiness, and a periodic sweep of leftovers.
 *
 * Every remote failure is converted into the project's named errors with
 * {@link toPluginError} and reported through `events.remoteError`.
 */
export class KubernetesProvider implements OffloadProvider {
  private readonly api: RemoteApi;
  private readonly options: KubernetesProviderOptions;
  private readonly events: ProviderEvents;
  private readonly cache: PodCache;
  private readonly ownsApi: boolean;
  private readonly now: () => number;
  private sweepTimer: NodeJS.Timeout | undefined;
  private firstSweepTimer: NodeJS.Timeout | undefined;
  private sweeping: Promise<unknown> | undefined;

  /**
   * @param api the remote API (a plain object in tests)
   * @param options translation and reconciliation settings
   * @param events typed events for the app's logs and metrics
   * @param ownsApi close `api` (and `options.localPods`) on {@link KubernetesProvider.stop}
   */
  constructor(api: RemoteApi, options: KubernetesProviderOptions, events: ProviderEvents = {}, ownsApi = false) {
    this.api = api;
    this.options = options;
    this.events = events;
    this.ownsApi = ownsApi;
    this.now = options.now ?? Date.now;
    this.cache = new PodCache(api, {
      labelSelector: OFFLOADED_POD_SELECTOR,
      keyLabel: SOURCE_POD_UID_LABEL,
      events,
      ...options.podCache,
    });
  }

  /**
   * Builds a provider from configuration: the remote kubeconfig (file,
   * inline JSON or YAML, in-cluster, or client-node's default discovery)
   * with the client overrides applied, and the real remote API over it.
   */
  static fromConfig(cfg: KubernetesProviderConfig, events?: ProviderEvents): KubernetesProvider {
    const kc = buildKubeConfig(cfg.kubeconfig, cfg.clientOverrides);
    const localPods = cfg.local === undefined ? undefined : KubernetesLocalPods.fromConfig(cfg.local);
    return new KubernetesProvider(
      new ClientNodeRemoteApi(kc),
      { translate: cfg.translate, fieldManager: cfg.fieldManager, sweepIntervalMs: cfg.sweepIntervalMs, localPods },
      events,
      true,
    );
  }

  async create(data: RetrievedPodData): Promise<CreateStruct> {
    // Translation errors are the caller's (400), not the remote's: not reported as remote errors.
    const plan = planRemoteObjects(data, this.options.translate);
    const progress: CreateProgress = { namespaceCreated: false, podCreated: false, data: [], claims: [] };
    let created: CreateStruct;
    try {
      created = await this.createPlanned(plan, progress);
    } catch (err) {
      await this.rollback(plan, progress);
      throw this.fail('create', err);
    }
    const { namespace, name, uid } = data.pod.metadata;
    for (const warning of plan.warnings) this.events.podWarning?.({ namespace, name, uid }, warning);
    return created;
  }

  async delete(pod: Pod): Promise<void> {
    const uid = pod.metadata.uid;
    const namespaces = new Set([remoteNamespaceName(pod.metadata.namespace, this.options.translate)]);
    const cached = this.cache.get(uid);
    const cachedNamespace = cached?.metadata?.namespace;
    if (cachedNamespace !== undefined) namespaces.add(cachedNamespace);
    const claims = new Set(claimNamesOf(pod.metadata.annotations, pod.spec?.volumes));
    for (const claim of claimNamesOf(pod.metadata.annotations, cached?.spec?.volumes)) claims.add(claim);
    const gracePeriodSeconds = deletionGracePeriodOf(pod);
    try {
      for (const namespace of namespaces) await this.removePodObjects(namespace, uid, claims, gracePeriodSeconds);
      for (const namespace of namespaces) await this.deleteNamespaceIfEmpty(namespace);
    } catch (err) {
      throw this.fail('delete', err);
    }
  }

  async status(pods: readonly Pod[]): Promise<PodStatus[]> {
    try {
      return await Promise.all(pods.map((pod) => this.statusOf(pod)));
    } catch (err) {
      throw this.fail('status', err);
    }
  }

  async logs(request: LogStruct, signal: AbortSignal): Promise<Readable> {
    try {
      const remote =
        this.cache.get(request.PodUID) ??
        (await this.findRemotePod(request.PodUID, remoteNamespaceName(request.Namespace, this.options.translate)));
      const name = remote?.metadata?.name;
      const namespace = remote?.metadata?.namespace;
      if (remote === undefined || name === undefined || namespace === undefined) {
        throw new NotFoundError(`pod ${request.Namespace}/${request.PodName} has no remote pod`);
      }
      const spec = remote.spec ?? {};
      const containers = [...(spec.containers ?? []), ...(spec.initContainers ?? []), ...(spec.ephemeralContainers ?? [])];
      if (!containers.some((c) => c.name === request.ContainerName)) {
        throw new NotFoundError(`container "${request.ContainerName}" not found in pod ${request.Namespace}/${request.PodName}`, {
          field: 'ContainerName',
        });
      }
      return await this.api.logs(namespace, name, toLogQuery(request), signal);
    } catch (err) {
      throw this.fail('logs', err);
    }
  }

  async ping(): Promise<PingResponse> {
    try {
      const [nodes, pods] = await Promise.all([
        this.api.list('nodes', { resourceVersion: '0' }),
        this.api.list('pods', {
          fieldSelector: 'spec.nodeName!=,status.phase!=Succeeded,status.phase!=Failed',
          resourceVersion: '0',
        }),
      ]);
      const resources = computeCapacity(nodes.items, pods.items, {
        nodeSelector: this.options.translate.nodeSelector,
        tolerations: this.options.translate.tolerations,
        isOffloaded: (p) => p.metadata?.labels?.[SOURCE_POD_UID_LABEL] !== undefined,
      });
      return resources === undefined ? { status: 'ok' } : { status: 'ok', resources };
    } catch (err) {
      // Reading capacity is a nicety; the remote API answered, so the node
      // stays Ready (without capacity) when only the permission is missing.
      if (hasStatus(err, 403)) {
        this.fail('ping', err);
        return { status: 'ok' };
      }
      throw this.fail('ping', err);
    }
  }

  async readiness(): Promise<ReadinessCheck[]> {
    const remote: ReadinessCheck = { name: 'remote-api', ok: true };
    try {
      await this.api.ready();
    } catch (err) {
      remote.ok = false;
      remote.message = toPluginError(err, { verb: 'get', resource: '/readyz' }).message;
    }
    const cache: ReadinessCheck = this.cache.synced
      ? { name: 'pod-cache', ok: true }
      : { name: 'pod-cache', ok: false, message: 'the watch of remote pods has not synced (or is reconnecting)' };
    return [remote, cache];
  }

  offloadedPods(): number {
    return this.cache.size;
  }

  start(): Promise<void> {
    this.cache.start();
    if (this.options.sweepIntervalMs > 0 && this.sweepTimer === undefined) {
      this.sweepTimer = setInterval(() => {
        this.sweepInBackground();
      }, this.options.sweepIntervalMs);
      this.sweepTimer.unref();
      // A local pod deleted while the plugin was down is never deleted again
      // by InterLink: with local access, look for such pods at once, not
      // only after a whole interval.
      if (this.options.localPods !== undefined) this.scheduleFirstSweep(this.options.firstSweepDelayMs ?? 1000);
    }
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    clearTimeout(this.firstSweepTimer);
    this.firstSweepTimer = undefined;
    await this.sweeping;
    await this.cache.stop();
    if (this.ownsApi) {
      await this.api.close?.();
      await this.options.localPods?.close?.();
    }
  }

  /** Resolves `true` once the pod cache has synced, `false` after `timeoutMs`. */
  waitForSync(timeoutMs: number): Promise<boolean> {
    return this.cache.waitForSync(timeoutMs);
  }

  /**
   * Removes leftovers: with read access to the local cluster, managed remote
   * pods whose local pod no longer exists (see `sweepOrphanPods`); managed
   * ConfigMaps and Secrets older than the grace period whose pod (by local
   * UID label) no longer exists; and empty namespaces this plugin created.
   * Skipped while the pod cache is not synced (it is what says which pods
   * exist).
   */
  async sweep(): Promise<SweepResult> {
    const result: SweepResult = { configMaps: 0, secrets: 0, namespaces: 0 };
    if (!this.cache.synced) return result;
    if (this.options.localPods !== undefined) result.pods = await this.sweepOrphanPods(this.options.localPods);
    const cutoff = this.now() - (this.options.sweepGraceMs ?? 120_000);
    const oldEnough = (obj: RawObject): boolean => {
      const created = Date.parse(obj.metadata?.creationTimestamp ?? '');
      return Number.isFinite(created) && created < cutoff;
    };
    for (const resource of ['configmaps', 'secrets'] as const) {
      const { items } = await this.api.list(resource, { labelSelector: OFFLOADED_POD_SELECTOR });
      for (const obj of items) {
        const uid = obj.metadata?.labels?.[SOURCE_POD_UID_LABEL];
        const name = obj.metadata?.name;
        if (uid === undefined || name === undefined || !oldEnough(obj) || this.cache.has(uid)) continue;
        if (await this.deleteIfPresent(resource, name, obj.metadata?.namespace, obj.metadata?.uid)) {
          if (resource === 'configmaps') result.configMaps += 1;
          else result.secrets += 1;
        }
      }
    }
    const { items: namespaces } = await this.api.list('namespaces', { labelSelector: MANAGED_SELECTOR });
    for (const ns of namespaces) {
      const name = ns.metadata?.name;
      if (name === undefined || !oldEnough(ns) || ns.metadata?.annotations?.[NAMESPACE_CREATED_BY_ANNOTATION] === undefined) {
        continue;
      }
      if (await this.deleteNamespaceIfEmpty(name)) result.namespaces += 1;
    }
    if ((result.pods ?? 0) + result.configMaps + result.secrets + result.namespaces > 0) {
      this.events.notice?.('swept leftovers on the remote cluster', { ...result });
      const removed: Partial<Record<SweptKind, number>> = {};
      if ((result.pods ?? 0) > 0) removed.pods = result.pods;
      if (result.configMaps > 0) removed.configmaps = result.configMaps;
      if (result.secrets > 0) removed.secrets = result.secrets;
      if (result.namespaces > 0) removed.namespaces = result.namespaces;
      this.events.swept?.(removed);
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
  private async sweepOrphanPods(local: LocalPodReader): Promise<number> {
    const cutoff = this.now() - (this.options.orphanGraceMs ?? 60_000);
    let removed = 0;
    for (const pod of this.cache.pods()) {
      const meta = pod.metadata;
      const uid = meta?.labels?.[SOURCE_POD_UID_LABEL];
      const localNamespace = meta?.annotations?.[SOURCE_NAMESPACE_ANNOTATION];
      const localName = meta?.annotations?.[SOURCE_NAME_ANNOTATION];
      const namespace = meta?.namespace;
      const created = Date.parse(meta?.creationTimestamp ?? '');
      if (uid === undefined || localNamespace === undefined || localName === undefined || namespace === undefined) continue;
      if (!appliedBy(pod, this.options.fieldManager)) continue;
      if (isDeleting(pod) || !Number.isFinite(created) || created >= cutoff) continue;
      let localUid: string | undefined;
      try {
        localUid = await local.podUid(localNamespace, localName);
      } catch (err) {
        this.events.localError?.('sweep: get local pod', err instanceof Error ? err : new Error(String(err)));
        break;
      }
      if (localUid === uid) continue;
      const claims = new Set(claimNamesOf(meta?.annotations, pod.spec?.volumes));
      await this.removePodObjects(namespace, uid, claims);
      await this.deleteNamespaceIfEmpty(namespace);
      removed += 1;
      this.events.notice?.(
        localUid === undefined
          ? 'deleted a remote pod whose local pod no longer exists'
          : 'deleted a remote pod whose local pod was replaced by another of the same name',
        { namespace: localNamespace, pod: localName, uid, remotePod: `${namespace}/${meta?.name ?? ''}` },
      );
    }
    return removed;
  }

  /** Runs a sweep unless one is running; failures go out as events. */
  private sweepInBackground(): void {
    this.sweeping ??= this.sweep()
      .catch((err: unknown) => {
        this.fail('sweep', err);
      })
      .finally(() => {
        this.sweeping = undefined;
      });
  }

  /** The first sweep after start-up, once the pod cache has synced (it says which remote pods exist). */
  private scheduleFirstSweep(delayMs: number): void {
    this.firstSweepTimer = setTimeout(() => {
      this.firstSweepTimer = undefined;
      if (this.cache.synced) this.sweepInBackground();
      else this.scheduleFirstSweep(250);
    }, delayMs);
    this.firstSweepTimer.unref();
  }

  private async createPlanned(plan: RemotePlan, progress: CreateProgress): Promise<CreateStruct> {
    const podName = plan.pod.metadata?.name;
    if (podName === undefined) throw new PluginError('the translated pod has no name');
    progress.podName = podName;
    const deadline = this.now() + (this.options.settleTimeoutMs ?? 60_000);
    if (await this.ensureNamespace(plan, deadline)) progress.namespaceCreated = true;

    let pod = await this.existingRemotePod(plan.localUid, plan.namespace, podName);
    if (pod !== undefined && isDeleting(pod)) {
      throw new ConflictError(`the remote pod ${plan.namespace}/${podName} is still being deleted; retry later`);
    }
    if (pod === undefined) {
      // Set first: if the apply's answer is lost, the pod may exist anyway.
      progress.podCreated = true;
      pod = await this.applyPod(plan, await this.podManifest(plan), deadline, progress);
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
        await this.api.apply(resource, { ...manifest, metadata: { ...meta, ownerReferences: [owner] } }, this.options.fieldManager);
      }),
    );
    const claims = await Promise.allSettled(plan.persistentVolumeClaims.map((claim) => this.ensureClaim(toJson(claim), progress)));
    for (const outcome of [...applied, ...claims]) if (outcome.status === 'rejected') throw outcome.reason;
    return { PodUID: plan.localUid, PodJID: remoteUid };
  }

  /** Creates the namespace when missing; waits while it is terminating. Resolves `true` when this call created it. */
  private async ensureNamespace(plan: RemotePlan, deadline: number): Promise<boolean> {
    const name = plan.namespace;
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0 && this.now() >= deadline) {
        throw new RemoteUnavailableError(`the remote namespace "${name}" did not settle in time (still being deleted?); retry later`);
      }
      let existing: RawObject | undefined;
      try {
        existing = await this.api.get('namespaces', name);
      } catch (err) {
        if (!hasStatus(err, 404)) throw err;
      }
      if (existing === undefined) {
        const manifest = toJson(namespaceToCreate(plan.namespaceManifest, this.options.fieldManager));
        try {
          await this.api.create('namespaces', manifest);
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
  private async existingRemotePod(localUid: string, namespace: string, name: string): Promise<RawPod | undefined> {
    const cached = this.cache.get(localUid);
    if (cached !== undefined) return cached;
    try {
      const pod = await this.api.get('pods', name, namespace);
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
  private async podManifest(plan: RemotePlan): Promise<RawObject> {
    const manifest = toJson(plan.pod) as RawPod;
    const account = serviceAccountToCheck(manifest);
    if (manifest.spec === undefined || account === undefined) return manifest;
    try {
      await this.api.get('serviceaccounts', account, plan.namespace);
    } catch (err) {
      if (!hasStatus(err, 404)) throw err;
      manifest.spec.serviceAccountName = FALLBACK_SERVICE_ACCOUNT;
    }
    return manifest;
  }

  private async applyPod(plan: RemotePlan, manifest: RawObject, deadline: number, progress: CreateProgress): Promise<RawPod> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.api.apply('pods', manifest, this.options.fieldManager);
      } catch (err) {
        const settling = serviceAccountMissing(err) || namespaceGone(err);
        if (!settling || this.now() >= deadline) throw err;
        if (namespaceGone(err) && (await this.ensureNamespace(plan, deadline))) progress.namespaceCreated = true;
        await sleep(backoffDelay({ initialMs: 50, maxMs: 1000 }, attempt));
      }
    }
  }

  /** Creates a planned claim only when missing: a claim may be shared and outlives pods, so it is never overwritten. */
  private async ensureClaim(manifest: RawObject, progress: CreateProgress): Promise<void> {
    const name = manifest.metadata?.name;
    if (name === undefined) return;
    try {
      await this.api.get('persistentvolumeclaims', name, manifest.metadata?.namespace);
      return;
    } catch (err) {
      if (!hasStatus(err, 404)) throw err;
    }
    progress.claims.push(name);
    await this.api.apply('persistentvolumeclaims', manifest, this.options.fieldManager);
  }

  /** Best effort: takes back what a failed create made (never what an earlier create made). */
  private async rollback(plan: RemotePlan, progress: CreateProgress): Promise<void> {
    const namespace = plan.namespace;
    const steps: Promise<unknown>[] = [];
    if (progress.podCreated && progress.podName !== undefined) {
      steps.push(this.deleteIfPresent('pods', progress.podName, namespace));
      for (const { resource, name } of progress.data) steps.push(this.deleteIfPresent(resource, name, namespace));
      for (const name of progress.claims) steps.push(this.deleteIfPresent('persistentvolumeclaims', name, namespace));
    }
    for (const outcome of await Promise.allSettled(steps)) {
      if (outcome.status === 'rejected') this.fail('create rollback', outcome.reason);
    }
    if (progress.namespaceCreated) {
      try {
        await this.deleteNamespaceIfEmpty(namespace);
      } catch (err) {
        this.fail('create rollback', err);
      }
    }
  }

  private async statusOf(pod: Pod): Promise<PodStatus> {
    const uid = pod.metadata.uid;
    // The hot path: a cached pod costs no remote request.
    const cached = this.cache.synced ? this.cache.get(uid) : undefined;
    const remote = cached ?? (await this.findRemotePod(uid, remoteNamespaceName(pod.metadata.namespace, this.options.translate)));
    if (remote !== undefined) return toPodStatus(pod, remote);
    // InterLink's Virtual Kubelet polls a pod while its create is still in
    // flight, and annotates it with the PodJID only once the create answered.
    // Without that annotation "not found" means "not created yet": reporting
    // it lost would fail a pod that is about to start.
    return createAcknowledged(pod) ? missingPodStatus(pod) : toPodStatus(pod, undefined);
  }

  /** One direct read: the remote pod labelled with `localUid` in `namespace`, preferring one not being deleted. */
  private async findRemotePod(localUid: string, namespace: string): Promise<RawPod | undefined> {
    const { items } = await this.api.list('pods', { namespace, labelSelector: `${SOURCE_POD_UID_LABEL}=${localUid}` });
    return items.find((p) => !isDeleting(p)) ?? items[0];
  }

  /**
   * Deletes a local pod's remote pod, its copies and opted-in claims in one
   * namespace; the pod with `gracePeriodSeconds` when given, else with its
   * own `terminationGracePeriodSeconds`.
   */
  private async removePodObjects(
    namespace: string,
    uid: string,
    claims: ReadonlySet<string>,
    gracePeriodSeconds?: number,
  ): Promise<void> {
    const labelSelector = `${SOURCE_POD_UID_LABEL}=${uid}`;
    const [pods, configMaps, secrets, labelledClaims] = await Promise.all([
      this.api.list('pods', { namespace, labelSelector }),
      this.api.list('configmaps', { namespace, labelSelector }),
      this.api.list('secrets', { namespace, labelSelector }),
      this.api.list('persistentvolumeclaims', { namespace, labelSelector }),
    ]);
    const remove = (resource: CoreResource, items: readonly RawObject[], grace?: number): Promise<boolean>[] =>
      items.flatMap((o) =>
        o.metadata?.name === undefined ? [] : [this.deleteIfPresent(resource, o.metadata.name, namespace, o.metadata.uid, grace)],
      );
    // The pod first: its owned ConfigMaps and Secrets then go even if this call dies half-way.
    await Promise.all(remove('pods', pods.items, gracePeriodSeconds));
    await Promise.all([...remove('configmaps', configMaps.items), ...remove('secrets', secrets.items)]);

    const claimNames = new Set(claims);
    for (const c of labelledClaims.items) if (c.metadata?.name !== undefined) claimNames.add(c.metadata.name);
    if (claimNames.size > 0) await this.removeClaims(namespace, uid, claimNames);
  }

  /** Deletes the claims that opted in (`interlink.io/pvc-retention-policy: delete`) and that no other pod uses. */
  private async removeClaims(namespace: string, uid: string, names: ReadonlySet<string>): Promise<void> {
    const doomed: RawObject[] = [];
    for (const name of names) {
      try {
        const claim = await this.api.get('persistentvolumeclaims', name, namespace);
        if (claim.metadata?.annotations?.[PVC_RETENTION_POLICY_ANNOTATION] === 'delete') doomed.push(claim);
      } catch (err) {
        if (!hasStatus(err, 404)) throw err;
      }
    }
    if (doomed.length === 0) return;
    const { items: pods } = await this.api.list('pods', { namespace });
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
          : [this.deleteIfPresent('persistentvolumeclaims', name, namespace, c.metadata?.uid)];
      }),
    );
  }

  /**
   * Deletes a namespace this plugin created once nothing is left in it: no
   * pod at all and no managed ConfigMap, Secret or claim. Resolves `true`
   * when it asked for the deletion.
   */
  private async deleteNamespaceIfEmpty(name: string): Promise<boolean> {
    let ns: RawObject;
    try {
      ns = await this.api.get('namespaces', name);
    } catch (err) {
      if (hasStatus(err, 404)) return false;
      throw err;
    }
    if (ns.metadata?.annotations?.[NAMESPACE_CREATED_BY_ANNOTATION] === undefined || isDeleting(ns)) return false;
    const lists = await Promise.all([
      this.api.list('configmaps', { namespace: name, labelSelector: MANAGED_SELECTOR, limit: 1 }),
      this.api.list('secrets', { namespace: name, labelSelector: MANAGED_SELECTOR, limit: 1 }),
      this.api.list('persistentvolumeclaims', { namespace: name, labelSelector: MANAGED_SELECTOR, limit: 1 }),
    ]);
    if (lists.some((l) => l.items.length > 0) || (await this.hasLivePods(name))) return false;
    return this.deleteIfPresent('namespaces', name, undefined, ns.metadata.uid);
  }

  /**
   * Whether a namespace holds a pod that is not being deleted. Pods in
   * graceful termination do not count: deleting the namespace waits for them,
   * and counting them would leave the namespace behind after the last delete.
   */
  private async hasLivePods(namespace: string): Promise<boolean> {
    const first = await this.api.list('pods', { namespace, limit: 1 });
    const [pod] = first.items;
    if (pod === undefined) return false;
    if (!isDeleting(pod)) return true;
    // Rare: the first pod listed is terminating; look at all of them.
    const all = await this.api.list('pods', { namespace });
    return all.items.some((p) => !isDeleting(p));
  }

  /**
   * Deletes one object (a pod with `gracePeriodSeconds` when given);
   * `false` when it was already gone (or replaced by another with the same name).
   */
  private async deleteIfPresent(
    resource: CoreResource,
    name: string,
    namespace?: string,
    uid?: string,
    gracePeriodSeconds?: number,
  ): Promise<boolean> {
    try {
      await this.api.delete(resource, name, namespace, { uid, gracePeriodSeconds });
      return true;
    } catch (err) {
      if (hasStatus(err, 404) || (uid !== undefined && hasStatus(err, 409))) return false;
      throw err;
    }
  }

  /** Converts `err` and reports it (remote failures only) as `events.remoteError`. */
  private fail(operation: string, err: unknown): PluginError {
    const converted = toPluginError(err);
    if (!(err instanceof PluginError) || err instanceof KubeApiError) this.events.remoteError?.(operation, converted);
    return converted;
  }
}

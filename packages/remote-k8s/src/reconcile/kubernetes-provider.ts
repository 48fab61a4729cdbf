import type { Readable } from 'node:stream';
import {
  NotFoundError,
  PluginError,
  type CreateStruct,
  type LogStruct,
  type PingResponse,
  type Pod,
  type PodStatus,
  type RetrievedPodData,
} from '@interlink-k8s/protocol';
import type { OffloadProvider, ProviderEvents, ReadinessCheck } from '../offload-provider.js';
import {
  SOURCE_POD_UID_LABEL,
  createAcknowledged,
  missingPodStatus,
  remoteNamespaceName,
  toLogQuery,
  toPodStatus,
} from '../translate/index.js';
import { computeCapacity } from './capacity.js';
import { ClientNodeRemoteApi, buildKubeConfig } from './client.js';
import type { KubernetesProviderConfig } from './config.js';
import { OFFLOADED_POD_SELECTOR, findRemotePod, type KubernetesProviderOptions, type ReconcileContext } from './context.js';
import { createPod } from './create.js';
import { deletePod } from './delete.js';
import { KubeApiError, hasStatus, toPluginError } from './errors.js';
import { KubernetesLocalPods } from './local-pods.js';
import { PodCache } from './pod-cache.js';
import type { RemoteApi } from './remote-api.js';
import { sweepLeftovers, type SweepResult } from './sweep.js';

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
 * {@link toPluginError} and reported through `events.remoteError`. The
 * verbs that change the remote cluster live in their own modules
 * (`create.ts`, `delete.ts`, `sweep.ts`); this class holds the state they
 * share and answers the reads.
 */
export class KubernetesProvider implements OffloadProvider {
  private readonly api: RemoteApi;
  private readonly options: KubernetesProviderOptions;
  private readonly events: ProviderEvents;
  private readonly cache: PodCache;
  private readonly ownsApi: boolean;
  private readonly now: () => number;
  /** What the create, delete and sweep modules work with. */
  private readonly context: ReconcileContext;
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
    this.context = {
      api,
      cache: this.cache,
      options,
      events,
      now: this.now,
      fail: (operation, err) => this.fail(operation, err),
    };
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
    return createPod(this.context, data);
  }

  async delete(pod: Pod): Promise<void> {
    await deletePod(this.context, pod);
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
        (await findRemotePod(this.context, request.PodUID, remoteNamespaceName(request.Namespace, this.options.translate)));
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
  sweep(): Promise<SweepResult> {
    return sweepLeftovers(this.context);
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

  private async statusOf(pod: Pod): Promise<PodStatus> {
    const uid = pod.metadata.uid;
    // The hot path: a cached pod costs no remote request.
    const cached = this.cache.synced ? this.cache.get(uid) : undefined;
    const remote = cached ?? (await findRemotePod(this.context, uid, remoteNamespaceName(pod.metadata.namespace, this.options.translate)));
    if (remote !== undefined) return toPodStatus(pod, remote);
    // InterLink's Virtual Kubelet polls a pod while its create is still in
    // flight, and annotates it with the PodJID only once the create answered.
    // Without that annotation "not found" means "not created yet": reporting
    // it lost would fail a pod that is about to start.
    return createAcknowledged(pod) ? missingPodStatus(pod) : toPodStatus(pod, undefined);
  }

  /** Converts `err` and reports it (remote failures only) as `events.remoteError`. */
  private fail(operation: string, err: unknown): PluginError {
    const converted = toPluginError(err);
    if (!(err instanceof PluginError) || err instanceof KubeApiError) this.events.remoteError?.(operation, converted);
    return converted;
  }
}

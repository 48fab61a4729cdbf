import type { PluginError } from '@interlink-k8s/protocol';
import type { ProviderEvents } from '../offload-provider.js';
import { OFFLOADING_LABEL, OFFLOADING_LABEL_VALUE, SOURCE_POD_UID_LABEL, type TranslateOptions } from '../translate/index.js';
import type { LocalPodReader } from './local-pods.js';
import type { PodCache, PodCacheOptions } from './pod-cache.js';
import type { RawObject, RawPod, RemoteApi } from './remote-api.js';

/** Selects the remote pods this plugin (or the reference plugin) offloaded. */
export const OFFLOADED_POD_SELECTOR = `${OFFLOADING_LABEL}=${OFFLOADING_LABEL_VALUE},${SOURCE_POD_UID_LABEL}`;

/** Selects every remote object this plugin manages. */
export const MANAGED_SELECTOR = `${OFFLOADING_LABEL}=${OFFLOADING_LABEL_VALUE}`;

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

/**
 * What the create, delete and sweep modules share with the provider: the
 * remote API, the watch cache, the settings, the events, the clock, and the
 * provider's conversion and report of failures.
 */
export interface ReconcileContext {
  readonly api: RemoteApi;
  readonly cache: PodCache;
  readonly options: KubernetesProviderOptions;
  readonly events: ProviderEvents;
  readonly now: () => number;
  /** Converts `err` into the project's named errors and reports remote failures as `events.remoteError`. */
  readonly fail: (operation: string, err: unknown) => PluginError;
}

/** The object as plain JSON (what the API reads), from a manifest. */
export const toJson = (value: unknown): RawObject => JSON.parse(JSON.stringify(value)) as RawObject;

/** Whether the object is being deleted. */
export const isDeleting = (obj: RawObject | undefined): boolean => obj?.metadata?.deletionTimestamp !== undefined;

/** One direct read: the remote pod labelled with `localUid` in `namespace`, preferring one not being deleted. */
export async function findRemotePod(ctx: ReconcileContext, localUid: string, namespace: string): Promise<RawPod | undefined> {
  const { items } = await ctx.api.list('pods', { namespace, labelSelector: `${SOURCE_POD_UID_LABEL}=${localUid}` });
  return items.find((p) => !isDeleting(p)) ?? items[0];
}

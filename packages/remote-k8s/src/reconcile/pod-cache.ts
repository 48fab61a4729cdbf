import type { ProviderEvents } from '../offload-provider.js';
import { hasStatus, toPluginError } from './errors.js';
import type { RawPod, RemoteApi, WatchEvent } from './remote-api.js';
import { backoffDelay } from '@interlink-k8s/contract';
import { sleep } from './sleep.js';

/** Tunables of {@link PodCache}. */
export interface PodCacheOptions {
  /** Selects the managed remote pods (all namespaces). */
  labelSelector: string;
  /** The label whose value keys the cache (the local pod UID). */
  keyLabel: string;
  /** Seconds after which the API server ends each watch; drawn anew per watch. Default: 240–360. */
  watchTimeoutSeconds?: () => number;
  /** Retry delay after a failed list or watch: doubles from `initialMs` to `maxMs` (with jitter). */
  backoff?: { initialMs: number; maxMs: number };
  events?: ProviderEvents | undefined;
}

interface WatchFailure {
  code?: number | undefined;
  message: string;
}

const keyOf = (pod: RawPod): string => `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;

/**
 * An informer-style cache of the managed remote pods: one list, then one
 * watch from the list's resourceVersion, kept up across disconnects and API
 * server restarts (re-watch from the last seen resourceVersion with backoff;
 * re-list when it expired: `410 Gone`). Bookmarks keep the resourceVersion
 * fresh, so a re-watch rarely needs a re-list.
 *
 * Lookups are synchronous and cost no remote request. {@link PodCache.synced}
 * is true once listed and while the watch is up (or between two watches);
 * while it is false, callers should read the API directly.
 */
export class PodCache {
  private readonly api: RemoteApi;
  private readonly options: PodCacheOptions;
  private byKey = new Map<string, RawPod>();
  private byUid = new Map<string, Set<string>>();
  private listed = false;
  private healthy = false;
  private controller: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private readonly syncWaiters = new Set<() => void>();

  constructor(api: RemoteApi, options: PodCacheOptions) {
    this.api = api;
    this.options = options;
  }

  /** True when lookups reflect the remote cluster (listed, watch not failing). */
  get synced(): boolean {
    return this.listed && this.healthy;
  }

  /** Number of managed remote pods known. */
  get size(): number {
    return this.byKey.size;
  }

  /**
   * The remote pod of a local pod UID. When several carry the UID (a stale
   * copy in another namespace), one not being deleted wins.
   */
  get(localUid: string): RawPod | undefined {
    const keys = this.byUid.get(localUid);
    if (keys === undefined) return undefined;
    let found: RawPod | undefined;
    for (const key of keys) {
      const pod = this.byKey.get(key);
      if (pod === undefined) continue;
      if (pod.metadata?.deletionTimestamp === undefined) return pod;
      found ??= pod;
    }
    return found;
  }

  /** Every cached pod. */
  pods(): RawPod[] {
    return [...this.byKey.values()];
  }

  /** Whether a pod with this local UID label is cached. */
  has(localUid: string): boolean {
    return this.byUid.has(localUid);
  }

  /** Starts listing and watching in the background; idempotent. */
  start(): void {
    if (this.loop !== undefined) return;
    const controller = new AbortController();
    this.controller = controller;
    this.loop = this.run(controller.signal);
  }

  /** Resolves `true` once synced, or `false` after `timeoutMs`. */
  async waitForSync(timeoutMs: number): Promise<boolean> {
    if (this.synced) return true;
    let done: (() => void) | undefined;
    const waiter = new Promise<void>((resolve) => {
      done = resolve;
    });
    if (done !== undefined) this.syncWaiters.add(done);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([waiter, timeout]);
    clearTimeout(timer);
    if (done !== undefined) this.syncWaiters.delete(done);
    return this.synced;
  }

  /** Stops the watch and waits for the loop to end. */
  async stop(): Promise<void> {
    this.controller?.abort();
    await this.loop;
    this.loop = undefined;
    this.controller = undefined;
    this.healthy = false;
  }

  private setHealthy(): void {
    this.healthy = true;
    if (!this.listed) return;
    for (const resolve of this.syncWaiters) resolve();
    this.syncWaiters.clear();
  }

  private async run(signal: AbortSignal): Promise<void> {
    const { labelSelector } = this.options;
    const backoff = this.options.backoff ?? { initialMs: 500, maxMs: 30_000 };
    const timeoutSeconds = this.options.watchTimeoutSeconds ?? (() => 240 + Math.floor(Math.random() * 120));
    let resourceVersion: string | undefined;
    let failures = 0;
    let expiredInARow = 0;
    // A function, not `signal.aborted` itself: the flag changes across awaits.
    const stopped = (): boolean => signal.aborted;
    while (!stopped()) {
      try {
        if (resourceVersion === undefined) {
          const list = await this.api.list('pods', { labelSelector });
          this.replace(list.items);
          resourceVersion = list.resourceVersion;
          this.listed = true;
        }
        const watchController = new AbortController();
        const watchSignal = AbortSignal.any([signal, watchController.signal]);
        const outcome: { failure?: WatchFailure } = {};
        const onEvent = (event: WatchEvent<RawPod>): void => {
          if (event.type === 'ERROR') {
            outcome.failure = { code: event.object.code, message: event.object.message ?? 'watch error' };
            watchController.abort();
            return;
          }
          const rv = event.object.metadata?.resourceVersion;
          if (event.type !== 'BOOKMARK') this.applyEvent(event.type, event.object);
          if (rv !== undefined && rv !== '') resourceVersion = rv;
        };
        const handle = await this.api.watch(
          'pods',
          { labelSelector, resourceVersion, timeoutSeconds: timeoutSeconds(), allowWatchBookmarks: true },
          onEvent,
          watchSignal,
        );
        this.setHealthy();
        if (failures > 0) {
          this.options.events?.notice?.('remote pod watch resumed', { failedAttempts: failures });
          failures = 0;
        }
        await handle.done;
        if (stopped()) break;
        const failure = outcome.failure;
        if (failure !== undefined) {
          if (failure.code === 410) {
            resourceVersion = undefined;
            expiredInARow += 1;
            await this.expired(failure.message, expiredInARow, backoff, signal);
            continue;
          }
          throw new Error(`watch error${failure.code === undefined ? '' : ` ${String(failure.code)}`}: ${failure.message}`);
        }
        expiredInARow = 0;
        // A clean end (the server's timeoutSeconds): watch again from where we are.
      } catch (err) {
        if (stopped()) break;
        if (hasStatus(err, 410)) {
          resourceVersion = undefined;
          expiredInARow += 1;
          await this.expired(err.message, expiredInARow, backoff, signal);
          continue;
        }
        expiredInARow = 0;
        failures += 1;
        this.healthy = false;
        const jittered = backoffDelay({ ...backoff, jitter: 0.5 }, failures - 1);
        const converted = toPluginError(err, { verb: 'watch', resource: 'pods' });
        this.options.events?.remoteError?.('watch pods', converted);
        this.options.events?.notice?.('remote pod watch interrupted; restarting', {
          error: converted.message,
          attempt: failures,
          retryInMs: jittered,
        });
        await sleep(jittered, signal);
      }
    }
  }

  /** A resourceVersion too old to watch from: list again (at once the first time, then with backoff). */
  private async expired(
    message: string,
    inARow: number,
    backoff: { initialMs: number; maxMs: number },
    signal: AbortSignal,
  ): Promise<void> {
    this.options.events?.notice?.('remote pod watch expired; listing again', { message });
    if (inARow > 1) await sleep(backoffDelay(backoff, inARow - 2), signal);
  }

  private replace(items: readonly RawPod[]): void {
    this.byKey = new Map();
    this.byUid = new Map();
    for (const pod of items) this.put(pod);
  }

  private applyEvent(type: 'ADDED' | 'MODIFIED' | 'DELETED', pod: RawPod): void {
    if (type === 'DELETED') this.remove(pod);
    else this.put(pod);
  }

  private put(pod: RawPod): void {
    const key = keyOf(pod);
    const previous = this.byKey.get(key);
    if (previous !== undefined) this.unindex(key, previous);
    this.byKey.set(key, pod);
    const uid = pod.metadata?.labels?.[this.options.keyLabel];
    if (uid === undefined) return;
    let keys = this.byUid.get(uid);
    if (keys === undefined) {
      keys = new Set();
      this.byUid.set(uid, keys);
    }
    keys.add(key);
  }

  private remove(pod: RawPod): void {
    const key = keyOf(pod);
    const previous = this.byKey.get(key);
    if (previous === undefined) return;
    this.byKey.delete(key);
    this.unindex(key, previous);
  }

  private unindex(key: string, pod: RawPod): void {
    const uid = pod.metadata?.labels?.[this.options.keyLabel];
    if (uid === undefined) return;
    const keys = this.byUid.get(uid);
    keys?.delete(key);
    if (keys?.size === 0) this.byUid.delete(uid);
  }
}

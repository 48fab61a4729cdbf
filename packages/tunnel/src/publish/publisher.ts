import { asError } from '../errors.js';
import type { ForwardInfo, ForwardRemovalReason } from '../gateway/types.js';
import { IGNORED_PORTS_LABEL, backoffDelay, type PodIdentity } from '@interlink-k8s/contract';
import { endpointSliceManifest, namePorts, serviceManifest, serviceNameFor, type DeclaredPort, type PublishedPort } from './manifests.js';

/** What the publisher needs to know of a local pod. */
export interface LocalPod {
  readonly uid: string;
  /** The TCP and other ports its containers declare (for the port names). */
  readonly ports: readonly DeclaredPort[];
}

/** A Service the gateway published, as found in the cluster. */
export interface PublishedService {
  readonly namespace: string;
  readonly name: string;
  readonly pod: PodIdentity;
}

/**
 * The narrow view of the local cluster's API the publisher uses; the
 * gateway's entry point implements it over HTTPS (`KubeRestClient`), tests
 * may fake it.
 */
export interface LocalClusterApi {
  /** The pod, or `undefined` when it does not exist. */
  getPod(namespace: string, name: string): Promise<LocalPod | undefined>;
  /** Whether a Service of that name exists and whether the gateway manages it; `undefined` when absent. */
  getService(namespace: string, name: string): Promise<{ readonly managed: boolean } | undefined>;
  /** Server-side apply of a manifest (field manager `interlink-tunnel-gateway`); resolves to the object's UID. */
  apply(manifest: Record<string, unknown>): Promise<string>;
  /** Deletes a Service or EndpointSlice; one already gone is fine. */
  delete(kind: 'Service' | 'EndpointSlice', namespace: string, name: string): Promise<void>;
  /** Every Service the gateway manages, in every namespace it may see. */
  listPublished(): Promise<PublishedService[]>;
  /** Records a Warning event on the pod. */
  warn(pod: PodIdentity, reason: string, message: string): Promise<void>;
}

/** Reason of the Warning event recorded on a local pod whose UDP/SCTP ports the tunnel does not carry. */
export const PORTS_NOT_TUNNELLED_REASON = 'PortsNotTunnelled';

/** Why a forward's pod got no Service. */
export type SkipReason = 'unidentified' | 'unverified' | 'namespace-not-published' | 'pod-not-found' | 'name-taken';

export interface PublisherEvents {
  onPublished?(service: PublishedService, ports: readonly PublishedPort[]): void;
  onUnpublished?(service: PublishedService, reason: 'forwards-gone' | 'stale'): void;
  onSkipped?(forward: ForwardInfo | PodIdentity, reason: SkipReason, detail: string): void;
  /** A call to the API failed; the publisher retries on its own. */
  onError?(error: Error, pod: PodIdentity): void;
}

export interface PublisherOptions {
  /** The gateway's address as local clients reach it: the one endpoint of every published Service. */
  readonly address: string;
  /** How long a Service stays after its pod's last forward went away (bastions reconnect in seconds). */
  readonly graceMs: number;
  /** Namespaces to publish in; empty: all. */
  readonly namespaces: readonly string[];
  /**
   * Publish only for pods a client proved with the pod's own key. Set it
   * whenever per-pod keys are in use: a shared key's claim about a pod could
   * otherwise take that pod's Service over.
   */
  readonly verifiedOnly: boolean;
  /** Delay before retrying a failed sync; doubles per failure up to `retryMaxMs`. */
  readonly retryInitialMs: number;
  readonly retryMaxMs: number;
}

export const PUBLISHER_DEFAULTS = Object.freeze({ graceMs: 30_000, retryInitialMs: 500, retryMaxMs: 30_000 });

interface Tunnel {
  readonly containerPort: number;
  readonly allocatedPort: number;
  /** Order of arrival: when two connections of one pod forward the same port, the newest wins. */
  readonly seq: number;
}

interface Entry {
  readonly pod: PodIdentity;
  /** By `connectionId:allocatedPort`. */
  readonly tunnels: Map<string, Tunnel>;
  /** UID of the Service once applied (the EndpointSlice's owner). */
  serviceUid: string | undefined;
  /** Whether a Service of the gateway may exist for this pod. */
  published: boolean;
  /** Ports the bastion reported as not tunnelled (`8125/UDP 53/UDP`); empty for none. */
  ignoredPorts: string;
  /** Whether the Warning event about them was recorded. */
  warned: boolean;
  running: boolean;
  dirty: boolean;
  failures: number;
  timer: NodeJS.Timeout | undefined;
}

function podKey(pod: PodIdentity): string {
  return `${pod.namespace}/${pod.name}/${pod.uid}`;
}

/** Read through a call: TypeScript would keep the narrowing of `entry.dirty = false` across `await`. */
function hasPendingChange(entry: Entry): boolean {
  return entry.dirty;
}

/**
 * Keeps one Service per offloaded pod in the local cluster, in step with the
 * gateway's forwards: feed it the gateway's `onForwardAdded` /
 * `onForwardRemoved` events.
 *
 * - The Service (see `serviceNameFor`) has the pod's container ports; its
 *   EndpointSlice has the gateway's address and the allocated ports. Both
 *   are applied server-side, owned by the local pod (Service) and the
 *   Service (slice), so the cluster's garbage collector removes them with
 *   the pod even if the gateway is down.
 * - Only forwards that name a pod (`namespace`, `pod`, `uid` in the SSH user
 *   name) are published, and only when that pod exists with that UID; a
 *   Service of the same name the gateway does not manage is left alone.
 * - When a pod's last forward goes, the slice is emptied at once (clients
 *   fail fast) and the Service deleted after `graceMs` unless a forward
 *   comes back (a reconnecting bastion keeps its Service and usually its
 *   port). At start, Services left by an earlier gateway get the same grace.
 * - Work is serialised per pod and retried with backoff; events never throw.
 */
export class ServicePublisher {
  readonly #api: LocalClusterApi;
  readonly #options: PublisherOptions;
  readonly #events: PublisherEvents;
  readonly #entries = new Map<string, Entry>();
  #seq = 0;
  #closed = false;

  constructor(api: LocalClusterApi, options: PublisherOptions, events: PublisherEvents = {}) {
    this.#api = api;
    this.#options = options;
    this.#events = events;
  }

  /** Takes over the Services an earlier gateway left: each is deleted after the grace period unless its bastion comes back. */
  async start(): Promise<void> {
    for (const service of await this.#api.listPublished()) {
      const entry = this.#entry(service.pod);
      entry.published = true;
      if (entry.tunnels.size === 0) this.#schedule(entry);
    }
  }

  /** For `onForwardAdded`. */
  forwardAdded(forward: ForwardInfo): void {
    if (this.#closed) return;
    const pod = forward.identity?.pod;
    if (pod === undefined) {
      this.#events.onSkipped?.(forward, 'unidentified', 'the SSH user name names no pod (namespace=..,pod=..,uid=..)');
      return;
    }
    if (this.#options.verifiedOnly && forward.identity?.verified !== true) {
      this.#events.onSkipped?.(forward, 'unverified', `${pod.namespace}/${pod.name} is named by a shared key, and only pods proved with their own key are published`);
      return;
    }
    if (this.#options.namespaces.length > 0 && !this.#options.namespaces.includes(pod.namespace)) {
      this.#events.onSkipped?.(forward, 'namespace-not-published', `namespace ${pod.namespace} is not one the gateway publishes in`);
      return;
    }
    const entry = this.#entry(pod);
    entry.ignoredPorts = forward.labels[IGNORED_PORTS_LABEL] ?? '';
    entry.tunnels.set(`${forward.connectionId}:${forward.allocatedPort}`, {
      containerPort: forward.requestedPort,
      allocatedPort: forward.allocatedPort,
      seq: this.#seq++,
    });
    this.#schedule(entry);
  }

  /** For `onForwardRemoved`; forwards closed by the gateway's own shutdown leave the Services as they are. */
  forwardRemoved(forward: ForwardInfo, reason: ForwardRemovalReason): void {
    const pod = forward.identity?.pod;
    if (this.#closed || reason === 'shutdown' || pod === undefined) return;
    const entry = this.#entries.get(podKey(pod));
    if (entry?.tunnels.delete(`${forward.connectionId}:${forward.allocatedPort}`)) this.#schedule(entry);
  }

  /** Pods with a Service or about to get one. */
  get size(): number {
    let published = 0;
    for (const entry of this.#entries.values()) if (entry.published) published++;
    return published;
  }

  /** Stops all work; published Services stay (a restarted gateway takes them over). */
  close(): void {
    this.#closed = true;
    for (const entry of this.#entries.values()) clearTimeout(entry.timer);
    this.#entries.clear();
  }

  #entry(pod: PodIdentity): Entry {
    const key = podKey(pod);
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry = {
        pod,
        tunnels: new Map(),
        serviceUid: undefined,
        published: false,
        ignoredPorts: '',
        warned: false,
        running: false,
        dirty: false,
        failures: 0,
        timer: undefined,
      };
      this.#entries.set(key, entry);
    }
    return entry;
  }

  #schedule(entry: Entry): void {
    clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.dirty = true;
    if (!entry.running) void this.#run(entry);
  }

  async #run(entry: Entry): Promise<void> {
    entry.running = true;
    while (entry.dirty && !this.#closed) {
      entry.dirty = false;
      try {
        await this.#sync(entry);
        entry.failures = 0;
      } catch (error) {
        this.#events.onError?.(asError(error), entry.pod);
        const delay = backoffDelay({ initialMs: this.#options.retryInitialMs, maxMs: this.#options.retryMaxMs }, entry.failures++);
        // A change that came in meanwhile is synced at once by the loop; otherwise retry later.
        if (!hasPendingChange(entry)) this.#later(entry, delay, () => { this.#schedule(entry); });
      }
    }
    entry.running = false;
  }

  #later(entry: Entry, delayMs: number, action: () => void): void {
    if (this.#closed) return;
    entry.timer = setTimeout(action, delayMs);
    entry.timer.unref();
  }

  /** The ports to publish: per container port, the newest tunnel. */
  #ports(entry: Entry): { containerPort: number; allocatedPort: number }[] {
    const newest = new Map<number, Tunnel>();
    for (const tunnel of entry.tunnels.values()) {
      const current = newest.get(tunnel.containerPort);
      if (current === undefined || tunnel.seq > current.seq) newest.set(tunnel.containerPort, tunnel);
    }
    return [...newest.values()];
  }

  async #sync(entry: Entry): Promise<void> {
    const { pod } = entry;
    const name = serviceNameFor(pod.name);
    const service: PublishedService = { namespace: pod.namespace, name, pod };
    if (entry.tunnels.size === 0) {
      if (!entry.published) {
        this.#entries.delete(podKey(pod));
        return;
      }
      if (entry.serviceUid !== undefined) {
        // No endpoint left: clients get "connection refused" now rather than a timeout.
        await this.#api.apply(endpointSliceManifest(pod, { name, uid: entry.serviceUid }, [], undefined));
      }
      this.#later(entry, this.#options.graceMs, () => { void this.#expire(entry, service); });
      return;
    }
    const local = await this.#api.getPod(pod.namespace, pod.name);
    if (local?.uid !== pod.uid) {
      this.#events.onSkipped?.(pod, 'pod-not-found', `no pod ${pod.namespace}/${pod.name} with UID ${pod.uid} in the local cluster`);
      return;
    }
    const existing = await this.#api.getService(pod.namespace, name);
    if (existing !== undefined && !existing.managed) {
      this.#events.onSkipped?.(pod, 'name-taken', `Service ${pod.namespace}/${name} exists and is not managed by the gateway`);
      return;
    }
    const ports = namePorts(this.#ports(entry), local.ports);
    entry.published = true;
    const uid = await this.#api.apply(serviceManifest(pod, ports));
    entry.serviceUid = uid;
    await this.#api.apply(endpointSliceManifest(pod, { name, uid }, ports, this.#options.address));
    this.#events.onPublished?.(service, ports);
    if (entry.ignoredPorts !== '' && !entry.warned) {
      await this.#api.warn(
        pod,
        PORTS_NOT_TUNNELLED_REASON,
        `Ports ${entry.ignoredPorts.split(/\s+/).join(', ')} are not reachable through Service ${name}: the TCP tunnel carries TCP only`,
      );
      entry.warned = true;
    }
  }

  async #expire(entry: Entry, service: PublishedService): Promise<void> {
    if (this.#closed || entry.tunnels.size > 0) return;
    if (entry.running) {
      // A sync is under way (a slow API): look again once it is done.
      this.#later(entry, this.#options.retryInitialMs, () => { void this.#expire(entry, service); });
      return;
    }
    entry.running = true;
    try {
      await this.#api.delete('Service', service.namespace, service.name);
      await this.#api.delete('EndpointSlice', service.namespace, service.name);
      this.#events.onUnpublished?.(service, entry.serviceUid === undefined ? 'stale' : 'forwards-gone');
      entry.published = false;
      entry.serviceUid = undefined;
      if (entry.tunnels.size === 0) this.#entries.delete(podKey(entry.pod));
    } catch (error) {
      this.#events.onError?.(asError(error), entry.pod);
      this.#later(entry, this.#options.retryInitialMs, () => { void this.#expire(entry, service); });
    } finally {
      entry.running = false;
      // A forward that arrived while deleting re-creates the Service.
      if (entry.dirty) this.#schedule(entry);
    }
  }
}

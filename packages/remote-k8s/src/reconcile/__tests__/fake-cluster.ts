import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { KubeApiError, type RemoteRequest } from '../errors.js';
import type {
  CoreResource,
  DeleteOptions,
  ListOptions,
  ListResult,
  LogQuery,
  RawObject,
  RemoteApi,
  ResourceTypes,
  WatchEvent,
  WatchHandle,
  WatchOptions,
} from '../remote-api.js';

/** One call the fake received. */
export interface FakeCall {
  method: 'get' | 'list' | 'create' | 'apply' | 'delete' | 'watch' | 'logs' | 'ready';
  resource: string;
  namespace?: string | undefined;
  name?: string | undefined;
  detail?: unknown;
}

interface Watcher {
  resource: CoreResource;
  options: WatchOptions;
  onEvent: (event: WatchEvent<RawObject>) => void;
  end: (err?: unknown) => void;
  /** resourceVersion of the last event delivered (or the one the watch started from). */
  seen: number;
}

interface HistoryEntry {
  resource: CoreResource;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: RawObject;
  rv: number;
}

const CLUSTER_SCOPED = new Set<CoreResource>(['namespaces', 'nodes']);

/** A selector requirement of the subset the fake understands: `k=v`, `k==v`, `k!=v`, `k`, `!k`. */
function matchesLabelSelector(labels: Record<string, string> | undefined, selector: string | undefined): boolean {
  if (selector === undefined || selector === '') return true;
  return selector.split(',').every((term) => {
    const t = term.trim();
    const neq = /^([^!=]+)!=(.*)$/.exec(t);
    if (neq) return labels?.[neq[1] ?? ''] !== neq[2];
    const eq = /^([^!=]+)==?(.*)$/.exec(t);
    if (eq) return labels?.[eq[1] ?? ''] === eq[2];
    if (t.startsWith('!')) return labels?.[t.slice(1)] === undefined;
    return labels?.[t] !== undefined;
  });
}

function fieldValue(obj: RawObject, path: string): unknown {
  let current: unknown = obj;
  for (const part of path.split('.')) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

const asText = (value: unknown): string =>
  typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : '';

function matchesFieldSelector(obj: RawObject, selector: string | undefined): boolean {
  if (selector === undefined || selector === '') return true;
  return selector.split(',').every((term) => {
    const neq = /^([^!=]+)!=(.*)$/.exec(term);
    if (neq) return asText(fieldValue(obj, neq[1] ?? '')) !== neq[2];
    const eq = /^([^!=]+)==?(.*)$/.exec(term);
    if (eq) return asText(fieldValue(obj, eq[1] ?? '')) === eq[2];
    return true;
  });
}

const clone = <T>(value: T): T => structuredClone(value);

/**
 * An in-memory remote cluster implementing {@link RemoteApi}: objects with
 * uids and resourceVersions, label and field selectors, watches, owner
 * reference garbage collection (immediate), namespace deletion, and fault
 * injection. Every call is recorded in {@link FakeCluster.calls}.
 */
export class FakeCluster implements RemoteApi {
  readonly calls: FakeCall[] = [];
  /** Log text served per `namespace/name/container`. */
  readonly logText = new Map<string, string>();
  /** Thrown by `ready()` when set. */
  readyError: Error | undefined;
  /** Namespaces whose `default` ServiceAccount the fake creates with the namespace (as the controller does). */
  autoDefaultServiceAccount = true;
  private readonly objects = new Map<CoreResource, Map<string, RawObject>>();
  private rv = 1;
  private oldestWatchableRv = 0;
  private readonly watchers = new Set<Watcher>();
  private readonly history: HistoryEntry[] = [];
  private paused = false;
  private faults: ((call: FakeCall) => Error | undefined)[] = [];

  /** Makes calls matching `when` fail with `error` (`times` times, default forever). */
  fail(when: (call: FakeCall) => boolean, error: Error | (() => Error), times = Infinity): void {
    let left = times;
    this.faults.push((call) => {
      if (left <= 0 || !when(call)) return undefined;
      left -= 1;
      return typeof error === 'function' ? error() : error;
    });
  }

  /** Removes all injected faults. */
  heal(): void {
    this.faults = [];
  }

  /** Number of recorded calls (optionally of one method). */
  count(method?: FakeCall['method']): number {
    return method === undefined ? this.calls.length : this.calls.filter((c) => c.method === method).length;
  }

  /** Puts an object directly (no call recorded), as another actor would. */
  seed<R extends CoreResource>(resource: R, object: RawObject): ResourceTypes[R] {
    return this.store(resource, clone(object));
  }

  /** Reads an object directly (no call recorded). */
  peek<R extends CoreResource>(resource: R, name: string, namespace?: string): ResourceTypes[R] | undefined {
    const found = this.bucket(resource).get(this.key(resource, name, namespace));
    return found === undefined ? undefined : (clone(found));
  }

  /** All objects of a resource (no call recorded). */
  all<R extends CoreResource>(resource: R): ResourceTypes[R][] {
    return [...this.bucket(resource).values()].map((o) => clone(o) as ResourceTypes[R]);
  }

  /** Changes an object directly, as a kubelet or controller would (watchers see MODIFIED). */
  mutate(resource: CoreResource, name: string, namespace: string | undefined, change: (obj: RawObject) => void): void {
    const key = this.key(resource, name, namespace);
    const found = this.bucket(resource).get(key);
    if (found === undefined) throw new Error(`no ${resource} ${key}`);
    change(found);
    found.metadata = { ...found.metadata, resourceVersion: String(++this.rv) };
    this.notify(resource, 'MODIFIED', found);
  }

  /** When set, deleted pods stay, marked with a deletionTimestamp, like pods in graceful termination. */
  gracefulPodDeletion = false;

  /** Removes an object directly, as another actor would (watchers see DELETED, dependents are collected). */
  remove(resource: CoreResource, name: string, namespace?: string): void {
    this.erase(resource, this.key(resource, name, namespace));
  }

  /** Ends every watch: cleanly (a server timeout) or with `err` (a broken connection). */
  endWatches(err?: unknown): void {
    for (const watcher of [...this.watchers]) watcher.end(err);
  }

  /** Makes every resourceVersion up to now too old to watch from (as etcd compaction after another write). */
  compact(): void {
    this.oldestWatchableRv = ++this.rv;
  }

  /** Sends an ERROR event (a `Status`) on every open watch, as the API server does for an expired resourceVersion. */
  sendWatchError(code: number, message: string): void {
    for (const watcher of [...this.watchers]) watcher.onEvent({ type: 'ERROR', object: { code, message } });
  }

  /** Holds watch events back (a lagging watch) until {@link FakeCluster.resumeWatches}. */
  pauseWatches(): void {
    this.paused = true;
  }

  /** Delivers the held-back events. */
  resumeWatches(): void {
    this.paused = false;
    for (const watcher of this.watchers) this.deliver(watcher);
  }

  /** Number of open watches. */
  get openWatches(): number {
    return this.watchers.size;
  }

  get<R extends CoreResource>(resource: R, name: string, namespace?: string): Promise<ResourceTypes[R]> {
    return this.call({ method: 'get', resource, namespace, name }, () => {
      const found = this.bucket(resource).get(this.key(resource, name, namespace));
      if (found === undefined) throw this.notFound('get', resource, name, namespace);
      return clone(found);
    });
  }

  list<R extends CoreResource>(resource: R, options: ListOptions = {}): Promise<ListResult<ResourceTypes[R]>> {
    return this.call({ method: 'list', resource, namespace: options.namespace, detail: options }, () => {
      let items = [...this.bucket(resource).values()].filter((o) => this.selected(o, options));
      if (options.limit !== undefined) items = items.slice(0, options.limit);
      return { items: items.map((o) => clone(o) as ResourceTypes[R]), resourceVersion: String(this.rv) };
    });
  }

  create<R extends CoreResource>(resource: R, manifest: RawObject): Promise<ResourceTypes[R]> {
    const name = manifest.metadata?.name ?? '';
    const namespace = manifest.metadata?.namespace;
    return this.call({ method: 'create', resource, namespace, name, detail: clone(manifest) }, () => {
      const key = this.key(resource, name, namespace);
      if (this.bucket(resource).has(key)) {
        throw new KubeApiError(`${resource} "${name}" already exists`, {
          status: 409,
          reason: 'AlreadyExists',
          request: { verb: 'create', resource, namespace, name },
        });
      }
      this.requireNamespace('create', resource, namespace);
      return clone(this.store(resource, clone(manifest)));
    });
  }

  apply<R extends CoreResource>(resource: R, manifest: RawObject, fieldManager: string): Promise<ResourceTypes[R]> {
    const name = manifest.metadata?.name ?? '';
    const namespace = manifest.metadata?.namespace;
    return this.call({ method: 'apply', resource, namespace, name, detail: { fieldManager, manifest: clone(manifest) } }, () => {
      const key = this.key(resource, name, namespace);
      const existing = this.bucket(resource).get(key);
      // As the API server records it: who applied the object.
      const managedFields = [{ manager: fieldManager, operation: 'Apply', apiVersion: 'v1' }];
      if (existing === undefined) {
        this.requireNamespace('patch', resource, namespace);
        const created = clone(manifest);
        created.metadata = { ...created.metadata, managedFields };
        return clone(this.store(resource, created));
      }
      const merged: RawObject = {
        ...existing,
        ...clone(manifest),
        metadata: {
          ...existing.metadata,
          ...clone(manifest.metadata ?? {}),
          uid: existing.metadata?.uid,
          resourceVersion: String(++this.rv),
          managedFields,
        },
      };
      if (existing.status !== undefined) merged.status = existing.status;
      this.bucket(resource).set(key, merged);
      this.notify(resource, 'MODIFIED', merged);
      return clone(merged);
    });
  }

  delete(resource: CoreResource, name: string, namespace?: string, options: DeleteOptions = {}): Promise<void> {
    return this.call({ method: 'delete', resource, namespace, name, detail: options }, () => {
      const key = this.key(resource, name, namespace);
      const found = this.bucket(resource).get(key);
      if (found === undefined) throw this.notFound('delete', resource, name, namespace);
      if (options.uid !== undefined && found.metadata?.uid !== options.uid) {
        throw new KubeApiError(`Precondition failed: UID in precondition: ${options.uid}`, {
          status: 409,
          reason: 'Conflict',
          request: { verb: 'delete', resource, namespace, name },
        });
      }
      if (resource === 'pods' && this.gracefulPodDeletion) {
        // As a kubelet does: the pod lingers, marked, until its containers stop.
        this.mutate(resource, name, namespace, (pod) => {
          pod.metadata = { ...pod.metadata, deletionTimestamp: new Date(0).toISOString() };
        });
        return;
      }
      this.erase(resource, key);
    });
  }

  watch<R extends CoreResource>(
    resource: R,
    options: WatchOptions,
    onEvent: (event: WatchEvent<ResourceTypes[R]>) => void,
    signal: AbortSignal,
  ): Promise<WatchHandle> {
    return this.call({ method: 'watch', resource, namespace: options.namespace, detail: options }, () => {
      if (Number(options.resourceVersion) < this.oldestWatchableRv) {
        throw new KubeApiError('too old resource version', {
          status: 410,
          reason: 'Expired',
          request: { verb: 'watch', resource },
        });
      }
      let end: (err?: unknown) => void = () => undefined;
      const done = new Promise<void>((resolve, reject) => {
        end = (err?: unknown) => {
          this.watchers.delete(watcher);
          signal.removeEventListener('abort', onAbort);
          if (err === undefined || signal.aborted) resolve();
          else reject(err instanceof Error ? err : new Error('watch broken'));
        };
      });
      const watcher: Watcher = {
        resource,
        options,
        onEvent: onEvent,
        end: (err) => {
          end(err);
        },
        seen: Number(options.resourceVersion),
      };
      const onAbort = (): void => {
        end();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.watchers.add(watcher);
      // Like the API server: first the events after the given resourceVersion.
      queueMicrotask(() => {
        if (!this.paused && this.watchers.has(watcher)) this.deliver(watcher);
      });
      return { done };
    });
  }

  logs(namespace: string, name: string, query: LogQuery, signal: AbortSignal): Promise<Readable> {
    return this.call({ method: 'logs', resource: 'pods/log', namespace, name, detail: query }, () => {
      if (!this.bucket('pods').has(this.key('pods', name, namespace))) throw this.notFound('get', 'pods', name, namespace);
      const text = this.logText.get(`${namespace}/${name}/${query.container}`) ?? '';
      if (query.follow !== true) return Readable.from([Buffer.from(text)]);
      // Follow: keeps the stream open until aborted.
      const stream = new Readable({ read: () => undefined });
      stream.push(Buffer.from(text));
      signal.addEventListener('abort', () => stream.destroy(), { once: true });
      return stream;
    });
  }

  ready(): Promise<void> {
    return this.call({ method: 'ready', resource: '/readyz' }, () => {
      if (this.readyError !== undefined) throw this.readyError;
    });
  }

  private async call<T>(call: FakeCall, run: () => T): Promise<T> {
    this.calls.push(call);
    // Answer asynchronously, like the network would.
    await Promise.resolve();
    for (const fault of this.faults) {
      const error = fault(call);
      if (error !== undefined) throw error;
    }
    return run();
  }

  private bucket(resource: CoreResource): Map<string, RawObject> {
    let bucket = this.objects.get(resource);
    if (bucket === undefined) {
      bucket = new Map();
      this.objects.set(resource, bucket);
    }
    return bucket;
  }

  private key(resource: CoreResource, name: string, namespace: string | undefined): string {
    return CLUSTER_SCOPED.has(resource) ? name : `${namespace ?? ''}/${name}`;
  }

  private selected(obj: RawObject, options: ListOptions): boolean {
    if (options.namespace !== undefined && obj.metadata?.namespace !== options.namespace) return false;
    return matchesLabelSelector(obj.metadata?.labels, options.labelSelector) && matchesFieldSelector(obj, options.fieldSelector);
  }

  private notFound(verb: string, resource: CoreResource, name: string, namespace: string | undefined): KubeApiError {
    const request: RemoteRequest = { verb, resource, namespace, name };
    return new KubeApiError(`${resource} "${name}" not found`, { status: 404, reason: 'NotFound', request });
  }

  private requireNamespace(verb: string, resource: CoreResource, namespace: string | undefined): void {
    if (CLUSTER_SCOPED.has(resource) || namespace === undefined) return;
    const ns = this.bucket('namespaces').get(namespace);
    if (ns === undefined) throw this.notFound(verb, 'namespaces', namespace, undefined);
    if (ns.metadata?.deletionTimestamp !== undefined) {
      throw new KubeApiError(
        `${resource} "x" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`,
        {
          status: 403,
          reason: 'Forbidden',
          request: { verb, resource, namespace },
          causes: [{ type: 'NamespaceTerminating', field: 'metadata.namespace' }],
        },
      );
    }
  }

  private store(resource: CoreResource, obj: RawObject): RawObject {
    const meta = obj.metadata ?? {};
    obj.metadata = {
      ...meta,
      uid: meta.uid ?? randomUUID(),
      resourceVersion: String(++this.rv),
      creationTimestamp: meta.creationTimestamp ?? new Date().toISOString(),
    };
    const key = this.key(resource, meta.name ?? '', meta.namespace);
    const isNew = !this.bucket(resource).has(key);
    this.bucket(resource).set(key, obj);
    this.notify(resource, isNew ? 'ADDED' : 'MODIFIED', obj);
    if (resource === 'namespaces' && isNew && this.autoDefaultServiceAccount) {
      this.store('serviceaccounts', { metadata: { name: 'default', namespace: meta.name ?? '' } });
    }
    return obj;
  }

  private erase(resource: CoreResource, key: string): void {
    const found = this.bucket(resource).get(key);
    if (found === undefined) return;
    this.bucket(resource).delete(key);
    found.metadata = { ...found.metadata, resourceVersion: String(++this.rv) };
    this.notify(resource, 'DELETED', found);
    const uid = found.metadata.uid;
    // Garbage collection of dependents, and namespace contents.
    for (const [otherResource, bucket] of this.objects) {
      for (const [otherKey, other] of [...bucket]) {
        const owned = other.metadata?.ownerReferences?.some((ref) => ref.uid === uid) === true;
        const inNamespace = resource === 'namespaces' && other.metadata?.namespace === found.metadata.name;
        if (owned || inNamespace) this.erase(otherResource, otherKey);
      }
    }
  }

  private notify(resource: CoreResource, type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: RawObject): void {
    this.history.push({ resource, type, object: clone(obj), rv: Number(obj.metadata?.resourceVersion) });
    if (this.paused) return;
    for (const watcher of this.watchers) this.deliver(watcher);
  }

  private deliver(watcher: Watcher): void {
    for (const entry of this.history) {
      if (entry.rv <= watcher.seen) continue;
      watcher.seen = entry.rv;
      if (entry.resource !== watcher.resource || !this.selected(entry.object, watcher.options)) continue;
      watcher.onEvent({ type: entry.type, object: clone(entry.object) });
    }
  }
}

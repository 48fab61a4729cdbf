import type { Readable } from 'node:stream';
import type { LogQuery } from '../translate/local-pod.js';

// The log query is decided by the translation; the remote API carries it.
export type { LogQuery };

/**
 * The core/v1 resources the reconciler touches. All live under `/api/v1`;
 * `namespaces` and `nodes` are cluster-scoped.
 */
export type CoreResource =
  | 'namespaces'
  | 'nodes'
  | 'pods'
  | 'configmaps'
  | 'secrets'
  | 'persistentvolumeclaims'
  | 'serviceaccounts';

/** An owner reference as the API serves it. */
export interface RawOwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** Object metadata as JSON: timestamps are RFC 3339 strings, not `Date`s. */
export interface RawObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: RawOwnerReference[];
  [field: string]: unknown;
}

/**
 * A Kubernetes object as the API serves it, untouched: fields this code does
 * not know are kept, which is what server-side apply of a whole pod needs.
 */
export interface RawObject {
  apiVersion?: string;
  kind?: string;
  metadata?: RawObjectMeta;
  [field: string]: unknown;
}

/** Resource amounts (`cpu`, `memory`, `nvidia.com/gpu`, ...) as quantity strings. */
export type RawResourceList = Record<string, string>;

/** A container as far as the reconciler reads it. */
export interface RawContainer {
  name: string;
  restartPolicy?: string;
  resources?: { requests?: RawResourceList; limits?: RawResourceList };
  [field: string]: unknown;
}

/** A pod as far as the reconciler reads it; every other field passes through. */
export interface RawPod extends RawObject {
  spec?: {
    nodeName?: string;
    serviceAccountName?: string;
    containers?: RawContainer[];
    initContainers?: RawContainer[];
    ephemeralContainers?: RawContainer[];
    overhead?: RawResourceList;
    resources?: { requests?: RawResourceList };
    volumes?: { name: string; persistentVolumeClaim?: { claimName: string } }[];
    [field: string]: unknown;
  };
  status?: { phase?: string; [field: string]: unknown };
}

/** A node as far as the ping reads it. */
export interface RawNode extends RawObject {
  spec?: {
    unschedulable?: boolean;
    taints?: { key: string; value?: string; effect: string }[];
    [field: string]: unknown;
  };
  status?: {
    allocatable?: RawResourceList;
    conditions?: { type: string; status: string }[];
    [field: string]: unknown;
  };
}

/** The JSON type of each resource. */
export interface ResourceTypes {
  namespaces: RawObject;
  nodes: RawNode;
  pods: RawPod;
  configmaps: RawObject;
  secrets: RawObject;
  persistentvolumeclaims: RawObject;
  serviceaccounts: RawObject;
}

/** Selectors and paging of a list (or watch). */
export interface ListOptions {
  /** Namespace to list in; all namespaces when absent. */
  namespace?: string | undefined;
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
  /** `'0'` lets the API server answer from its watch cache (cheaper, possibly slightly stale). */
  resourceVersion?: string | undefined;
  limit?: number | undefined;
}

/** A list answer: the items and the collection's resourceVersion (where a watch resumes). */
export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
}

/** One watch event, as the API server streams it. */
export type WatchEvent<T> =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: T }
  | { type: 'BOOKMARK'; object: RawObject }
  | { type: 'ERROR'; object: { code?: number; reason?: string; message?: string } };

/** What a watch starts from and how long the server keeps it open. */
export interface WatchOptions extends ListOptions {
  resourceVersion: string;
  /** The API server ends the watch (cleanly) after this many seconds. */
  timeoutSeconds: number;
  allowWatchBookmarks?: boolean;
}

/** A running watch: `done` settles when the stream ends (resolves) or breaks (rejects). */
export interface WatchHandle {
  done: Promise<void>;
}

/** Options of a delete. */
export interface DeleteOptions {
  /** Only delete the object with this UID (a precondition: 409 when it differs). */
  uid?: string | undefined;
  /** `Background` (default) or `Foreground` garbage collection of dependents. */
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  gracePeriodSeconds?: number;
}

/**
 * The narrow view of the remote Kubernetes API the reconciler needs: plain
 * JSON in and out, so no field is lost on the way (client-node's typed
 * models drop fields they do not know). {@link ClientNodeRemoteApi} is the
 * real implementation; tests pass a plain in-memory object.
 *
 * Every method rejects with a {@link KubeApiError} when the API answers an
 * error or cannot be reached.
 */
export interface RemoteApi {
  /** Reads one object; rejects with a 404 `KubeApiError` when it does not exist. */
  get<R extends CoreResource>(resource: R, name: string, namespace?: string): Promise<ResourceTypes[R]>;
  /** Lists objects. */
  list<R extends CoreResource>(resource: R, options?: ListOptions): Promise<ListResult<ResourceTypes[R]>>;
  /** Creates an object (POST); rejects with 409 when it exists. */
  create<R extends CoreResource>(resource: R, manifest: RawObject): Promise<ResourceTypes[R]>;
  /**
   * Server-side apply (PATCH `application/apply-patch+yaml`) of a whole
   * manifest with `force=true`; creates the object when missing.
   */
  apply<R extends CoreResource>(resource: R, manifest: RawObject, fieldManager: string): Promise<ResourceTypes[R]>;
  /** Deletes one object; rejects with 404 when it does not exist. */
  delete(resource: CoreResource, name: string, namespace?: string, options?: DeleteOptions): Promise<void>;
  /**
   * Starts a watch. Resolves once the server accepted it; `onEvent` then
   * receives each event until `signal` aborts or the stream ends.
   */
  watch<R extends CoreResource>(
    resource: R,
    options: WatchOptions,
    onEvent: (event: WatchEvent<ResourceTypes[R]>) => void,
    signal: AbortSignal,
  ): Promise<WatchHandle>;
  /** A container's log as a byte stream (`/api/v1/namespaces/{ns}/pods/{name}/log`); aborting `signal` ends it. */
  logs(namespace: string, name: string, query: LogQuery, signal: AbortSignal): Promise<Readable>;
  /** Resolves when the API server reports ready (`/readyz`, else `/version`). */
  ready(): Promise<void>;
  /** Releases connections; the object is unusable afterwards. */
  close?(): Promise<void>;
}

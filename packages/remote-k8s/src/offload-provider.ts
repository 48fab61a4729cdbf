import type { Readable } from 'node:stream';
import type {
  CreateStruct,
  LogStruct,
  PingResponse,
  Pod,
  PodStatus,
  RetrievedPodData,
} from '@interlink-k8s/protocol';

/** The outcome of one readiness check. */
export interface ReadinessCheck {
  name: string;
  ok: boolean;
  message?: string;
}

/** What the server's routes need from an offloading back end. */
export interface OffloadProvider {
  /** Offloads a pod; idempotent for the same pod UID. */
  create(data: RetrievedPodData): Promise<CreateStruct>;
  /**
   * Removes a pod and everything created for it, the remote pod with the
   * local pod's `metadata.deletionGracePeriodSeconds` when set; resolves also
   * when nothing exists.
   */
  delete(pod: Pod): Promise<void>;
  /** Status of each given pod that this provider knows; never an empty container list. */
  status(pods: readonly Pod[]): Promise<PodStatus[]>;
  /** A text stream of one container's logs; ends when done or when `signal` aborts. */
  logs(request: LogStruct, signal: AbortSignal): Promise<Readable>;
  /** Capacity of the remote cluster left for offloaded pods. */
  ping(): Promise<PingResponse>;
  /** Readiness: the remote API answers and the caches have synced. */
  readiness(): Promise<ReadinessCheck[]>;
  /** Number of offloaded pods currently known (from the cache). */
  offloadedPods(): number;
  /** Starts watches and background work. */
  start(): Promise<void>;
  /** Stops watches and background work. */
  stop(): Promise<void>;
}

/** Typed events a provider emits for the app's logs and metrics; libraries never log. */
export interface ProviderEvents {
  /** A call to the remote API failed; `operation` names what was being done. */
  remoteError?(operation: string, error: Error): void;
  /** Something worth a log line happened, e.g. a watch restarted or a sweep removed leftovers. */
  notice?(message: string, details?: Record<string, unknown>): void;
  /**
   * A pod was offloaded without something its spec asks for (e.g. a UDP port
   * the TCP tunnel does not carry); `message` names the pod and what is missing.
   */
  podWarning?(pod: PodRef, message: string): void;
  /** A sweep deleted objects left behind on the remote cluster: how many of each kind (only kinds it deleted). */
  swept?(removed: Readonly<Partial<Record<SweptKind, number>>>): void;
  /** A read of the local cluster failed (the sweep then deletes nothing whose local pod it could not check). */
  localError?(operation: string, error: Error): void;
}

/** What a sweep deletes: remote pods whose local pod is gone, copies whose pod is gone, empty namespaces. */
export type SweptKind = 'pods' | 'configmaps' | 'secrets' | 'namespaces';

/** The local pod an event is about. */
export interface PodRef {
  namespace: string;
  name: string;
  uid: string;
}

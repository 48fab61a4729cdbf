// The provider
export { KubernetesProvider } from './kubernetes-provider.js';
export { OFFLOADED_POD_SELECTOR } from './context.js';
export type { KubernetesProviderOptions } from './context.js';
export type { SweepResult } from './sweep.js';
export type { ClientOverrides, KubeconfigSource, KubernetesProviderConfig } from './config.js';

// Read access to the local cluster (is an offloaded pod's local pod still there?)
export { KubernetesLocalPods, buildLocalKubeConfig } from './local-pods.js';
export type { LocalClusterSource, LocalPodReader } from './local-pods.js';

// The remote API it talks to
export { ClientNodeRemoteApi, buildKubeConfig } from './client.js';
export type { ClientNodeRemoteApiOptions } from './client.js';
export type {
  CoreResource,
  DeleteOptions,
  ListOptions,
  ListResult,
  LogQuery,
  RawContainer,
  RawNode,
  RawObject,
  RawObjectMeta,
  RawOwnerReference,
  RawPod,
  RawResourceList,
  RemoteApi,
  ResourceTypes,
  WatchEvent,
  WatchHandle,
  WatchOptions,
} from './remote-api.js';

// Errors at the remote boundary
export { KubeApiError, toPluginError } from './errors.js';
export type { RemoteRequest, StatusCause } from './errors.js';

// Watch cache and capacity
export { PodCache } from './pod-cache.js';
export type { PodCacheOptions } from './pod-cache.js';
export { computeCapacity, podRequests } from './capacity.js';
export type { CapacityOptions } from './capacity.js';

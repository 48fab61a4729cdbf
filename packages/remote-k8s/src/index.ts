// The interface the server consumes
export type { OffloadProvider, PodRef, ProviderEvents, ReadinessCheck, SweptKind } from './offload-provider.js';

// Pure translation: local pod and its data → remote objects; remote pod → status answer
export {
  BASTION_CONTAINER_NAME,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  NAMESPACE_CREATED_BY_ANNOTATION,
  NOT_STARTED_REASON,
  OFFLOADING_LABEL,
  OFFLOADING_LABEL_VALUE,
  PVC_RETENTION_POLICY_ANNOTATION,
  REMOTE_POD_LOST_MESSAGE,
  REMOTE_POD_LOST_REASON,
  REMOTE_PVC_ANNOTATION,
  SIDECAR_STARTED_REASON,
  SOURCE_NAME_ANNOTATION,
  SOURCE_NAMESPACE_ANNOTATION,
  SOURCE_POD_UID_LABEL,
  SOURCE_UID_ANNOTATION,
  TCP_TUNNEL_ANNOTATION,
  TCP_TUNNEL_IGNORED_PORTS_ANNOTATION,
  TUNNEL_SECRET_HOST_KEY,
  TUNNEL_SECRET_PRIVATE_KEY,
  UNKNOWN_EXIT_CODE,
  managedLabels,
  missingPodStatus,
  planRemoteObjects,
  podObjectLabels,
  remoteNamespaceName,
  remoteObjectName,
  remotePvcClaims,
  remoteTunnelSecretName,
  toPodStatus,
  toRfc3339,
} from './translate/index.js';
export type {
  BastionKeySource,
  Manifest,
  RemoteContainerState,
  RemoteContainerStatus,
  RemotePlan,
  RemotePodView,
  StatusOptions,
  TimeValue,
  TranslateOptions,
  TunnelOptions,
} from './translate/index.js';

// The Kubernetes back end: reconciler, watch cache, capacity (the OffloadProvider the server runs)
export { KubernetesProvider, OFFLOADED_POD_SELECTOR } from './reconcile/index.js';
export type {
  ClientOverrides,
  KubeconfigSource,
  KubernetesProviderConfig,
  KubernetesProviderOptions,
  SweepResult,
} from './reconcile/index.js';

// Read access to the local cluster, for the sweep of remote pods whose local pod is gone
export { KubernetesLocalPods, buildLocalKubeConfig } from './reconcile/index.js';
export type { LocalClusterSource, LocalPodReader } from './reconcile/index.js';

// The remote API it talks to: raw JSON over client-node's request machinery, errors converted at this boundary
export { ClientNodeRemoteApi, KubeApiError, buildKubeConfig, toPluginError } from './reconcile/index.js';
export type {
  ClientNodeRemoteApiOptions,
  CoreResource,
  DeleteOptions,
  ListOptions,
  ListResult,
  LogQuery,
  RawObject,
  RawPod,
  RemoteApi,
  RemoteRequest,
  ResourceTypes,
  WatchEvent,
  WatchHandle,
  WatchOptions,
} from './reconcile/index.js';

// Kubernetes resource quantities
export { formatQuantity, parseQuantity } from './shared/quantity.js';

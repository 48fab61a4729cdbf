// The whole translation of one create request
export { namespaceToCreate, planRemoteObjects } from './planner.js';
export type { BastionKeySource, Manifest, RemotePlan, TranslateOptions, TunnelOptions } from './types.js';

// Remote pod and data objects
export { FALLBACK_SERVICE_ACCOUNT, serviceAccountToCheck, translatePod, targetsVirtualNode, VIRTUAL_NODE_PREFIX } from './pod.js';
export type { PodTarget } from './pod.js';
export { copyDataObjects, rewriteEnvReferences, rewriteVolumes } from './data.js';
export type { DataCopies, DataTarget, ProjectedCopy } from './data.js';
export { claimNamesOf, planClaims } from './pvc.js';
export type { ClaimTarget } from './pvc.js';

// The TCP tunnel's bastion sidecar and its Secret
export {
  BASTION_ARGS,
  BASTION_CONTAINER_NAME,
  TUNNEL_SECRET_HOST_KEY,
  TUNNEL_SECRET_PRIVATE_KEY,
  isGuaranteed,
  planTunnel,
  servedPorts,
  tunnelOptedOut,
} from './tunnel.js';
export type { IgnoredPort, ServedPorts, TunnelPlan, TunnelTarget } from './tunnel.js';

// Names
export {
  isDnsLabel,
  isDnsSubdomain,
  remoteConfigMapName,
  remoteNamespaceName,
  remoteObjectName,
  remoteProjectedSecretName,
  remotePvcName,
  remoteSecretName,
  remoteTunnelSecretName,
  secretKeyForPath,
  stableHash,
} from './names.js';

// Labels and annotations (the reference plugin's, kept for compatibility)
export {
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  NAMESPACE_CREATED_BY_ANNOTATION,
  OFFLOADING_LABEL,
  OFFLOADING_LABEL_VALUE,
  PVC_RETENTION_POLICY_ANNOTATION,
  REMOTE_PVC_ANNOTATION,
  SOURCE_NAME_ANNOTATION,
  SOURCE_NAMESPACE_ANNOTATION,
  SOURCE_POD_UID_LABEL,
  SOURCE_UID_ANNOTATION,
  TCP_TUNNEL_ANNOTATION,
  TCP_TUNNEL_IGNORED_PORTS_ANNOTATION,
  isLabelValue,
  managedLabels,
  podObjectLabels,
  remotePvcClaims,
} from './labels.js';

// Status answers
export {
  NOT_STARTED_REASON,
  REMOTE_POD_LOST_MESSAGE,
  REMOTE_POD_LOST_REASON,
  SIDECAR_STARTED_REASON,
  UNKNOWN_EXIT_CODE,
  missingPodStatus,
  toPodStatus,
  toRfc3339,
} from './status.js';
export type {
  RemoteContainerState,
  RemoteContainerStatus,
  RemotePodView,
  StatusOptions,
  TimeValue,
} from './status.js';

// What the plugin reads off a local pod: log query, deletion grace period, InterLink's acknowledgement
export { VK_JOB_ID_ANNOTATION, createAcknowledged, deletionGracePeriodOf, toLogQuery } from './local-pod.js';
export type { LogQuery } from './local-pod.js';

// Label and annotation names both sides write and read back
export { MANAGED_BY_LABEL, SOURCE_NAME_ANNOTATION, SOURCE_NAMESPACE_ANNOTATION, SOURCE_POD_UID_LABEL, SOURCE_UID_ANNOTATION } from './metadata.js';

// SSH user names: the labels a bastion logs in with
export { formatLabels, parseLabels } from './ssh-user-name.js';
export type { Labels } from './ssh-user-name.js';

// Per-pod bastion keys derived from one shared secret
export {
  IGNORED_PORTS_LABEL,
  MIN_POD_KEY_SECRET_BYTES,
  bastionLabels,
  derivePodKey,
  generatePodKeySecret,
  podIdentityOf,
  podLabels,
  podUsername,
} from './pod-keys.js';
export type { PodIdentity, PodKey } from './pod-keys.js';

// The SSH ciphers both ends accept
export { SUPPORTED_CIPHERS } from './ciphers.js';
export type { SupportedCipher } from './ciphers.js';

// Retry delays (the bastion, the publisher and the plugin's reconciler all back off the same way)
export { backoffDelay } from './backoff.js';
export type { BackoffPolicy } from './backoff.js';

// A failed Kubernetes API call, as both REST clients report it
export { KubeApiError } from './kube-api-error.js';
export type { RemoteRequest, StatusCause } from './kube-api-error.js';

// Configuration read at start-up by the plugin and by the tunnel's entry points
export { ConfigError } from './config-error.js';
export type { Environment, FileReader } from './config-error.js';

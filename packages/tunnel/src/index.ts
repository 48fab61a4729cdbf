// Gateway: the SSH server that accepts only reverse forwards
export { GATEWAY_DEFAULTS, TunnelGateway } from './gateway/gateway.js';
export type { GatewayConfig } from './gateway/gateway.js';
export type {
  AuthFailure,
  ClientIdentity,
  ClientInfo,
  ForwardInfo,
  ForwardRemovalReason,
  GatewayEvents,
  GatewayOptions,
  GatewayStats,
  RefusedRequest,
} from './gateway/types.js';

// Port allocation
export { PortAllocator } from './gateway/ports.js';
export type { PortRange } from './gateway/ports.js';

// Bastion: the SSH client that asks for the forwards and reconnects
export { BASTION_DEFAULTS, Bastion, DEFAULT_BACKOFF, TargetUnreachableError } from './bastion/bastion.js';
export type {
  BastionConfig,
  BastionEvents,
  BastionOptions,
  BastionStats,
  ConnectedEvent,
  DisconnectedEvent,
  ForwardReadyEvent,
  ForwardSpec,
} from './bastion/bastion.js';

// SSH keys (pod keys, SSH user names and ciphers are in @interlink-k8s/contract)
export { decodeInlineKey, fingerprintOf, parseAuthorizedKeys, parsePrivateKey, parsePublicKey, parsePublicKeys, publicKeyLine } from './keys.js';
export type { AuthorizedKey } from './keys.js';

// Publishing Services in the local cluster
export { PUBLISHER_DEFAULTS, ServicePublisher } from './publish/publisher.js';
export type { LocalClusterApi, LocalPod, PublishedService, PublisherEvents, PublisherOptions, SkipReason } from './publish/publisher.js';
export { KubeRestClient } from './publish/kube-client.js';
export type { KubeConnection } from './publish/kube-client.js';
export { endpointSliceManifest, namePorts, serviceManifest, serviceNameFor } from './publish/manifests.js';
export type { DeclaredPort, PublishedPort } from './publish/manifests.js';

// How the tunnel image runs node (its ENTRYPOINT flags and runtime ENV)
export { IMAGE_NODE_FLAGS, IMAGE_RUNTIME_ENV } from './bin/image-runtime.js';

// Errors
export {
  ConnectionError,
  ForwardRefusedError,
  HostKeyMismatchError,
  KeyError,
  PortRangeExhaustedError,
  TunnelError,
} from './errors.js';

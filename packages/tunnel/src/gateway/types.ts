import type { CipherAlgorithm, ParsedKey } from 'ssh2';
import type { AuthorizedKey } from '../keys.js';
import type { Labels, PodIdentity } from '@interlink-k8s/contract';
import type { PortRange } from './ports.js';

/** One reverse forward (a tunnel) the gateway holds for a client. */
export interface ForwardInfo {
  /** Identifies the SSH connection within this gateway process (`c1`, `c2`, ...). */
  readonly connectionId: string;
  /** `SHA256:...` fingerprint of the key the client authenticated with. */
  readonly clientKeyFingerprint: string;
  /** The SSH user name the client logged in with. */
  readonly username: string;
  /** The client's address and port as the gateway sees them. */
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** The bind address in the client's `tcpip-forward` request (echoed back, never used to listen). */
  readonly requestedAddress: string;
  /** The port the client asked for: the container port it exposes (0: "any"). */
  readonly requestedPort: number;
  /** The port the gateway listens on for this forward. */
  readonly allocatedPort: number;
  /** Parsed from the user name; empty when it carries none. */
  readonly labels: Labels;
  /** The local pod this forward stands for, when the user name names one (see {@link ClientIdentity}). */
  readonly identity?: ClientIdentity;
}

/**
 * The local pod an SSH client speaks for. `verified` when it logged in with
 * that pod's derived key (see `derivePodKey`): only that pod's bastion can
 * hold it. Otherwise the client used a shared authorised key and the pod is
 * its claim.
 */
export interface ClientIdentity {
  readonly pod: PodIdentity;
  readonly verified: boolean;
}

/** Why a forward went away. */
export type ForwardRemovalReason = 'cancelled' | 'disconnected' | 'shutdown';

/** An authenticated SSH client. */
export interface ClientInfo {
  readonly connectionId: string;
  readonly clientKeyFingerprint: string;
  readonly username: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly identity?: ClientIdentity;
}

/** A rejected authentication attempt. */
export interface AuthFailure {
  readonly remoteAddress: string;
  readonly username: string;
  /** The SSH authentication method the client tried (`publickey`, `password`, ...). */
  readonly method: string;
  /** Fingerprint of the offered key, for `publickey`. */
  readonly keyFingerprint?: string;
  readonly reason: 'method-not-allowed' | 'unknown-key' | 'bad-signature' | 'too-many-attempts';
}

/** Something a client asked for that the gateway does not do. */
export interface RefusedRequest {
  readonly connectionId: string;
  /** `channel` for channel opens (session, direct-tcpip, ...), `global` for global requests. */
  readonly kind: 'channel' | 'global';
  /** Channel type or request name (`session`, `direct-tcpip`, `streamlocal-forward@openssh.com`, `tcpip-forward`). */
  readonly name: string;
  readonly reason: string;
}

/**
 * Hooks the gateway calls; all optional. They must not throw; a returned
 * promise that rejects is reported through `onError`. This is where the
 * local-cluster Service publishing plugs in (`onForwardAdded` /
 * `onForwardRemoved`), and where the entry point logs.
 */
export interface GatewayEvents {
  onForwardAdded?(forward: ForwardInfo): void | Promise<void>;
  onForwardRemoved?(forward: ForwardInfo, reason: ForwardRemovalReason): void | Promise<void>;
  onClientAuthenticated?(client: ClientInfo): void;
  /** `error` is set when the connection ended on an error (keepalive timeout, reset, protocol error). */
  onClientClosed?(client: ClientInfo, error?: Error): void;
  onAuthFailure?(failure: AuthFailure): void;
  onRequestRefused?(request: RefusedRequest): void;
  onError?(error: Error): void;
}

/** Counters and gauges of a gateway, read with `TunnelGateway.stats()`. */
export interface GatewayStats {
  /** SSH connections open now, authenticated or not (gauge). */
  readonly sshConnections: number;
  /** SSH connections that authenticated, since start (counter). */
  readonly sshConnectionsTotal: number;
  /** Reverse forwards listening now (gauge). */
  readonly activeTunnels: number;
  /** TCP connections open through the tunnels now (gauge). */
  readonly activeStreams: number;
  /** TCP connections accepted on allocated ports, since start (counter). */
  readonly streamsTotal: number;
  /** Accepted TCP connections the client would not take (channel open failed), since start (counter). */
  readonly streamOpenFailuresTotal: number;
  /** Bytes received from local clients and sent into the tunnels (counter). */
  readonly bytesIn: number;
  /** Bytes received from the tunnels and sent to local clients (counter). */
  readonly bytesOut: number;
  /** Rejected authentication attempts, the initial `none` probe excepted (counter). */
  readonly authFailuresTotal: number;
  /** Refused channel opens and global requests, forwards refused included (counter). */
  readonly refusedRequestsTotal: number;
}

/** What {@link TunnelGateway}'s constructor takes: parsed keys and plain settings. */
export interface GatewayOptions {
  /** Host private keys (parsed, see `parsePrivateKey`). */
  readonly hostKeys: readonly ParsedKey[];
  /** The public keys allowed to log in (may be empty when `podKeySecret` is set). */
  readonly authorizedKeys: readonly AuthorizedKey[];
  /**
   * The secret per-pod bastion keys are derived from (see `derivePodKey`):
   * a client whose user name names a pod (`namespace=..,pod=..,uid=..`) and
   * that offers that pod's derived key is let in, bound to that pod.
   */
  readonly podKeySecret?: Uint8Array;
  /** Where the SSH server listens; port 0 picks a free one. */
  readonly listenHost: string;
  readonly listenPort: number;
  /** Where allocated forward ports listen (whatever address the client asked for). */
  readonly forwardHost: string;
  readonly portRange: PortRange;
  /** Reverse forwards one SSH connection may hold. */
  readonly maxForwardsPerConnection: number;
  /** Rejected authentication attempts before the connection is dropped. */
  readonly maxAuthAttempts: number;
  /** Time a connection has to authenticate. */
  readonly loginGraceMs: number;
  /** SSH keepalive towards clients, ms (> 0; ssh2 takes 0 as "its default"). Dead clients lose their forwards after interval × (countMax + 1). */
  readonly keepaliveIntervalMs: number;
  readonly keepaliveCountMax: number;
  /** Restricts the ciphers offered (e.g. `['aes128-gcm@openssh.com']`); default: ssh2's list. */
  readonly ciphers?: readonly CipherAlgorithm[];
}

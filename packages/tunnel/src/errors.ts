/** Base of every error the tunnel library throws or emits; keeps `cause`. */
export class TunnelError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A key (host key, authorised key, private key) that cannot be used. */
export class KeyError extends TunnelError {}

/** The gateway presented a host key that is not the pinned one; nothing was sent to it. */
export class HostKeyMismatchError extends TunnelError {
  /** OpenSSH-style fingerprint (`SHA256:...`) of the key the server presented. */
  readonly presentedFingerprint: string;

  constructor(presentedFingerprint: string, expected: readonly string[]) {
    super(`gateway host key ${presentedFingerprint} is not the pinned key (${expected.join(', ')})`);
    this.presentedFingerprint = presentedFingerprint;
  }
}

/** The gateway refused a reverse forward (`tcpip-forward`). */
export class ForwardRefusedError extends TunnelError {
  readonly bindAddress: string;
  readonly bindPort: number;

  constructor(bindAddress: string, bindPort: number, options?: ErrorOptions) {
    super(`the gateway refused the reverse forward ${bindAddress}:${bindPort}`, options);
    this.bindAddress = bindAddress;
    this.bindPort = bindPort;
  }
}

/** No free port is left in the gateway's allocation range. */
export class PortRangeExhaustedError extends TunnelError {}

/** The SSH connection failed or broke (network, handshake, authentication, keepalive). */
export class ConnectionError extends TunnelError {}

/** `value` if it is an `Error`, else an `Error` of its text (for what a callback or a `catch` received). */
export function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/** The message of an `Error`, else the text of the value. */
export function messageOf(value: unknown): string {
  return value instanceof Error ? value.message : String(value);
}

import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import type { AcceptConnection, CipherAlgorithm, ClientChannel, ParsedKey, RejectConnection, TcpConnectionDetails } from 'ssh2';
import { ConnectionError, ForwardRefusedError, HostKeyMismatchError, TunnelError, asError } from '../errors.js';
import { fingerprintOf, parsePrivateKey, parsePublicKeys } from '../keys.js';
import { backoffDelay, formatLabels, type BackoffPolicy, type Labels } from '@interlink-k8s/contract';
import { coalesceWrites, splice } from '../splice.js';
import { sshClientClass } from '../ssh2-parts.js';

const Client = sshClientClass();
type SshClient = InstanceType<typeof Client>;

/** One reverse forward the bastion asks for, and where its connections go. */
export interface ForwardSpec {
  /** Bind address sent in `tcpip-forward`. Our gateway only echoes it; OpenSSH `sshd` binds it if `GatewayPorts clientspecified`. */
  readonly bindAddress: string;
  /** The port asked for: the container port exposed (0: let the server choose). */
  readonly bindPort: number;
  /** Where accepted connections go: the pod's address and port. */
  readonly targetHost: string;
  readonly targetPort: number;
}

/** What {@link Bastion}'s constructor takes: parsed keys and plain settings. */
export interface BastionOptions {
  /** The gateway's SSH address. */
  readonly host: string;
  readonly port: number;
  readonly username: string;
  /** Private key text (OpenSSH or PEM), already checked by `parsePrivateKey`. */
  readonly privateKey: string;
  /** The gateway host keys accepted (public); any other key is refused before authenticating. */
  readonly hostKeys: readonly ParsedKey[];
  readonly forwards: readonly ForwardSpec[];
  /** SSH keepalive towards the gateway; 0 disables. A dead link is noticed after interval × countMax. */
  readonly keepaliveIntervalMs: number;
  readonly keepaliveCountMax: number;
  /** Time allowed for connect + handshake + authentication. */
  readonly readyTimeoutMs: number;
  readonly backoff: BackoffPolicy;
  /** Restricts the ciphers offered; default: ssh2's list. */
  readonly ciphers?: readonly CipherAlgorithm[];
  /** Source of randomness for the jitter, [0, 1); default `Math.random`. */
  readonly random?: () => number;
}

/** Settings of a bastion when built with {@link Bastion.fromConfig}; keys as text. */
export interface BastionConfig extends Partial<Omit<BastionOptions, 'privateKey' | 'hostKeys' | 'forwards' | 'host' | 'username'>> {
  readonly host: string;
  /** SSH user name; when `labels` are given it is built from them instead (see `formatLabels`). */
  readonly username?: string;
  readonly labels?: Labels;
  /** Private key text, OpenSSH or PEM. */
  readonly privateKey: string;
  readonly passphrase?: string;
  /** Pinned gateway host public keys, one per line (`ssh-ed25519 AAAA...`); `known_hosts`-style host prefixes are not accepted. */
  readonly hostKeys: string;
  readonly forwards: readonly (Omit<ForwardSpec, 'bindAddress' | 'targetHost'> & Partial<Pick<ForwardSpec, 'bindAddress' | 'targetHost'>>)[];
}

/** The bastion's reconnect delays: 200 ms, doubling, at most 3 s, half of it random. */
export const DEFAULT_BACKOFF: Required<BackoffPolicy> = Object.freeze({ initialMs: 200, maxMs: 3_000, multiplier: 2, jitter: 0.5 });

/** Defaults of every optional {@link BastionConfig} setting. */
export const BASTION_DEFAULTS = Object.freeze({
  port: 2222,
  username: 'bastion',
  bindAddress: '0.0.0.0',
  targetHost: '127.0.0.1',
  keepaliveIntervalMs: 10_000,
  keepaliveCountMax: 3,
  readyTimeoutMs: 15_000,
  backoff: DEFAULT_BACKOFF,
});

/** Payload of the `connected` event. */
export interface ConnectedEvent {
  readonly host: string;
  readonly port: number;
  /** Failed attempts since the last time every forward was ready. */
  readonly failedAttempts: number;
}

/** Payload of the `forwardReady` event. */
export interface ForwardReadyEvent extends ForwardSpec {
  /** The port the server reports as bound: `bindPort`, or the server's choice when it was 0. */
  readonly boundPort: number;
}

/** Payload of the `disconnected` event. */
export interface DisconnectedEvent {
  /** Why, when known (also emitted as `error`). */
  readonly error: Error | undefined;
  /** When the next attempt starts; `undefined` after `stop()`. */
  readonly retryInMs: number | undefined;
}

/** A connection to the target (the pod's port) failed; the gateway's client sees its connection closed. */
export class TargetUnreachableError extends TunnelError {}

/** The events of a {@link Bastion}. */
export interface BastionEvents {
  connected: [ConnectedEvent];
  forwardReady: [ForwardReadyEvent];
  disconnected: [DisconnectedEvent];
  /** What went wrong; the bastion keeps retrying on its own, and an unheard `error` does not throw. */
  error: [Error];
}

/** Counters of a bastion, read with {@link Bastion.stats}. */
export interface BastionStats {
  readonly connected: boolean;
  readonly forwardsReady: number;
  /** SSH connections that reached `ready`, since start. */
  readonly connectionsTotal: number;
  readonly activeStreams: number;
  readonly streamsTotal: number;
  readonly targetFailuresTotal: number;
}

/**
 * The bastion: an SSH client that connects out to the gateway, checks its
 * host key against the pinned keys (no trust on first use), asks for one
 * reverse forward per {@link ForwardSpec}, and pipes every connection the
 * gateway sends through to the target. It sends keepalives, reconnects with
 * exponential backoff and jitter, and asks for its forwards again after each
 * reconnect; a refused forward drops the connection and retries too (as
 * `ssh -o ExitOnForwardFailure=yes` in a restart loop would).
 *
 * It does not log: it emits {@link BastionEvents}.
 */
export class Bastion extends EventEmitter<BastionEvents> {
  readonly #options: BastionOptions;
  readonly #random: () => number;
  readonly #routes = new Map<string, ForwardSpec>();
  readonly #streams = new Set<Socket>();
  #client: SshClient | undefined;
  #running = false;
  #timer: NodeJS.Timeout | undefined;
  #failedAttempts = 0;
  #connected = false;
  #connectionsTotal = 0;
  #streamsTotal = 0;
  #targetFailuresTotal = 0;

  /** Parses the keys in `config`, fills in defaults and builds the bastion (not started). Throws `KeyError`. */
  static fromConfig(config: BastionConfig): Bastion {
    const d = BASTION_DEFAULTS;
    parsePrivateKey(config.privateKey, config.passphrase);
    const hostKeys = parsePublicKeys(config.hostKeys, 'gateway host key');
    if (config.forwards.length === 0) throw new TunnelError('at least one forward is needed');
    if (config.labels !== undefined && config.username !== undefined) throw new TunnelError('give either a user name or labels, not both');
    return new Bastion({
      host: config.host,
      port: config.port ?? d.port,
      username: config.labels === undefined ? (config.username ?? d.username) : formatLabels(config.labels),
      privateKey: config.privateKey,
      hostKeys,
      forwards: config.forwards.map((f) => ({ ...f, bindAddress: f.bindAddress ?? d.bindAddress, targetHost: f.targetHost ?? d.targetHost })),
      keepaliveIntervalMs: config.keepaliveIntervalMs ?? d.keepaliveIntervalMs,
      keepaliveCountMax: config.keepaliveCountMax ?? d.keepaliveCountMax,
      readyTimeoutMs: config.readyTimeoutMs ?? d.readyTimeoutMs,
      backoff: config.backoff ?? d.backoff,
      ...(config.ciphers === undefined ? {} : { ciphers: config.ciphers }),
      ...(config.random === undefined ? {} : { random: config.random }),
    });
  }

  /** Builds a bastion from checked keys and complete settings (see {@link fromConfig} for text and defaults). */
  constructor(options: BastionOptions) {
    super();
    this.#options = options;
    this.#random = options.random ?? Math.random;
    // An emitter crashes the process on an unheard 'error'; this one only
    // reports (it recovers by itself), so it always has a listener.
    this.on('error', () => undefined);
  }

  /** Starts connecting (and keeps reconnecting until {@link stop}). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#connect();
  }

  /** Stops reconnecting and closes the connection; resolves once it is closed. */
  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const client = this.#client;
    if (client === undefined) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => client.destroy(), 2_000);
      client.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      client.end();
    });
  }

  /** Current state and counters. */
  stats(): BastionStats {
    return {
      connected: this.#connected,
      forwardsReady: this.#routes.size,
      connectionsTotal: this.#connectionsTotal,
      activeStreams: this.#streams.size,
      streamsTotal: this.#streamsTotal,
      targetFailuresTotal: this.#targetFailuresTotal,
    };
  }

  #report(error: Error): void {
    this.emit('error', error);
  }

  #connect(): void {
    this.#timer = undefined;
    const options = this.#options;
    const client = new Client();
    this.#client = client;
    let failure: Error | undefined;
    let presentedKey: string | undefined;

    client.on('ready', () => {
      this.#connected = true;
      this.#connectionsTotal++;
      this.emit('connected', { host: options.host, port: options.port, failedAttempts: this.#failedAttempts });
      this.#requestForwards(client);
    });
    client.on('tcp connection', (details, accept, reject) => {
      this.#onTcpConnection(client, details, accept, reject);
    });
    client.on('error', (error) => {
      failure = presentedKey === undefined
        ? new ConnectionError(`gateway ${options.host}:${options.port}: ${error.message}`, { cause: error })
        : new HostKeyMismatchError(presentedKey, options.hostKeys.map((key) => fingerprintOf(key)));
      this.#report(failure);
    });
    client.on('close', () => {
      if (this.#client === client) this.#client = undefined;
      this.#connected = false;
      this.#routes.clear();
      let retryInMs: number | undefined;
      if (this.#running) {
        retryInMs = backoffDelay(options.backoff, this.#failedAttempts, this.#random);
        this.#failedAttempts++;
        this.#timer = setTimeout(() => {
          this.#connect();
        }, retryInMs);
      }
      this.emit('disconnected', { error: failure, retryInMs });
    });

    // Our own socket, so that its writes are batched; ssh2 waits for it to connect.
    const sock = connect({ host: options.host, port: options.port, noDelay: true });
    coalesceWrites(sock);
    try {
      client.connect({
        sock,
        username: options.username,
        privateKey: options.privateKey,
        hostVerifier: (key: Buffer): boolean => {
          const pinned = options.hostKeys.some((candidate) => candidate.getPublicSSH().equals(key));
          if (!pinned) presentedKey = fingerprintOf(key);
          return pinned;
        },
        keepaliveInterval: options.keepaliveIntervalMs,
        keepaliveCountMax: options.keepaliveCountMax,
        readyTimeout: options.readyTimeoutMs,
        ident: 'interlink-tunnel-bastion',
        ...(options.ciphers === undefined ? {} : { algorithms: { cipher: [...options.ciphers] } }),
      });
    } catch (error) {
      // Synchronous failures (bad settings) still go through the retry path.
      failure = asError(error);
      sock.destroy();
      this.#report(failure);
      queueMicrotask(() => client.emit('close'));
    }
  }

  #requestForwards(client: SshClient): void {
    const specs = this.#options.forwards;
    let pending = specs.length;
    let failed = false;
    for (const spec of specs) {
      const done = (error: Error | undefined, boundPort: number) => {
        pending--;
        if (this.#client !== client) return;
        if (error !== undefined) {
          if (!failed) {
            failed = true;
            this.#report(new ForwardRefusedError(spec.bindAddress, spec.bindPort, { cause: error }));
            client.end();
          }
          return;
        }
        this.#routes.set(`${spec.bindAddress}:${spec.bindPort === 0 ? boundPort : spec.bindPort}`, spec);
        this.emit('forwardReady', { ...spec, boundPort });
        if (pending === 0 && !failed) this.#failedAttempts = 0;
      };
      try {
        client.forwardIn(spec.bindAddress, spec.bindPort, (error, boundPort) => {
          done(error, boundPort);
        });
      } catch (error) {
        done(asError(error), 0);
      }
    }
  }

  #onTcpConnection(client: SshClient, details: TcpConnectionDetails, accept: AcceptConnection<ClientChannel>, reject: RejectConnection): void {
    const spec = this.#routes.get(`${details.destIP}:${details.destPort}`);
    if (spec === undefined || this.#client !== client) {
      reject();
      return;
    }
    this.#streamsTotal++;
    const socket = connect({ host: spec.targetHost, port: spec.targetPort, allowHalfOpen: true, noDelay: true });
    this.#streams.add(socket);
    let opened = false;
    // `on`, not `once`: these come once anyway, and once() costs a wrapper per connection.
    socket.on('close', () => this.#streams.delete(socket));
    socket.on('error', (error) => {
      if (opened) return;
      this.#targetFailuresTotal++;
      reject();
      this.#report(new TargetUnreachableError(`target ${spec.targetHost}:${spec.targetPort}: ${error.message}`, { cause: error }));
    });
    socket.on('connect', () => {
      if (this.#client !== client) {
        socket.destroy();
        reject();
        return;
      }
      opened = true;
      splice(socket, accept(), () => undefined);
    });
  }
}

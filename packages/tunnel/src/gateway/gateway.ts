import { createServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import type { AuthContext, ClientInfo as SshClientInfo, Connection, TcpipBindInfo } from 'ssh2';
import { TunnelError, asError } from '../errors.js';
import { fingerprintOf, parseAuthorizedKeys, parsePrivateKey, parsePublicKey, type AuthorizedKey } from '../keys.js';
import { derivePodKey, parseLabels, podIdentityOf } from '@interlink-k8s/contract';
import { coalesceWrites, splice } from '../splice.js';
import { sshServerClass } from '../ssh2-parts.js';
import { PortAllocator, type PortRange } from './ports.js';
import type {
  AuthFailure,
  ClientIdentity,
  ClientInfo,
  ForwardInfo,
  ForwardRemovalReason,
  GatewayEvents,
  GatewayOptions,
  GatewayStats,
  RefusedRequest,
} from './types.js';

const SshServer = sshServerClass();

/** Settings of a gateway when built with {@link TunnelGateway.fromConfig}; keys as text. */
export interface GatewayConfig extends Partial<Omit<GatewayOptions, 'hostKeys' | 'authorizedKeys'>> {
  /** Host private keys, OpenSSH or PEM text. */
  readonly hostKeys: readonly string[];
  /** `authorized_keys` text: the public keys allowed to log in (empty: none, then `podKeySecret` is needed). */
  readonly authorizedKeys: string;
}

/** Defaults of every optional {@link GatewayConfig} setting. */
export const GATEWAY_DEFAULTS = Object.freeze({
  listenHost: '0.0.0.0',
  listenPort: 2222,
  forwardHost: '0.0.0.0',
  portRange: Object.freeze<PortRange>({ min: 20000, max: 20999 }),
  maxForwardsPerConnection: 64,
  maxAuthAttempts: 6,
  loginGraceMs: 20_000,
  keepaliveIntervalMs: 15_000,
  keepaliveCountMax: 3,
});

/** How long {@link TunnelGateway.close} waits for clients to hang up before cutting them. */
const CLOSE_GRACE_MS = 2_000;

interface Forward {
  readonly info: ForwardInfo;
  /** The port put in `forwarded-tcpip` channels: what the client believes it bound. */
  readonly boundPort: number;
  readonly server: NetServer;
  readonly sockets: Set<Socket>;
}

interface Client {
  readonly id: string;
  readonly conn: Connection;
  readonly remoteAddress: string;
  readonly remotePort: number;
  info: ClientInfo | undefined;
  /** Forwards by `address:boundPort`; `pending` while the listen is under way. */
  readonly forwards: Map<string, Forward | 'pending'>;
  closed: boolean;
  authFailures: number;
  lastError: Error | undefined;
}

function forwardKey(address: string, port: number): string {
  return `${address}:${port}`;
}

/**
 * The tunnel gateway: an SSH server that only accepts reverse port forwards
 * (`tcpip-forward` / `cancel-tcpip-forward`) from authorised public keys.
 *
 * - Authentication: public keys only; every other method, unknown key or bad
 *   signature is refused and counted; too many failures or no login within
 *   the grace time drops the connection.
 * - Refused: session channels (shell, exec, subsystem, pty, agent),
 *   `direct-tcpip` and streamlocal channels (ssh2 answers "administratively
 *   prohibited" on its own since no handler is registered), and every global
 *   request but the two above.
 * - Port allocation: the requested port is the container port the client
 *   exposes; the gateway listens on a port of its own range instead, so
 *   clients asking for the same port never collide. The reply carries the
 *   allocated port only when the client asked for port 0 (RFC 4254 7.1);
 *   `forwarded-tcpip` channels carry the requested address and port (the
 *   allocated one for port 0), which is how OpenSSH's `ssh -R` matches them.
 */
export class TunnelGateway {
  readonly #options: GatewayOptions;
  readonly #events: GatewayEvents;
  readonly #authorized: Map<string, AuthorizedKey>;
  readonly #ports: PortAllocator;
  readonly #ssh: InstanceType<typeof SshServer>;
  readonly #listener: NetServer;
  readonly #sshSockets = new Set<Socket>();
  readonly #clients = new Set<Client>();
  readonly #streams = new Set<Socket>();
  #nextId = 1;
  #closing = false;
  readonly #counters = {
    sshConnectionsTotal: 0,
    streamsTotal: 0,
    streamOpenFailuresTotal: 0,
    closedBytesIn: 0,
    closedBytesOut: 0,
    authFailuresTotal: 0,
    refusedRequestsTotal: 0,
  };

  /** Parses the keys in `config`, fills in defaults, and builds the gateway (not yet listening). Throws `KeyError`. */
  static fromConfig(config: GatewayConfig, events: GatewayEvents = {}): TunnelGateway {
    if (config.hostKeys.length === 0) throw new TunnelError('the gateway needs at least one host key');
    const d = GATEWAY_DEFAULTS;
    const authorizedKeys = parseAuthorizedKeys(config.authorizedKeys);
    if (authorizedKeys.length === 0 && config.podKeySecret === undefined) {
      throw new TunnelError('the gateway needs authorised keys, a pod-key secret, or both');
    }
    const options: GatewayOptions = {
      hostKeys: config.hostKeys.map((text, i) => parsePrivateKey(text, undefined, `host key ${i + 1}`)),
      authorizedKeys,
      ...(config.podKeySecret === undefined ? {} : { podKeySecret: config.podKeySecret }),
      listenHost: config.listenHost ?? d.listenHost,
      listenPort: config.listenPort ?? d.listenPort,
      forwardHost: config.forwardHost ?? d.forwardHost,
      portRange: config.portRange ?? d.portRange,
      maxForwardsPerConnection: config.maxForwardsPerConnection ?? d.maxForwardsPerConnection,
      maxAuthAttempts: config.maxAuthAttempts ?? d.maxAuthAttempts,
      loginGraceMs: config.loginGraceMs ?? d.loginGraceMs,
      keepaliveIntervalMs: config.keepaliveIntervalMs ?? d.keepaliveIntervalMs,
      keepaliveCountMax: config.keepaliveCountMax ?? d.keepaliveCountMax,
      ...(config.ciphers === undefined ? {} : { ciphers: config.ciphers }),
    };
    return new TunnelGateway(options, events);
  }

  /** Builds a gateway from parsed keys and complete settings (see {@link fromConfig} for text and defaults). */
  constructor(options: GatewayOptions, events: GatewayEvents = {}) {
    this.#options = options;
    this.#events = events;
    this.#authorized = new Map(options.authorizedKeys.map((entry) => [entry.key.getPublicSSH().toString('base64'), entry]));
    this.#ports = new PortAllocator(options.portRange);
    this.#ssh = new SshServer({
      // ssh2 takes a parsed key only when wrapped as `{ key }`.
      hostKeys: options.hostKeys.map((key) => ({ key })),
      keepaliveInterval: options.keepaliveIntervalMs,
      keepaliveCountMax: options.keepaliveCountMax,
      ident: 'interlink-tunnel-gateway',
      ...(options.ciphers === undefined ? {} : { algorithms: { cipher: [...options.ciphers] } }),
    });
    this.#ssh.on('connection', (conn: Connection, info: SshClientInfo) => {
      this.#onConnection(conn, info.ip, info.port);
    });
    // Our own listener, so that sockets get TCP_NODELAY and batched writes, and can be cut at shutdown.
    this.#listener = createServer({ noDelay: true, keepAlive: true }, (socket) => {
      if (this.#closing) {
        socket.destroy();
        return;
      }
      this.#sshSockets.add(socket);
      socket.once('close', () => this.#sshSockets.delete(socket));
      coalesceWrites(socket);
      this.#ssh.injectSocket(socket);
    });
    this.#listener.on('error', (error) => {
      this.#notify(() => this.#events.onError?.(error));
    });
  }

  /** Starts the SSH server; resolves to the address it listens on. */
  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => {
        reject(error);
      };
      this.#listener.once('error', onError);
      this.#listener.listen({ host: this.#options.listenHost, port: this.#options.listenPort }, () => {
        this.#listener.off('error', onError);
        const address = this.address;
        if (address === undefined) reject(new TunnelError('the gateway is not listening'));
        else resolve(address);
      });
    });
  }

  /** Where the SSH server listens, once it does. */
  get address(): AddressInfo | undefined {
    const address = this.#listener.address();
    return address !== null && typeof address === 'object' ? address : undefined;
  }

  /** Whether the SSH server accepts connections (for health checks). */
  get listening(): boolean {
    return this.#listener.listening && !this.#closing;
  }

  /** The forwards held now. */
  forwards(): ForwardInfo[] {
    const result: ForwardInfo[] = [];
    for (const client of this.#clients) {
      for (const forward of client.forwards.values()) if (forward !== 'pending') result.push(forward.info);
    }
    return result;
  }

  /** Current counters and gauges. */
  stats(): GatewayStats {
    let bytesIn = this.#counters.closedBytesIn;
    let bytesOut = this.#counters.closedBytesOut;
    for (const socket of this.#streams) {
      bytesIn += socket.bytesRead;
      bytesOut += socket.bytesWritten;
    }
    let activeTunnels = 0;
    for (const client of this.#clients) for (const forward of client.forwards.values()) if (forward !== 'pending') activeTunnels++;
    return {
      sshConnections: this.#sshSockets.size,
      sshConnectionsTotal: this.#counters.sshConnectionsTotal,
      activeTunnels,
      activeStreams: this.#streams.size,
      streamsTotal: this.#counters.streamsTotal,
      streamOpenFailuresTotal: this.#counters.streamOpenFailuresTotal,
      bytesIn,
      bytesOut,
      authFailuresTotal: this.#counters.authFailuresTotal,
      refusedRequestsTotal: this.#counters.refusedRequestsTotal,
    };
  }

  /**
   * Stops listening, releases every forward (reason `shutdown`), disconnects
   * the clients and waits up to two seconds for them to go before cutting
   * what is left. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    const stopped = new Promise<void>((resolve) => {
      if (this.#listener.listening)
        this.#listener.close(() => {
          resolve();
        });
      else resolve();
    });
    for (const client of this.#clients) this.#releaseAll(client, 'shutdown');
    for (const client of this.#clients) client.conn.end();
    const timer = setTimeout(() => {
      for (const socket of this.#sshSockets) socket.destroy();
    }, CLOSE_GRACE_MS);
    await stopped;
    clearTimeout(timer);
  }

  #onConnection(conn: Connection, remoteAddress: string, remotePort: number): void {
    const client: Client = {
      id: `c${this.#nextId++}`,
      conn,
      remoteAddress,
      remotePort,
      info: undefined,
      forwards: new Map(),
      closed: false,
      authFailures: 0,
      lastError: undefined,
    };
    this.#clients.add(client);
    const grace = setTimeout(() => {
      if (client.info === undefined) conn.end();
    }, this.#options.loginGraceMs);
    grace.unref();

    conn.on('error', (error) => {
      client.lastError = error;
    });
    conn.on('authentication', (ctx) => {
      this.#authenticate(client, ctx);
    });
    conn.on('ready', () => {
      clearTimeout(grace);
      this.#counters.sshConnectionsTotal++;
      const info = client.info;
      if (info !== undefined) this.#notify(() => this.#events.onClientAuthenticated?.(info));
    });
    conn.on('request', (accept, reject, name, info) => {
      const requestName: string = name;
      if (requestName === 'tcpip-forward') void this.#addForward(client, info, accept, reject);
      else if (requestName === 'cancel-tcpip-forward') this.#cancelForward(client, info, accept, reject);
      else {
        reject?.();
        this.#refuse({ connectionId: client.id, kind: 'global', name: requestName, reason: 'only tcpip-forward is allowed' });
      }
    });
    conn.on('close', () => {
      clearTimeout(grace);
      client.closed = true;
      this.#releaseAll(client, this.#closing ? 'shutdown' : 'disconnected');
      this.#clients.delete(client);
      const info = client.info;
      if (info !== undefined) this.#notify(() => this.#events.onClientClosed?.(info, client.lastError));
    });
  }

  #authenticate(client: Client, ctx: AuthContext): void {
    const fail = (failure: Omit<AuthFailure, 'remoteAddress' | 'username' | 'method'>) => {
      this.#counters.authFailuresTotal++;
      client.authFailures++;
      this.#notify(() => this.#events.onAuthFailure?.({ remoteAddress: client.remoteAddress, username: ctx.username, method: ctx.method, ...failure }));
      ctx.reject(['publickey']);
      if (client.authFailures >= this.#options.maxAuthAttempts) {
        this.#notify(() =>
          this.#events.onAuthFailure?.({ remoteAddress: client.remoteAddress, username: ctx.username, method: ctx.method, reason: 'too-many-attempts' }),
        );
        client.conn.end();
      }
    };
    if (ctx.method === 'none') {
      // Every client starts with `none` to learn the allowed methods: not a failure.
      ctx.reject(['publickey']);
      return;
    }
    if (ctx.method !== 'publickey') {
      fail({ reason: 'method-not-allowed' });
      return;
    }
    const keyFingerprint = fingerprintOf(ctx.key.data);
    const labels = parseLabels(ctx.username);
    const pod = podIdentityOf(labels);
    let entry = this.#authorized.get(ctx.key.data.toString('base64'));
    let identity: ClientIdentity | undefined = pod === undefined ? undefined : { pod, verified: false };
    if (entry === undefined && pod !== undefined && this.#options.podKeySecret !== undefined) {
      const derived = derivePodKey(this.#options.podKeySecret, pod);
      if (derived.publicKeyBlob.equals(ctx.key.data)) {
        entry = { key: parsePublicKey(derived.publicKey), fingerprint: keyFingerprint, comment: `${pod.namespace}/${pod.name}` };
        identity = { pod, verified: true };
      }
    }
    if (entry === undefined) {
      fail({ reason: 'unknown-key', keyFingerprint });
      return;
    }
    if (ctx.signature === undefined || ctx.blob === undefined) {
      // The client asks whether this key would do; the signed attempt follows.
      ctx.accept();
      return;
    }
    if (!entry.key.verify(ctx.blob, ctx.signature, ctx.hashAlgo)) {
      fail({ reason: 'bad-signature', keyFingerprint });
      return;
    }
    client.info = {
      connectionId: client.id,
      clientKeyFingerprint: entry.fingerprint,
      username: ctx.username,
      remoteAddress: client.remoteAddress,
      remotePort: client.remotePort,
      ...(identity === undefined ? {} : { identity }),
    };
    ctx.accept();
  }

  async #addForward(
    client: Client,
    request: TcpipBindInfo,
    accept: ((port?: number) => void) | undefined,
    reject: (() => void) | undefined,
  ): Promise<void> {
    const { bindAddr: requestedAddress, bindPort: requestedPort } = request;
    const refuse = (reason: string) => {
      reject?.();
      this.#refuse({ connectionId: client.id, kind: 'global', name: 'tcpip-forward', reason: `${requestedAddress}:${requestedPort}: ${reason}` });
    };
    const info = client.info;
    if (info === undefined || this.#closing) {
      refuse('not available');
      return;
    }
    if (!Number.isInteger(requestedPort) || requestedPort < 0 || requestedPort > 65535) {
      refuse('invalid port');
      return;
    }
    if (client.forwards.size >= this.#options.maxForwardsPerConnection) {
      refuse(`at most ${this.#options.maxForwardsPerConnection} forwards per connection`);
      return;
    }
    const requestedKey = requestedPort === 0 ? undefined : forwardKey(requestedAddress, requestedPort);
    if (requestedKey !== undefined) {
      if (client.forwards.has(requestedKey)) {
        refuse('already forwarded on this connection');
        return;
      }
      client.forwards.set(requestedKey, 'pending');
    }

    const sockets = new Set<Socket>();
    const server = createServer({ allowHalfOpen: true, noDelay: true });
    let allocatedPort: number;
    try {
      allocatedPort = await this.#ports.listen(server, this.#options.forwardHost, `${info.username}\0${requestedAddress}\0${requestedPort}`);
    } catch (error) {
      if (requestedKey !== undefined) client.forwards.delete(requestedKey);
      refuse(asError(error).message);
      return;
    }
    const key = requestedKey ?? forwardKey(requestedAddress, allocatedPort);
    // While we were listening: disconnected, cancelled, or (port 0) the key got taken.
    const stillWanted = requestedKey === undefined ? !client.forwards.has(key) : client.forwards.get(key) === 'pending';
    if (client.closed || this.#isClosing() || !stillWanted) {
      server.close();
      this.#ports.release(allocatedPort);
      if (stillWanted) client.forwards.delete(key);
      refuse('cancelled');
      return;
    }
    const forward: Forward = {
      info: Object.freeze({
        connectionId: client.id,
        clientKeyFingerprint: info.clientKeyFingerprint,
        username: info.username,
        remoteAddress: info.remoteAddress,
        remotePort: info.remotePort,
        requestedAddress,
        requestedPort,
        allocatedPort,
        labels: parseLabels(info.username),
        ...(info.identity === undefined ? {} : { identity: info.identity }),
      }),
      boundPort: requestedPort === 0 ? allocatedPort : requestedPort,
      server,
      sockets,
    };
    client.forwards.set(key, forward);
    server.on('connection', (socket) => {
      this.#onStream(client, forward, socket);
    });
    server.on('error', (error) => {
      this.#notify(() => this.#events.onError?.(error));
    });
    accept?.(allocatedPort);
    this.#notify(() => this.#events.onForwardAdded?.(forward.info));
  }

  #cancelForward(client: Client, request: TcpipBindInfo, accept: (() => void) | undefined, reject: (() => void) | undefined): void {
    const key = forwardKey(request.bindAddr, request.bindPort);
    const forward = client.forwards.get(key);
    if (forward === undefined) {
      reject?.();
      this.#refuse({ connectionId: client.id, kind: 'global', name: 'cancel-tcpip-forward', reason: `${key}: no such forward` });
      return;
    }
    // A pending forward sees the key gone when its listen completes and gives the port back.
    client.forwards.delete(key);
    if (forward !== 'pending') this.#release(forward, 'cancelled');
    accept?.();
  }

  #onStream(client: Client, forward: Forward, socket: Socket): void {
    this.#counters.streamsTotal++;
    this.#streams.add(socket);
    forward.sockets.add(socket);
    socket.on('error', () => {
      // Reported through 'close'; a reset from a local client is routine.
    });
    socket.on('close', () => {
      this.#counters.closedBytesIn += socket.bytesRead;
      this.#counters.closedBytesOut += socket.bytesWritten;
      this.#streams.delete(socket);
      forward.sockets.delete(socket);
    });
    const { requestedAddress } = forward.info;
    client.conn.forwardOut(requestedAddress, forward.boundPort, socket.remoteAddress ?? '', socket.remotePort ?? 0, (error, channel) => {
      if (error !== undefined) {
        this.#counters.streamOpenFailuresTotal++;
        socket.destroy();
        return;
      }
      if (socket.destroyed) {
        channel.close();
        return;
      }
      splice(socket, channel, () => undefined);
    });
  }

  #releaseAll(client: Client, reason: ForwardRemovalReason): void {
    for (const [key, forward] of client.forwards) {
      client.forwards.delete(key);
      if (forward !== 'pending') this.#release(forward, reason);
    }
  }

  #release(forward: Forward, reason: ForwardRemovalReason): void {
    forward.server.close();
    for (const socket of forward.sockets) socket.destroy();
    this.#ports.release(forward.info.allocatedPort);
    this.#notify(() => this.#events.onForwardRemoved?.(forward.info, reason));
  }

  /** Read through a call: TypeScript would keep a narrowing of the field across `await`. */
  #isClosing(): boolean {
    return this.#closing;
  }

  #refuse(request: RefusedRequest): void {
    this.#counters.refusedRequestsTotal++;
    this.#notify(() => this.#events.onRequestRefused?.(request));
  }

  /** Runs a hook; a throw or a rejected promise goes to `onError` (whose own throws are dropped), never into the gateway. */
  #notify(hook: () => unknown): void {
    const report = (error: unknown) => {
      try {
        this.#events.onError?.(asError(error));
      } catch {
        // Nowhere left to report to.
      }
    };
    try {
      const result = hook();
      if (result instanceof Promise) result.catch(report);
    } catch (error) {
      report(error);
    }
  }
}

import { once } from 'node:events';
import { chmod, lstat, mkdir, stat, unlink } from 'node:fs/promises';
import { createServer, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import type { ListenAddress } from './config/load.js';
import { codeOf, messageOf } from './cross-realm-errors.js';
import type { Logger } from './logger.js';

/** A listening HTTP server. */
export interface Listener {
  /** Where it listens; for TCP the actual port (useful when asked for port 0). */
  readonly address: ListenAddress;
  readonly server: Server;
  /**
   * Stops accepting connections, lets in-flight requests finish for up to
   * `timeoutMs`, then cuts what is left; removes the socket file. Idempotent.
   */
  close(timeoutMs: number): Promise<void>;
}

/** Options of {@link listen}. */
export interface ListenOptions {
  /** Permissions of the unix socket file; default 0600 (owner only). */
  socketMode?: number;
  /**
   * How long an idle keep-alive connection stays open; default 120 s, longer
   * than Go's 90 s idle timeout so InterLink's client always closes first and
   * never sends a request on a connection the server is closing.
   */
  keepAliveTimeoutMs?: number;
}

/** `unix:///path` or `http://host:port`, for log lines and messages. */
export function describeAddress(address: ListenAddress): string {
  if (address.kind === 'unix') return `unix://${address.path}`;
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return `http://${host}:${address.port}`;
}

/** Whether something answers on the unix socket at `path`. */
function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => {
      resolve(false);
    });
  });
}

/** Makes room for the socket: creates its directory and removes a stale socket (never a live one or another file). */
async function prepareSocketPath(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  let info;
  try {
    info = await lstat(path);
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return;
    throw error;
  }
  if (!info.isSocket()) throw new Error(`${path} exists and is not a socket; refusing to replace it`);
  if (await socketAnswers(path)) throw new Error(`another server is already listening on ${path}`);
  await unlink(path);
}

/** Runs `start` (a `server.listen` call) and resolves once listening; rejects on its error. */
async function listening(server: Server, start: () => void): Promise<void> {
  const ready = once(server, 'listening');
  start();
  await ready;
}

/**
 * Serves `handler` on a TCP port or a unix socket. A unix socket is created
 * with owner-only permissions (the umask is narrowed while binding, and the
 * mode set again before the first connection is accepted, as accepting needs
 * a turn of the event loop); a stale socket file is replaced.
 */
export async function listen(handler: RequestListener, address: ListenAddress, options: ListenOptions = {}): Promise<Listener> {
  const server = createServer(handler);
  server.keepAliveTimeout = options.keepAliveTimeoutMs ?? 120_000;
  let closing = false;
  const active = new Set<ServerResponse>();
  server.on('request', (_req, res: ServerResponse) => {
    // While shutting down, an answer closes its connection instead of keeping it alive.
    if (closing) res.shouldKeepAlive = false;
    active.add(res);
    res.once('close', () => {
      active.delete(res);
      // An answer that was already streaming leaves an idle connection behind: close it too.
      if (closing) {
        setImmediate(() => {
          server.closeIdleConnections();
        });
      }
    });
  });

  let bound: ListenAddress;
  let socketId: { dev: number; ino: number } | undefined;
  try {
    if (address.kind === 'unix') {
      const mode = options.socketMode ?? 0o600;
      await prepareSocketPath(address.path);
      await listening(server, () => {
        let previous: number | undefined;
        try {
          previous = process.umask(~mode & 0o777);
        } catch {
          // Worker threads cannot change the umask; the chmod below still runs before any accept.
        }
        try {
          server.listen(address.path);
        } finally {
          if (previous !== undefined) process.umask(previous);
        }
      });
      await chmod(address.path, mode);
      const { dev, ino } = await stat(address.path);
      socketId = { dev, ino };
      bound = address;
    } else {
      await listening(server, () => server.listen(address.port, address.host));
      const info = server.address();
      const port = info !== null && typeof info === 'object' ? info.port : address.port;
      bound = { kind: 'tcp', host: address.host, port };
    }
  } catch (error) {
    server.close();
    throw new Error(`cannot listen on ${describeAddress(address)}: ${messageOf(error)}`, { cause: error });
  }

  let closed: Promise<void> | undefined;
  return {
    address: bound,
    server,
    close(timeoutMs) {
      closed ??= (async () => {
        closing = true;
        for (const res of active) if (!res.headersSent) res.shouldKeepAlive = false;
        const done = new Promise<void>((resolve) => {
          server.close(() => {
            resolve();
          });
        });
        server.closeIdleConnections();
        const timer = setTimeout(() => {
          server.closeAllConnections();
        }, timeoutMs);
        await done;
        clearTimeout(timer);
        if (address.kind === 'unix' && socketId !== undefined) await removeOwnSocket(address.path, socketId);
      })();
      return closed;
    },
  };
}

/** Removes the socket file if it is still the one this process created (not a successor's). */
async function removeOwnSocket(path: string, id: { dev: number; ino: number }): Promise<void> {
  try {
    const info = await lstat(path);
    if (info.isSocket() && info.dev === id.dev && info.ino === id.ino) await unlink(path);
  } catch (error) {
    if (codeOf(error) !== 'ENOENT') throw error;
  }
}

/** Something that delivers process signals (the `process` object, or an EventEmitter in tests). */
export interface SignalSource {
  on(signal: NodeJS.Signals, listener: () => void): unknown;
}

/** Options of {@link shutdownOnSignals}. */
export interface ShutdownOnSignalsOptions {
  source: SignalSource;
  /** The graceful shutdown: stop listening, finish in-flight requests, stop the provider. */
  shutdown: () => Promise<void>;
  exit: (code: number) => void;
  logger: Logger;
  /** Default SIGTERM and SIGINT. */
  signals?: readonly NodeJS.Signals[];
}

/**
 * On the first SIGTERM/SIGINT runs the graceful shutdown and exits 0 (1 if
 * it failed); a second signal exits 1 at once.
 */
export function shutdownOnSignals(options: ShutdownOnSignalsOptions): void {
  let started = false;
  for (const signal of options.signals ?? (['SIGTERM', 'SIGINT'] as const)) {
    options.source.on(signal, () => {
      if (started) {
        options.logger.warn({ signal }, 'second signal during shutdown; exiting now');
        options.exit(1);
        return;
      }
      started = true;
      options.logger.info({ signal }, 'shutting down');
      options.shutdown().then(
        () => {
          options.logger.info('shut down');
          options.exit(0);
        },
        (error: unknown) => {
          options.logger.error({ err: error }, 'shutdown failed');
          options.exit(1);
        },
      );
    });
  }
}

/**
 * Test helpers: temp dirs, keys made by ssh-keygen, a tiny HTTP server and
 * client, free loopback ports, child processes that are always reaped, and
 * an OpenSSH sshd run from its own config. Loopback only.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { createServer as createHttpServer, request, type Server as HttpServer } from 'node:http';
import { createHash } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { EventEmitter } from 'node:events';
import { stopProcessGroup } from './process-group.js';

/** A fresh temp dir, and its removal. */
export function tempDir(prefix = 'tunnel-test-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => { rmSync(path, { recursive: true, force: true }); } };
}

/** A key pair made by `ssh-keygen -t ed25519`. */
export interface KeyPair {
  readonly privatePath: string;
  readonly publicPath: string;
  readonly privateText: string;
  /** `ssh-ed25519 AAAA... comment` */
  readonly publicLine: string;
  /** `SHA256:...` as `ssh-keygen -l` prints it. */
  readonly fingerprint: string;
}

/** Generates an ed25519 key pair with ssh-keygen in `dir`. */
export function keygen(dir: string, name: string): KeyPair {
  const privatePath = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${name}@test`, '-f', privatePath]);
  const fingerprint = execFileSync('ssh-keygen', ['-l', '-f', `${privatePath}.pub`], { encoding: 'utf8' }).split(' ')[1] ?? '';
  return {
    privatePath,
    publicPath: `${privatePath}.pub`,
    privateText: readFileSync(privatePath, 'utf8'),
    publicLine: readFileSync(`${privatePath}.pub`, 'utf8').trim(),
    fingerprint,
  };
}

/** A port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => { resolve(); }));
  return port;
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => { resolve(false); });
  });
}

/** Polls `check` every 50 ms until it is truthy; rejects after `timeoutMs`. */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs = 10_000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The next `event` of `emitter` (whose payload passes `filter`), or a rejection after `timeoutMs`. */
export function nextEvent<T>(emitter: EventEmitter, event: string, timeoutMs = 10_000, filter: (payload: T) => boolean = () => true): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for '${event}'`));
    }, timeoutMs);
    const listener = (payload: T) => {
      if (!filter(payload)) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(payload);
    };
    emitter.on(event, listener);
  });
}

/** A local HTTP server answering `<name> <path>` to every GET. */
export async function startHttp(name: string): Promise<{ port: number; server: HttpServer; close: () => Promise<void> }> {
  const server = createHttpServer((req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(`${name} ${req.url ?? ''}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    server,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => { resolve(); });
      }),
  };
}

/** GET http://127.0.0.1:port/path with a fresh connection; resolves to status and body. */
export function httpGet(port: number, path = '/', timeoutMs = 5_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }); });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** A child process with its output collected; `stop()` kills its whole process group. */
export interface Child {
  readonly process: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves to the exit code (or -1 when killed by a signal) once it has exited. */
  readonly exited: Promise<number>;
  /** Resolves when `pattern` appears in stderr or stdout. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

const children = new Set<Child>();

/** Spawns `command` in its own process group (so stop() reaches its children too). */
export function run(command: string, args: readonly string[], env?: NodeJS.ProcessEnv): Child {
  const proc = spawn(command, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
  let out = '';
  let err = '';
  proc.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  proc.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const exited = new Promise<number>((resolve) => proc.once('exit', (code) => { resolve(code ?? -1); }));
  let alive = true;
  void exited.then(() => (alive = false));
  const child: Child = {
    process: proc,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForOutput: (pattern, timeoutMs = 10_000) =>
      waitFor(
        () => {
          const match = pattern.exec(err) ?? pattern.exec(out);
          if (match === null && !alive) throw new Error(`${command} exited before printing ${pattern}; output:\n${err}${out}`);
          return match;
        },
        timeoutMs,
        `${pattern} from ${command}`,
      ),
    stop: async (signal = 'SIGTERM') => {
      children.delete(child);
      if (alive) await stopProcessGroup(proc, signal, 3_000);
    },
  };
  children.add(child);
  return child;
}

/** Stops every child still running (call in afterAll). */
export async function stopAllChildren(): Promise<void> {
  await Promise.all([...children].map((child) => child.stop('SIGKILL')));
}

/** Common options for the OpenSSH client: no config files, strict host checking, no prompts. */
export function sshOptions(knownHosts: string, key: string): string[] {
  return [
    '-F', '/dev/null',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', `UserKnownHostsFile=${knownHosts}`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'BatchMode=yes',
    '-o', 'IdentitiesOnly=yes',
    '-o', 'ExitOnForwardFailure=yes',
    '-o', 'ConnectTimeout=5',
    '-i', key,
  ];
}

/** Writes a known_hosts file trusting `publicLine` for 127.0.0.1:port. */
export function writeKnownHosts(path: string, port: number, publicLine: string): void {
  const [type, data] = publicLine.split(' ');
  writeFileSync(path, `[127.0.0.1]:${port} ${type ?? ''} ${data ?? ''}\n`);
}

/** An OpenSSH sshd on 127.0.0.1, run from its own config in `dir`. */
export interface Sshd {
  readonly port: number;
  readonly child: Child;
  readonly hostKey: KeyPair;
  /** The user the bastion logs in as (the one running the tests). */
  readonly user: string;
  stop(): Promise<void>;
  /** Starts it again with the same config, host key and port. */
  restart(): Promise<Sshd>;
}

/** Pids of the processes whose parent is `pid` (from /proc). */
function childPids(pid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Fields after the command name (which may hold spaces) start after the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) pids.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

/** Where sshd is; tests that need it are skipped when it is missing. */
export const SSHD = '/usr/sbin/sshd';

/** Starts sshd with its own host key and authorised keys, logging to stderr (`-D -e`). */
export async function startSshd(dir: string, options: { authorizedKeys: string; hostKey?: KeyPair; port?: number; extra?: readonly string[] }): Promise<Sshd> {
  const hostKey = options.hostKey ?? keygen(dir, 'sshd_host_key');
  const port = options.port ?? (await freePort());
  const authorizedKeysPath = join(dir, 'authorized_keys');
  writeFileSync(authorizedKeysPath, options.authorizedKeys);
  const configPath = join(dir, 'sshd_config');
  writeFileSync(
    configPath,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey.privatePath}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${authorizedKeysPath}`,
      'StrictModes no',
      'UsePAM no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'PermitRootLogin prohibit-password',
      'AllowTcpForwarding remote',
      'GatewayPorts clientspecified',
      'PermitTTY no',
      'X11Forwarding no',
      'LogLevel VERBOSE',
      ...(options.extra ?? []),
      '',
    ].join('\n'),
  );
  // sshd insists on its privilege-separation directory.
  if (!existsSync('/run/sshd')) mkdirSync('/run/sshd', { mode: 0o755 });
  const child = run(SSHD, ['-D', '-e', '-f', configPath]);
  await child.waitForOutput(/Server listening on 127\.0\.0\.1 port/);
  const user = userInfo().username;
  return {
    port,
    child,
    hostKey,
    user,
    // sshd's per-connection processes call setsid(): signal them one by one, as a
    // container runtime would when the gateway pod dies, then the listener.
    stop: async () => {
      const pid = child.process.pid;
      if (pid !== undefined) {
        for (const sessionPid of childPids(pid)) {
          try {
            process.kill(sessionPid, 'SIGKILL');
          } catch {
            // Already gone.
          }
        }
      }
      await child.stop('SIGKILL');
    },
    restart: () => startSshd(dir, { ...options, hostKey, port }),
  };
}

/** A TCP server that reads everything, then answers `<sha256 hex> <length>` and closes (needs TCP half-close). */
export async function startDigestServer(): Promise<{ port: number; server: Server; close: () => void }> {
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    const hash = createHash('sha256');
    let length = 0;
    socket.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      length += chunk.length;
    });
    socket.on('end', () => socket.end(`${hash.digest('hex')} ${length}`));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, server, close: () => server.close() };
}

/** Sends `payload`, half-closes, and resolves to what comes back before the peer closes. */
export function sendAndHalfClose(port: number, payload: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => socket.end(payload));
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
    socket.on('end', () => {
      resolve(answer);
    });
    socket.on('error', reject);
  });
}

/** What {@link startDigestServer} answers for `payload`. */
export function digestOf(payload: Buffer): string {
  return `${createHash('sha256').update(payload).digest('hex')} ${payload.length}`;
}

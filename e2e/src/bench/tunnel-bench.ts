#!/usr/bin/env node
/**
 * Tunnel benchmark, loopback only (run with `pnpm bench:tunnel` after a
 * build; not part of the tests). Three paths to the same local servers:
 *
 * - direct: a plain TCP connection (the floor);
 * - ours: the gateway and the bastion, each in its own process (the real
 *   entry points), `ssh2` on both ends;
 * - OpenSSH: `ssh -R` through an `sshd` run from its own config;
 *
 * with the same cipher forced on both SSH paths (`BENCH_CIPHER`, default
 * aes128-gcm@openssh.com). Measures single-stream and 8-stream throughput
 * (data flowing from the target back to the client, as an HTTP response
 * does), new connections per second (connect, 1-byte request, 1-byte
 * answer, close; 8 at a time), and the gateway's RSS with 200 idle tunnels
 * (200 bastion connections, one forward each). The three paths are up at
 * once and measured in turn within each run, so that a change in the
 * machine's background load weighs on all of them alike. For each SSH path
 * it also reports the CPU time its processes (and their children) used per
 * MiB and per connection: on a shared two-core machine that is steadier
 * than the rates, which move with whatever else runs.
 *
 * Environment: BENCH_CIPHER, BENCH_STREAM_MIB (256), BENCH_RUNS (3),
 * BENCH_RATE_SECONDS (3), BENCH_TUNNELS (200), BENCH_NODE_FLAGS and
 * BENCH_NODE_ENV (space-separated Node flags, and `NAME=value` pairs of
 * environment, for the gateway and bastion processes; default: as the image
 * runs them, see the tunnel's `src/bin/image-runtime.ts`; empty: plain `node`), BENCH_PARTS
 * (comma-separated subset of `direct,ours,openssh,memory`; default all).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { cpus, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bastion, IMAGE_NODE_FLAGS, IMAGE_RUNTIME_ENV } from '@interlink-k8s/tunnel';
import { eventually } from '../harness/eventually.js';
import { freePorts } from '../harness/ports.js';
import { stopProcessGroup } from '../harness/process-group.js';

const MiB = 1024 * 1024;
const CIPHER = process.env.BENCH_CIPHER ?? 'aes128-gcm@openssh.com';
const STREAM_MIB = Number(process.env.BENCH_STREAM_MIB ?? 256);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const RATE_SECONDS = Number(process.env.BENCH_RATE_SECONDS ?? 3);
const TUNNELS = Number(process.env.BENCH_TUNNELS ?? 200);
const words = (text: string) => text.split(' ').filter((word) => word !== '');
const NODE_FLAGS = process.env.BENCH_NODE_FLAGS === undefined ? IMAGE_NODE_FLAGS : words(process.env.BENCH_NODE_FLAGS);
const NODE_ENV: Readonly<Record<string, string>> =
  process.env.BENCH_NODE_ENV === undefined ? IMAGE_RUNTIME_ENV : Object.fromEntries(words(process.env.BENCH_NODE_ENV).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
const PARTS = new Set((process.env.BENCH_PARTS ?? 'direct,ours,openssh,memory').split(',').map((part) => part.trim()));
const STREAMS = 8;
const RATE_CONCURRENCY = 8;
const SSHD = '/usr/sbin/sshd';

// The tunnel's built entry points, as the image runs them.
const binDir = fileURLToPath(new URL('../../../packages/tunnel/dist/bin/', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'tunnel-bench-'));
const children = new Set<ChildProcess>();

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function keygen(name: string): { path: string; pub: string } {
  const path = join(work, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', path]);
  return { path, pub: readFileSync(`${path}.pub`, 'utf8').trim() };
}

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => { resolve(false); });
  });
}

/** One free port on loopback (the harness's allocator). */
async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  if (port === undefined) throw new Error('no free port');
  return port;
}

const until = <T>(check: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> =>
  eventually(what, async () => check(), timeoutMs, { intervalMs: 50, retryOnError: false });

/** Spawns a long-running helper; its stdout lines go to `onLine`. */
function start(command: string, args: readonly string[], env: NodeJS.ProcessEnv, onLine?: (line: string) => void): ChildProcess {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let buffered = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      onLine?.(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
    }
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  child.once('exit', (code, signal) => {
    if (code !== 0 && signal === null) process.stderr.write(`${command} exited ${code}: ${stderr}\n`);
  });
  return child;
}

const stop = (child: ChildProcess): Promise<void> => stopProcessGroup(child);

/** The process ids of children started by {@link start}. */
function processesOf(...started: ChildProcess[]): number[] {
  return started.map((child) => child.pid ?? 0).filter((pid) => pid > 0);
}

/** Resident memory of a process in MiB: all of it, the anonymous part (without the pages of the `node` binary and libraries mapped from disk), and the highest it has been. */
function rssMiB(pid: number): { total: number; anon: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { total: kib('VmRSS') / 1024, anon: kib('RssAnon') / 1024, peak: kib('VmHWM') / 1024 };
}

// --- target servers ---------------------------------------------------------

const CHUNK = Buffer.alloc(MiB, 0x5a);

/** Reads `N\n`, answers N bytes, closes. */
async function startSource(): Promise<Server> {
  const server = createServer({ noDelay: true }, (socket) => {
    socket.on('error', () => undefined);
    let header = '';
    const onData = (chunk: Buffer) => {
      header += chunk.toString('latin1');
      const nl = header.indexOf('\n');
      if (nl < 0) return;
      socket.off('data', onData);
      let remaining = Number(header.slice(0, nl));
      const pump = () => {
        while (remaining > 0) {
          const n = Math.min(remaining, CHUNK.length);
          remaining -= n;
          if (!socket.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) {
            socket.once('drain', pump);
            return;
          }
        }
        socket.end();
      };
      pump();
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** Answers one byte to the first byte, then closes. */
async function startPing(): Promise<Server> {
  const server = createServer({ noDelay: true }, (socket) => {
    socket.on('error', () => undefined);
    socket.once('data', () => socket.end('y'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

// --- measurements -------------------------------------------------------------

/** Downloads `bytes` through `port`; resolves once the server has closed. */
function download(port: number, bytes: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let received = 0;
    const socket = connect({ port, host: '127.0.0.1', noDelay: true }, () => socket.write(`${bytes}\n`));
    socket.on('data', (chunk: Buffer) => (received += chunk.length));
    socket.on('end', () => {
      if (received === bytes) resolve();
      else reject(new Error(`received ${received} of ${bytes} bytes`));
    });
    socket.on('error', reject);
  });
}

async function throughput(port: number, streams: number, totalMiB: number): Promise<number> {
  const each = Math.floor((totalMiB * MiB) / streams);
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: streams }, () => download(port, each)));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return (each * streams) / MiB / seconds;
}

function ping(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const socket = connect({ port, host: '127.0.0.1', noDelay: true }, () => socket.write('x'));
    socket.on('data', () => (answered = true));
    socket.on('close', () => {
      if (answered) resolve();
      else reject(new Error('no answer'));
    });
    socket.on('error', reject);
  });
}

async function connectionRate(port: number, seconds: number): Promise<{ perSecond: number; count: number }> {
  const deadline = Date.now() + seconds * 1000;
  let done = 0;
  let failed = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: RATE_CONCURRENCY }, async () => {
      while (Date.now() < deadline) {
        try {
          await ping(port);
          done++;
        } catch {
          failed++;
        }
      }
    }),
  );
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  if (failed > 0) log(`  (${failed} failed connections on port ${port})`);
  return { perSecond: done / elapsed, count: done };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

interface PathResult {
  single: number[];
  multi: number[];
  rate: number[];
  /** CPU milliseconds per MiB (throughput runs) and per connection, summed over the path's processes. */
  singleCpu: number[];
  multiCpu: number[];
  rateCpu: number[];
}

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** CPU seconds (user + system) used so far by the given processes and their live descendants (sshd forks per connection). */
function treeCpuSeconds(roots: readonly number[]): number {
  const procs = new Map<number, { parent: number; ticks: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // Fields after the command name: state ppid pgrp ... utime (14th field) stime (15th).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    procs.set(Number(entry), { parent: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
  }
  let ticks = 0;
  for (const [pid, proc] of procs) {
    for (let p: number | undefined = pid; p !== undefined && p > 1; p = procs.get(p)?.parent) {
      if (roots.includes(p)) {
        ticks += proc.ticks;
        break;
      }
    }
  }
  return ticks / CLOCK_TICKS;
}

/** Runs `work` and returns its result with the CPU seconds the process trees used meanwhile (0 without any). */
async function withCpu<T>(roots: readonly number[], work: () => Promise<T>): Promise<[T, number]> {
  const before = treeCpuSeconds(roots);
  const result = await work();
  return [result, roots.length === 0 ? 0 : treeCpuSeconds(roots) - before];
}

/** A path to the target servers: its two forwarded ports, and the processes whose CPU time (with their children's) is its cost. */
interface Path {
  name: string;
  sourcePort: number;
  pingPort: number;
  /** The SSH processes; none for direct TCP. */
  roots: readonly number[];
  stop: () => Promise<void>;
  /** The highest RSS of each of its processes so far, for the report. */
  peakRss?: () => string;
}

/**
 * Measures the paths interleaved (each run measures every path in turn), so
 * that a change in the machine's background load weighs on all of them alike.
 */
async function measure(paths: readonly Path[]): Promise<Map<Path, PathResult>> {
  const results = new Map<Path, PathResult>();
  for (const path of paths) {
    // Warm-up, so that the JIT and the heap sizes have settled before the first run.
    await download(path.sourcePort, 128 * MiB);
    await connectionRate(path.pingPort, 1);
    results.set(path, { single: [], multi: [], rate: [], singleCpu: [], multiCpu: [], rateCpu: [] });
  }
  for (let run = 0; run < RUNS; run++) {
    for (const path of paths) {
      const result = results.get(path);
      if (result === undefined) continue;
      const { sourcePort, pingPort, roots } = path;
      const [single, singleCpu] = await withCpu(roots, () => throughput(sourcePort, 1, STREAM_MIB));
      result.single.push(single);
      result.singleCpu.push((singleCpu * 1000) / STREAM_MIB);
      const [multi, multiCpu] = await withCpu(roots, () => throughput(sourcePort, STREAMS, STREAM_MIB));
      result.multi.push(multi);
      result.multiCpu.push((multiCpu * 1000) / STREAM_MIB);
      const [rate, rateCpu] = await withCpu(roots, () => connectionRate(pingPort, RATE_SECONDS));
      result.rate.push(rate.perSecond);
      result.rateCpu.push(rate.count > 0 ? (rateCpu * 1000) / rate.count : 0);
    }
  }
  const fmt = (values: number[], digits = 0) => values.map((v) => v.toFixed(digits)).join(' / ');
  for (const [path, result] of results) {
    log(`- ${path.name}`);
    log(`  single stream MiB/s: ${fmt(result.single)}; ${STREAMS} streams MiB/s: ${fmt(result.multi)}; connections/s: ${fmt(result.rate)}`);
    if (path.roots.length > 0) {
      log(`  CPU ms per MiB: ${fmt(result.singleCpu, 2)} (single), ${fmt(result.multiCpu, 2)} (${STREAMS} streams); CPU ms per connection: ${fmt(result.rateCpu, 3)}`);
    }
  }
  return results;
}

// --- the SSH paths --------------------------------------------------------------

interface GatewayProcess {
  child: ChildProcess;
  sshPort: number;
  /** Allocated port by requested port, as the gateway logs them. */
  allocated: Map<number, number>;
  count: () => number;
}

async function startGateway(hostKey: string, authorized: string): Promise<GatewayProcess> {
  const sshPort = await freePort();
  const allocated = new Map<number, number>();
  let added = 0;
  let listening = false;
  const child = start(
    process.execPath,
    [...NODE_FLAGS, join(binDir, 'gateway.js')],
    {
      ...process.env,
      ...NODE_ENV,
      TUNNEL_GATEWAY_HOST_KEY: hostKey,
      TUNNEL_GATEWAY_AUTHORIZED_KEYS: authorized,
      TUNNEL_GATEWAY_LISTEN_HOST: '127.0.0.1',
      TUNNEL_GATEWAY_LISTEN_PORT: String(sshPort),
      TUNNEL_GATEWAY_FORWARD_HOST: '127.0.0.1',
      TUNNEL_GATEWAY_PORT_RANGE: '43000-43999',
      TUNNEL_GATEWAY_HTTP_HOST: '127.0.0.1',
      TUNNEL_GATEWAY_HTTP_PORT: '0',
      TUNNEL_CIPHERS: CIPHER,
    },
    (line) => {
      const entry = JSON.parse(line) as { event?: string; requestedPort?: number; allocatedPort?: number };
      if (entry.event === 'listening') listening = true;
      if (entry.event === 'forwardAdded' && entry.requestedPort !== undefined && entry.allocatedPort !== undefined) {
        added++;
        allocated.set(entry.requestedPort, entry.allocatedPort);
      }
    },
  );
  await until(() => (listening ? true : undefined), 'the gateway to listen');
  return { child, sshPort, allocated, count: () => added };
}

async function startSshd(hostKey: string, authorized: string): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const config = join(work, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${join(work, 'sshd.pid')}`,
      `AuthorizedKeysFile ${authorized}`,
      `Ciphers ${CIPHER}`,
      'StrictModes no',
      'UsePAM no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'AllowTcpForwarding remote',
      'PermitTTY no',
      '',
    ].join('\n'),
  );
  if (!existsSync('/run/sshd')) mkdirSync('/run/sshd', { mode: 0o755 });
  const child = start(SSHD, ['-D', '-e', '-f', config], process.env);
  await until(async () => ((await isListening(port)) ? true : undefined), 'sshd to listen');
  return { child, port };
}

interface Setup {
  sourcePort: number;
  pingPort: number;
  gatewayHost: { path: string; pub: string };
  sshdHost: { path: string; pub: string };
  client: { path: string; pub: string };
  authorized: string;
}

/** Ours: the gateway and the bastion, each in its own process. */
async function startOurs(s: Setup): Promise<Path> {
  const gateway = await startGateway(s.gatewayHost.path, s.authorized);
  const bastion = start(
    process.execPath,
    [...NODE_FLAGS, join(binDir, 'bastion.js')],
    {
      ...process.env,
      ...NODE_ENV,
      TUNNEL_BASTION_GATEWAY_HOST: '127.0.0.1',
      TUNNEL_BASTION_GATEWAY_PORT: String(gateway.sshPort),
      TUNNEL_BASTION_GATEWAY_HOST_KEY: `${s.gatewayHost.path}.pub`,
      TUNNEL_BASTION_PRIVATE_KEY: s.client.path,
      TUNNEL_BASTION_FORWARDS: `8080:${s.sourcePort},8081:${s.pingPort}`,
      TUNNEL_CIPHERS: CIPHER,
      TUNNEL_LOG_LEVEL: 'warn',
    },
  );
  const oursSource = await until(() => gateway.allocated.get(8080), 'forward 8080');
  const oursPing = await until(() => gateway.allocated.get(8081), 'forward 8081');
  return {
    name: 'ours (ssh2 gateway + ssh2 bastion)',
    sourcePort: oursSource,
    pingPort: oursPing,
    roots: processesOf(gateway.child, bastion),
    peakRss: () => `gateway ${rssMiB(gateway.child.pid ?? 0).peak.toFixed(1)} MiB, bastion ${rssMiB(bastion.pid ?? 0).peak.toFixed(1)} MiB`,
    stop: async () => {
      await stop(bastion);
      await stop(gateway.child);
    },
  };
}

/** OpenSSH: sshd and ssh -R. */
async function startOpenssh(s: Setup): Promise<Path> {
  const sshd = await startSshd(s.sshdHost.path, s.authorized);
  const knownHosts = join(work, 'known_hosts');
  writeFileSync(knownHosts, `[127.0.0.1]:${sshd.port} ${s.sshdHost.pub.split(' ').slice(0, 2).join(' ')}\n`);
  const fwdSource = await freePort();
  const fwdPing = await freePort();
  const ssh = start(
    'ssh',
    [
      '-F', '/dev/null', '-N', '-p', String(sshd.port), '-i', s.client.path,
      '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'ExitOnForwardFailure=yes',
      '-c', CIPHER,
      '-R', `127.0.0.1:${fwdSource}:127.0.0.1:${s.sourcePort}`, '-R', `127.0.0.1:${fwdPing}:127.0.0.1:${s.pingPort}`,
      `${userInfo().username}@127.0.0.1`,
    ],
    process.env,
  );
  await until(async () => ((await isListening(fwdSource)) && (await isListening(fwdPing)) ? true : undefined), 'ssh -R forwards');
  return {
    name: 'OpenSSH (sshd + ssh -R)',
    sourcePort: fwdSource,
    pingPort: fwdPing,
    roots: processesOf(sshd.child, ssh),
    stop: async () => {
      await stop(ssh);
      await stop(sshd.child);
    },
  };
}

/** Gateway RSS in MiB: idle, then with TUNNELS idle tunnels (one bastion connection each). */
async function measureMemory(s: Setup): Promise<{ empty: ReturnType<typeof rssMiB>; tunnels: ReturnType<typeof rssMiB> }> {
  const idleGateway = await startGateway(s.gatewayHost.path, s.authorized);
  const pid = idleGateway.child.pid ?? 0;
  await sleep(1_000);
  const empty = rssMiB(pid);
  const bastions: Bastion[] = [];
  for (let i = 0; i < TUNNELS; i++) {
    const b = Bastion.fromConfig({
      host: '127.0.0.1',
      port: idleGateway.sshPort,
      labels: { pod: `pod-${i}` },
      privateKey: readFileSync(s.client.path, 'utf8'),
      hostKeys: s.gatewayHost.pub,
      forwards: [{ bindPort: 8080, targetPort: s.sourcePort }],
    });
    b.start();
    bastions.push(b);
    if (i % 20 === 19) await until(() => (idleGateway.count() > i - 5 ? true : undefined), 'tunnels', 60_000);
  }
  await until(() => (idleGateway.count() >= TUNNELS ? true : undefined), `${TUNNELS} tunnels`, 60_000);
  await sleep(3_000);
  const tunnels = rssMiB(pid);
  const sample = [...idleGateway.allocated.values()][0];
  if (sample !== undefined) await download(sample, MiB); // the tunnels are live, not just listed
  await Promise.all(bastions.map((b) => b.stop()));
  await stop(idleGateway.child);
  return { empty, tunnels };
}

async function main(): Promise<void> {
  // `ssh -V` writes its version to stderr.
  const opensshVersion = spawnSync('ssh', ['-V'], { encoding: 'utf8' }).stderr.trim();
  log(`tunnel benchmark: node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ${opensshVersion}, cipher ${CIPHER}`);
  const runtime = [...NODE_FLAGS, ...Object.entries(NODE_ENV).map(([name, value]) => `${name}=${value}`)];
  log(`  gateway and bastion run with: ${runtime.length > 0 ? runtime.join(' ') : 'plain node'}`);
  log(`  ${STREAM_MIB} MiB per throughput run, ${STREAMS} streams for the parallel run, ${RATE_SECONDS} s per connection-rate run (${RATE_CONCURRENCY} at a time), ${RUNS} runs; medians in the table`);

  const source = await startSource();
  const pingServer = await startPing();
  const client = keygen('bastion');
  const setup: Setup = {
    sourcePort: (source.address() as AddressInfo).port,
    pingPort: (pingServer.address() as AddressInfo).port,
    gatewayHost: keygen('gateway_host'),
    sshdHost: keygen('sshd_host'),
    client,
    authorized: join(work, 'authorized_keys'),
  };
  writeFileSync(setup.authorized, `${client.pub}\n`);

  const directPath: Path | undefined = PARTS.has('direct')
    ? { name: 'direct TCP (floor)', sourcePort: setup.sourcePort, pingPort: setup.pingPort, roots: [], stop: () => Promise.resolve() }
    : undefined;
  const oursPath = PARTS.has('ours') ? await startOurs(setup) : undefined;
  const opensshPath = PARTS.has('openssh') ? await startOpenssh(setup) : undefined;
  const paths = [directPath, oursPath, opensshPath].filter((path) => path !== undefined);
  const results = await measure(paths);
  const peakRss = oursPath?.peakRss?.();
  for (const path of paths) await path.stop();
  const direct = directPath && results.get(directPath);
  const ours = oursPath && results.get(oursPath);
  const openssh = opensshPath && results.get(opensshPath);
  const memory = PARTS.has('memory') ? await measureMemory(setup) : undefined;
  source.close();
  pingServer.close();

  const cpu = (values: number[], digits: number) => (values.length > 0 && median(values) > 0 ? median(values).toFixed(digits) : '-');
  const row = (name: string, r: PathResult) =>
    `| ${name} | ${median(r.single).toFixed(0)} | ${median(r.multi).toFixed(0)} | ${median(r.rate).toFixed(0)} | ${cpu(r.singleCpu, 2)} | ${cpu(r.multiCpu, 2)} | ${cpu(r.rateCpu, 3)} |`;
  log('');
  log(`| path | single stream MiB/s | ${STREAMS} streams MiB/s | new connections/s | CPU ms/MiB, single | CPU ms/MiB, ${STREAMS} streams | CPU ms/connection |`);
  log('|---|---|---|---|---|---|---|');
  if (direct !== undefined) log(row('direct TCP (floor)', direct));
  if (ours !== undefined) log(row(`ours, ssh2 (${CIPHER})`, ours));
  if (openssh !== undefined) log(row(`OpenSSH sshd + ssh -R (${CIPHER})`, openssh));
  const ratio = (a: number[], b: number[]) => (median(a) / median(b)).toFixed(2);
  log('');
  if (ours !== undefined && openssh !== undefined) {
    log(`ours / OpenSSH: single stream ${ratio(ours.single, openssh.single)}x, ${STREAMS} streams ${ratio(ours.multi, openssh.multi)}x, connections/s ${ratio(ours.rate, openssh.rate)}x`);
    log(`CPU cost, ours / OpenSSH: per MiB ${ratio(ours.singleCpu, openssh.singleCpu)}x (single), ${ratio(ours.multiCpu, openssh.multiCpu)}x (${STREAMS} streams), per connection ${ratio(ours.rateCpu, openssh.rateCpu)}x`);
  }
  if (peakRss !== undefined) log(`highest RSS of ours over the runs above: ${peakRss}`);
  if (memory !== undefined) {
    const { empty, tunnels } = memory;
    log(`gateway RSS: ${empty.total.toFixed(1)} MiB with no tunnel, ${tunnels.total.toFixed(1)} MiB with ${TUNNELS} idle tunnels (${TUNNELS} SSH connections)`);
    log(`  of which anonymous (not mapped from files such as the node binary): ${empty.anon.toFixed(1)} MiB and ${tunnels.anon.toFixed(1)} MiB`);
  }
}

async function cleanup(): Promise<void> {
  await Promise.all([...children].map((child) => stop(child)));
  rmSync(work, { recursive: true, force: true });
}

main().then(
  async () => {
    await cleanup();
    process.exit(0);
  },
  async (error: unknown) => {
    process.stderr.write(`tunnel-bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    await cleanup();
    process.exit(1);
  },
);

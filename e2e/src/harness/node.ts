import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ControlPlane } from './control-plane.js';
import { runScript, scriptPath } from './scripts.js';

/** How to start a real node. */
export interface RemoteNodeOptions {
  /** The Node's name in the cluster; default `remote-node`. */
  name?: string;
  /** Parent of the node's directory (`interlink-k8s-node-*`); defaults to `os.tmpdir()`. */
  baseDir?: string;
  /**
   * Run `node-prereqs.sh` (apt packages, needs root) and `build-images.sh`
   * (pause and busybox in the local registry) first; both are idempotent and
   * take a fraction of a second once done. Default true.
   */
  prepare?: boolean;
  /**
   * `remote-node.sh`'s NODE_SLOT: bridge `ilk8sN`, pod subnet 10.88.N.0/24 and
   * cgroup root of its own, so that several nodes (several test runs) can run
   * on one machine at once. Default `auto` (the lowest free slot).
   */
  slot?: number | 'auto';
  /** Receives progress lines (the scripts' own, then timings). */
  log?: (line: string) => void;
}

/** A containerd + kubelet node of a control plane, running on this machine. */
export interface RemoteNode {
  /** The Node's name. */
  name: string;
  /** Everything of the node: configs, containerd and kubelet state, logs (`kubelet.log`, `containerd.log`). */
  dir: string;
  /** Its InternalIP, on its own bridge (the kubelet listens there). */
  ip: string;
  /** Its slot (see {@link RemoteNodeOptions.slot}). */
  slot: string;
  /**
   * Stops the node with `remote-node.sh stop` (its pods, containerd, kubelet,
   * network, the Node object) and removes {@link RemoteNode.dir} unless
   * `KEEP_SANDBOX=1`. Safe to call twice.
   */
  stop(): Promise<void>;
}

/**
 * Runs a REAL node for `controlPlane` on this machine (`e2e/scripts/remote-node.sh`):
 * containerd and kubelet v1.34, images from the local registry, pods on a
 * bridge of their own. Resolves once the Node is `Ready`. Needs root. The
 * control plane should run kube-scheduler (`scheduler: true`) for pods to be
 * bound to it.
 *
 * Before starting, prepares what is missing (see {@link RemoteNodeOptions.prepare})
 * and builds kubelet and kubectl (`build-binaries.sh`, minutes the first time).
 *
 * Safety net: a watchdog process (`setsid bash`, one per node) holds a pipe to
 * this process. When this process ends without calling `stop()` — crash,
 * `process.exit`, Ctrl-C, even SIGKILL — the pipe closes and the watchdog
 * runs `remote-node.sh stop` (its crash path when the control plane died too:
 * tasks killed through containerd, leftover processes, mounts, netns, bridge,
 * cgroups removed) and deletes the directory. Its log is `<dir>.watchdog.log`,
 * kept only when that stop failed. `stop()` disarms it once the node is gone
 * (so a failed `stop()` is retried by the watchdog when this process ends).
 * The only gap: the watchdog itself killed with SIGKILL as well (e.g. `kill -9`
 * of every process of the run); then `bash e2e/scripts/remote-node.sh stop <dir>`
 * cleans up (`cat /run/interlink-k8s-nodes/nodes/*` names the nodes that run).
 */
export async function startRemoteNode(controlPlane: ControlPlane, opts: RemoteNodeOptions = {}): Promise<RemoteNode> {
  const log = opts.log ?? ((): void => undefined);
  const name = opts.name ?? 'remote-node';
  const t0 = Date.now();
  const since = (): string => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  if (process.getuid?.() !== 0) {
    throw new Error('a real node needs root (containerd, kubelet, bridge, iptables): run as root');
  }

  if (opts.prepare ?? true) {
    const installed = await runScript('node-prereqs.sh', [], { log });
    if (installed !== '') log(`node prerequisites installed: ${installed}`);
  }
  const binDir = await runScript('build-binaries.sh', ['kubelet', 'kubectl'], { log });
  if (opts.prepare ?? true) await runScript('build-images.sh', [], { log });
  log(`node ${name}: prerequisites, kubelet and images ready in ${since()}`);

  const dir = await mkdtemp(join(opts.baseDir ?? tmpdir(), 'interlink-k8s-node-'));
  const env = { NODE_NAME: name, NODE_SLOT: String(opts.slot ?? 'auto'), K8S_BIN_DIR: binDir };
  const watchdog = armWatchdog(dir, env);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      const t = Date.now();
      // The watchdog stays armed until the node is gone: should this stop
      // fail (or this process die meanwhile), it stops the node again once
      // this process has ended (remote-node.sh runs one start/stop of a DIR at a time).
      await runScript('remote-node.sh', ['stop', dir], { env, log });
      if (process.env.KEEP_SANDBOX === '1') {
        log(`node ${name}: kept ${dir} (KEEP_SANDBOX=1)`);
      } else {
        await removeNodeDir(dir);
      }
      await watchdog.disarm();
      log(`node ${name}: stopped in ${Date.now() - t} ms`);
    })());

  try {
    const started = await runScript('remote-node.sh', ['start', dir, controlPlane.kubeconfigPath, controlPlane.apiServerUrl], {
      env,
      log,
    });
    if (started !== name) throw new Error(`remote-node.sh start printed "${started}", expected the node name ${name}`);
    const settings = await readNodeEnv(dir);
    log(`node ${name} Ready in ${since()} (slot ${settings.NODE_SLOT ?? '?'}, ${settings.NODE_IP ?? '?'}, ${dir})`);
    return { name, dir, ip: settings.NODE_IP ?? '', slot: settings.NODE_SLOT ?? '', stop };
  } catch (error) {
    await stop().catch((stopError: unknown) => {
      log(`node ${name}: stop after a failed start failed too: ${stopError instanceof Error ? stopError.message : String(stopError)}`);
    });
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`node ${name} failed to start: ${message}`, { cause: error });
  }
}

// Removes the node's directory once nothing is mounted under it any more
// (`stop` unmounts everything; a mount left would make rm reach into it).
async function removeNodeDir(dir: string): Promise<void> {
  const mounts = await readFile('/proc/self/mounts', 'utf8');
  const busy = mounts.split('\n').some((line) => line.split(' ')[1]?.startsWith(`${dir}/`) === true);
  if (busy) throw new Error(`${dir} still has mounts after remote-node.sh stop; not removed`);
  await rm(dir, { recursive: true, force: true });
}

async function readNodeEnv(dir: string): Promise<Record<string, string>> {
  const text = await readFile(join(dir, 'node.env'), 'utf8');
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1).replace(/^'(.*)'$/, '$1');
  }
  return out;
}

// The watchdog: its stdin is a pipe from this process. "disarm" on it ends it
// quietly; end-of-file (this process is gone) makes it stop the node.
const WATCHDOG = `
trap '' HUP INT TERM PIPE
IFS= read -r word || word=""
[ "$word" = disarm ] && exit 0
echo "[watchdog $(date +%H:%M:%S)] owner gone without stopping the node: remote-node.sh stop $NODE_DIR"
if bash "$NODE_SCRIPT" stop "$NODE_DIR"; then
  if [ "\${KEEP_SANDBOX:-}" != 1 ] && ! awk -v d="$NODE_DIR/" 'index($2, d) == 1 {f=1} END {exit !f}' /proc/self/mounts; then
    rm -rf "$NODE_DIR"
  fi
  rm -f "$NODE_DIR.watchdog.log"
fi
`;

interface Watchdog {
  /** Tells the watchdog to exit without doing anything, and waits until it has. */
  disarm(): Promise<void>;
}

function armWatchdog(dir: string, env: Record<string, string>): Watchdog {
  const logPath = `${dir}.watchdog.log`;
  // Output to a file (opened by bash, not by this process): it outlives us.
  const child = spawn('bash', ['-c', `exec >>"$NODE_DIR.watchdog.log" 2>&1; ${WATCHDOG}`], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
    env: { ...process.env, ...env, NODE_DIR: dir, NODE_SCRIPT: scriptPath('remote-node.sh') },
  });
  // While armed, neither the child nor the pipe keeps this process alive.
  child.unref();
  const { stdin } = child;
  if (stdin instanceof Socket) stdin.unref();
  stdin.on('error', () => undefined);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      resolve();
    });
  });
  let disarmed: Promise<void> | undefined;
  return {
    disarm: () =>
      (disarmed ??= (async () => {
        // Referenced again: this process must live until the stop that follows.
        child.ref();
        stdin.end('disarm\n');
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 5000)))]);
        clearTimeout(timer);
        await rm(logPath, { force: true });
      })()),
  };
}

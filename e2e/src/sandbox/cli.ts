/**
 * `./dev sandbox up | status | env | down`: the sandbox left running for a
 * person to use with kubectl.
 *
 * `up` starts a detached supervisor process (`serve`) that runs the sandbox
 * (`startSandbox`, with the tunnel) and stops it on SIGTERM; it prints the
 * supervisor's progress until the virtual node is Ready, then how to point
 * kubectl at either cluster. Everything lives in one directory,
 * `<repo>/.sandbox` (`SANDBOX_DIR` to move it); `down` stops the supervisor,
 * removes whatever a killed supervisor may have left (processes, the remote
 * node, the client network namespace) and then the directory.
 */
import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
import { mkdir, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runScript } from '../harness/index.js';
import { startSandbox, type Sandbox } from './sandbox.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const DIR = resolve(process.env.SANDBOX_DIR ?? join(REPO, '.sandbox'));
const STATE = join(DIR, 'state.json');
const LOG = join(DIR, 'sandbox.log');
const ENV_FILE = join(DIR, 'env.sh');
const RUN_DIR = join(DIR, 'run');

/** What `up` records for `status`, `env` and `down`. */
export interface SandboxState {
  pid: number;
  startedAt: string;
  readyAt?: string;
  localKubeconfig: string;
  remoteKubeconfig: string;
  kubectl: string;
  virtualNode: string;
  remoteNode: string;
  remoteNodeDir: string;
  pluginUrl: string;
  pluginLog: string;
  interlinkApiUrl: string;
  interlinkLogs: string[];
  clientNamespace?: string;
}

async function readState(): Promise<SandboxState | undefined> {
  try {
    return JSON.parse(await readFile(STATE, 'utf8')) as SandboxState;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number): Promise<void> =>
  new Promise((done) => {
    setTimeout(done, ms);
  });

/** `serve`: runs the sandbox until SIGTERM or SIGINT, which end this process. */
async function serve(): Promise<number> {
  const line = (text: string): void => {
    process.stdout.write(`${text}\n`);
  };
  const running: { sandbox?: Sandbox } = {};
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    line(`[down] ${signal}: stopping the sandbox`);
    const t = Date.now();
    try {
      await running.sandbox?.stop();
      line(`[down] stopped in ${((Date.now() - t) / 1000).toFixed(1)} s`);
      await rm(STATE, { force: true });
      process.exit(0);
    } catch (error) {
      line(`[down] ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGHUP', () => undefined);

  const sandbox = await startSandbox({ dir: RUN_DIR, tunnel: true, log: line });
  running.sandbox = sandbox;
  const state: SandboxState = {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    localKubeconfig: sandbox.local.kubeconfigPath,
    remoteKubeconfig: sandbox.remote.kubeconfigPath,
    kubectl: sandbox.kubectl.binary,
    virtualNode: sandbox.interlink.nodeName,
    remoteNode: sandbox.node.name,
    remoteNodeDir: sandbox.node.dir,
    pluginUrl: sandbox.plugin.url,
    pluginLog: sandbox.plugin.logPath,
    interlinkApiUrl: sandbox.interlink.apiUrl,
    interlinkLogs: [sandbox.interlink.apiLogPath, sandbox.interlink.vkLogPath],
    ...(sandbox.tunnel === undefined ? {} : { clientNamespace: sandbox.tunnel.client.name }),
  };
  await writeFile(STATE, JSON.stringify(state, null, 2));
  line(`virtual node ${state.virtualNode}: waiting for InterLink's first ping (the VK sends it 30 s after it starts)`);
  await sandbox.interlink.waitNodeReady();
  await writeFile(ENV_FILE, envScript(state));
  await writeFile(STATE, JSON.stringify({ ...state, readyAt: new Date().toISOString() }, null, 2));
  line(`virtual node ${state.virtualNode} is Ready: the sandbox is up`);
  // Lives until a signal ends it, whatever handles its children hold.
  setInterval(() => undefined, 1 << 30);
  return new Promise<number>(() => undefined);
}

/** `up`: starts `serve` detached and follows its log until the sandbox is up. */
async function up(): Promise<number> {
  const state = await readState();
  if (state !== undefined && alive(state.pid)) {
    process.stdout.write(`the sandbox is already up (supervisor pid ${String(state.pid)})\n\n`);
    return env();
  }
  if (existsSync(RUN_DIR)) {
    process.stdout.write('a sandbox that did not stop cleanly is left over: removing it first\n');
    await down();
  }
  await mkdir(DIR, { recursive: true });
  await writeFile(LOG, '');
  const fd = openSync(LOG, 'a');
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'serve'], {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: process.env,
  });
  closeSync(fd);
  child.unref();
  const t0 = Date.now();
  let shown = 0;
  for (;;) {
    const text = await readFile(LOG, 'utf8');
    const lines = text.split('\n');
    for (const l of lines.slice(shown, -1)) process.stdout.write(`${l}\n`);
    shown = Math.max(shown, lines.length - 1);
    const now = await readState();
    if (now?.readyAt !== undefined) break;
    if (child.pid === undefined || !alive(child.pid) || child.exitCode !== null) {
      process.stderr.write(`the sandbox failed to start; its log: ${LOG}\n`);
      return 1;
    }
    if (Date.now() - t0 > 20 * 60_000) {
      process.stderr.write(`the sandbox was not up within 20 minutes; its log: ${LOG}; \`./dev sandbox down\` removes it\n`);
      return 1;
    }
    await sleep(250);
  }
  process.stdout.write(`\nup in ${((Date.now() - t0) / 1000).toFixed(1)} s; \`./dev sandbox down\` removes everything\n\n`);
  return env();
}

/** `env`: how to point kubectl at either cluster (also written to `.sandbox/env.sh` by `up`). */
async function env(): Promise<number> {
  const state = await readState();
  if (state === undefined) {
    process.stderr.write('the sandbox is not up: ./dev sandbox up\n');
    return 1;
  }
  process.stdout.write(envScript(state));
  return 0;
}

function envScript(state: SandboxState): string {
  return [
    `# source ${ENV_FILE} — kubectl then talks to the LOCAL cluster, where InterLink's`,
    `# virtual node "${state.virtualNode}" offloads pods; kubectl-remote talks to the REMOTE cluster.`,
    `export PATH=${dirname(state.kubectl)}:$PATH`,
    `export KUBECONFIG=${state.localKubeconfig}`,
    `alias kubectl-remote='kubectl --kubeconfig=${state.remoteKubeconfig}'`,
    `# a pod for the virtual node needs: nodeSelector kubernetes.io/hostname: ${state.virtualNode}`,
    `#   and a toleration of virtual-node.interlink/no-schedule (e2e/samples/offload-demo.yaml is an example)`,
    `# logs: plugin ${state.pluginLog}; InterLink ${state.interlinkLogs.join(', ')}`,
    '',
    ].join('\n');
}

/** `status`: what runs, and whether each part answers. */
async function status(): Promise<number> {
  const state = await readState();
  if (state === undefined) {
    process.stdout.write('the sandbox is not up\n');
    return existsSync(RUN_DIR) ? 1 : 0;
  }
  const rows: [string, boolean, string][] = [];
  rows.push(['supervisor', alive(state.pid), `pid ${String(state.pid)}, since ${state.startedAt}`]);
  const kubectl = async (kubeconfig: string, args: string[]): Promise<[boolean, string]> => {
    const out = await new Promise<{ code: number; text: string }>((done) => {
      const child = spawn(state.kubectl, ['--kubeconfig', kubeconfig, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      const chunks: Buffer[] = [];
      child.stdout.on('data', (c: Buffer) => chunks.push(c));
      child.stderr.on('data', (c: Buffer) => chunks.push(c));
      child.on('close', (code) => {
        done({ code: code ?? 1, text: Buffer.concat(chunks).toString('utf8').trim() });
      });
    });
    return [out.code === 0, out.text];
  };
  const [localOk] = await kubectl(state.localKubeconfig, ['get', '--raw', '/readyz']);
  rows.push(['local API server', localOk, state.localKubeconfig]);
  const [remoteOk] = await kubectl(state.remoteKubeconfig, ['get', '--raw', '/readyz']);
  rows.push(['remote API server', remoteOk, state.remoteKubeconfig]);
  const [, vkReady] = await kubectl(state.localKubeconfig, ['get', 'node', state.virtualNode, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
  rows.push([`virtual node ${state.virtualNode}`, vkReady === 'True', `Ready=${vkReady}`]);
  const [, nodeReady] = await kubectl(state.remoteKubeconfig, ['get', 'node', state.remoteNode, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
  rows.push([`remote node ${state.remoteNode}`, nodeReady === 'True', `Ready=${nodeReady}`]);
  const plugin = await fetchStatus(`${state.pluginUrl}/readyz`);
  rows.push(['plugin', plugin === 200, `${state.pluginUrl}/readyz → ${String(plugin)}`]);
  const interlink = await fetchStatus(`${state.interlinkApiUrl}/pinglink`);
  rows.push(['InterLink API server', interlink === 200, `${state.interlinkApiUrl}/pinglink → ${String(interlink)}`]);
  for (const [what, ok, detail] of rows) process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} ${what.padEnd(28)} ${detail}\n`);
  const [, pods] = await kubectl(state.localKubeconfig, ['get', 'pods', '--all-namespaces', '-o', 'wide', '--field-selector', `spec.nodeName=${state.virtualNode}`]);
  process.stdout.write(`\npods on the virtual node:\n${pods === '' ? '(none)' : pods}\n`);
  return rows.every(([, ok]) => ok) ? 0 : 1;
}

async function fetchStatus(url: string): Promise<number> {
  if (!url.startsWith('http://')) return 0;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    await res.body?.cancel();
    return res.status;
  } catch {
    return 0;
  }
}

/** Processes whose working directory, command line or environment names `dir`. */
async function processesUnder(dir: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const hit = await Promise.all([
      readlink(`/proc/${entry}/cwd`).then((cwd) => cwd === dir || cwd.startsWith(`${dir}/`), () => false),
      readFile(`/proc/${entry}/cmdline`, 'utf8').then((text) => text.includes(dir), () => false),
      readFile(`/proc/${entry}/environ`, 'utf8').then((text) => text.includes(dir), () => false),
    ]);
    if (hit.some(Boolean)) found.push(pid);
  }
  return found;
}

/** `down`: stops the supervisor and removes everything of the sandbox. */
async function down(): Promise<number> {
  const t0 = Date.now();
  const state = await readState();
  if (state !== undefined && alive(state.pid)) {
    process.kill(state.pid, 'SIGTERM');
    const deadline = Date.now() + 180_000;
    while (alive(state.pid) && Date.now() < deadline) await sleep(200);
    if (alive(state.pid)) process.kill(state.pid, 'SIGKILL');
  }
  // What a supervisor killed without its stop may have left.
  if (state !== undefined && existsSync(state.remoteNodeDir)) {
    await runScript('remote-node.sh', ['stop', state.remoteNodeDir]).catch((error: unknown) => {
      process.stderr.write(`remote-node.sh stop: ${error instanceof Error ? error.message : String(error)}\n`);
    });
  }
  for (let round = 0; round < 3; round++) {
    const left = await processesUnder(DIR);
    if (left.length === 0) break;
    for (const pid of left) {
      try {
        process.kill(pid, round === 0 ? 'SIGTERM' : 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    await sleep(1000);
  }
  if (state?.clientNamespace !== undefined) {
    await new Promise<void>((done) => {
      spawn('ip', ['netns', 'del', state.clientNamespace ?? ''], { stdio: 'ignore' }).on('close', () => {
        done();
      });
    });
  }
  const mounts = (await readFile('/proc/self/mounts', 'utf8')).split('\n').filter((l) => l.split(' ')[1]?.startsWith(`${DIR}/`) === true);
  if (mounts.length > 0) {
    process.stderr.write(`mounts are left under ${DIR}; not removing it:\n${mounts.join('\n')}\n`);
    return 1;
  }
  const leftover = await processesUnder(DIR);
  if (leftover.length > 0) {
    process.stderr.write(`processes are left: ${leftover.join(', ')}\n`);
    return 1;
  }
  await rm(DIR, { recursive: true, force: true });
  process.stdout.write(`the sandbox is down (${((Date.now() - t0) / 1000).toFixed(1)} s): no process, mount or file of it is left\n`);
  return 0;
}

const USAGE = `usage: ./dev sandbox up | status | env | down
  up      start the two clusters, InterLink and the plugin, and leave them running
  status  what runs and whether it answers
  env     how to point kubectl at either cluster (also in ${ENV_FILE})
  down    stop everything and remove ${DIR}
`;

const command = process.argv[2];
const commands: Record<string, () => Promise<number>> = { up, status, env, down, serve };
const run = command === undefined ? undefined : commands[command];
if (run === undefined) {
  process.stderr.write(USAGE);
  process.exit(2);
}
try {
  process.exit(await run());
} catch (error) {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
}

/**
 * Time to Running through the real InterLink, on the sandbox: N pods applied
 * at once with kubectl to InterLink's virtual node, the time until each is
 * Running in the LOCAL cluster, beside the same pods created directly on the
 * remote cluster in the same run (the floor), and the plugin's own share:
 *
 * - create: how long the plugin took to answer each `/create` (its request log);
 * - cache lag: from a watch of our own seeing the remote pod Running to the
 *   plugin's status answer saying so (the pods' `/status` asked every 5 ms,
 *   as the VK would ask it; the time of the request, not of the answer);
 * - status: how long the plugin took to answer each `/status` (its request log).
 *
 * The rest is InterLink's: its VK lists pods every 5 s and acts on what it
 * finds, and throttles its own API client. Prints a markdown report.
 *
 *   pnpm bench:interlink                 (levels 1, 10, 50)
 *   BENCH_LEVELS=1,10 pnpm bench:interlink
 */
import { KubeConfig, Watch } from '@kubernetes/client-node';
import { readFile, mkdtemp } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../harness/index.js';
import { remoteObjectsOf, virtualNodePod, type PodJson } from '../sandbox/pods.js';
import { startSandbox, type Sandbox } from '../sandbox/sandbox.js';
import { summarize, type LatencySummary } from './stats.js';

const levels = (process.env.BENCH_LEVELS ?? '1,10,50').split(',').map(Number);
/** How often the plugin is asked, and how often pods are listed. */
const POLL_MS = 5;
const LIST_MS = 50;
/** Our own status calls name themselves, so that the plugin's log tells them from InterLink's. */
const SESSION_HEADER = 'InterLink-Http-Session';
const OWN_SESSION = 'benchmark-poll';

const container = { name: 'main', image: 'busybox:1.36', command: ['sh', '-c', "trap 'exit 0' TERM; sleep 3600 & wait"] };

/** Times (ms since the epoch) at which each pod of `names` was first seen Running by polling `list`. */
async function runningTimes(names: readonly string[], list: () => Promise<PodJson[]>, timeoutMs: number): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  const deadline = Date.now() + timeoutMs;
  while (seen.size < names.length) {
    if (Date.now() > deadline) throw new Error(`only ${String(seen.size)} of ${String(names.length)} pods Running within ${String(timeoutMs / 1000)} s`);
    const now = Date.now();
    for (const pod of await list()) {
      if (pod.status?.phase === 'Running' && !seen.has(pod.metadata.name)) seen.set(pod.metadata.name, now);
    }
    await new Promise((resolve) => setTimeout(resolve, LIST_MS));
  }
  return seen;
}

/** The plugin's `/status` answer for `pods`, asked as the VK asks it. */
function askStatus(port: number, pods: readonly PodJson[]): Promise<{ UID: string; containers: { state: { running?: unknown } }[] }[]> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify(pods);
    const req = request({ host: '127.0.0.1', port, path: '/status', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), [SESSION_HEADER]: OWN_SESSION } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as { UID: string; containers: { state: { running?: unknown } }[] }[]);
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Durations (ms) of InterLink's requests to the plugin on `route`, logged after `since`. */
async function requestDurations(sandbox: Sandbox, route: string, since: number): Promise<number[]> {
  const out: number[] = [];
  for (const line of (await readFile(sandbox.plugin.logPath, 'utf8')).split('\n')) {
    if (!line.includes(`"route":"${route}"`)) continue;
    const entry = JSON.parse(line) as { time?: string; durationMs?: number; msg?: string; requestId?: string };
    if (entry.requestId === OWN_SESSION || entry.msg !== 'request' || entry.durationMs === undefined) continue;
    if (Date.parse(entry.time ?? '') >= since) out.push(entry.durationMs);
  }
  return out;
}

interface LevelResult {
  pods: number;
  viaInterLink: LatencySummary;
  direct: LatencySummary;
  create: LatencySummary;
  cacheLag: LatencySummary;
  status: LatencySummary;
  deleteAllMs: number;
  directDeleteAllMs: number;
}

async function level(sandbox: Sandbox, n: number): Promise<LevelResult> {
  const ns = `bench-${String(n)}`;
  const names = Array.from({ length: n }, (_, i) => `p${String(i)}`);
  await sandbox.localKube.ok('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  await sandbox.remoteKube.ok('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });

  // Through InterLink.
  const since = Date.now();
  const list = { apiVersion: 'v1', kind: 'List', items: names.map((name) => virtualNodePod(sandbox, ns, name, { containers: [container] })) };
  const applied = Date.now();
  await sandbox.kubectl.run(['apply', '--filename=-'], JSON.stringify(list));
  const localPods = async (): Promise<PodJson[]> => (await sandbox.localKube.ok<{ items: PodJson[] }>('GET', `/api/v1/namespaces/${ns}/pods`)).items;
  // Our own watch of the remote pods (as prompt as the plugin's own watch),
  // and the plugin's answers asked for all pods in a tight loop: a pod's lag
  // is from our watch seeing it Running to the sending of the first request
  // whose answer said so (0 when the plugin knew first).
  const remoteRunning = new Map<string, number>();
  const pluginRunning = new Map<string, number>();
  const watch = await new Watch(kubeConfigOf(sandbox.remote.kubeconfigPath)).watch(
    '/api/v1/pods',
    { labelSelector: 'app.kubernetes.io/managed-by=interlink-k8s' },
    (_type: string, pod: PodJson) => {
      const uid = pod.metadata.labels?.['interlink.io/source.pod_uid'];
      if (uid !== undefined && pod.status?.phase === 'Running' && !remoteRunning.has(uid)) remoteRunning.set(uid, Date.now());
    },
    () => undefined,
  );
  const watching = { on: true, local: [] as PodJson[] };
  const lister = (async () => {
    while (watching.on) {
      watching.local = (await localPods()).filter((p) => p.metadata.uid !== '');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  const asker = (async () => {
    while (watching.on) {
      const sent = Date.now();
      if (watching.local.length > 0) {
        for (const a of await askStatus(sandbox.plugin.port, watching.local).catch(() => [])) {
          if (a.containers.length > 0 && a.containers.every((c) => c.state.running !== undefined) && !pluginRunning.has(a.UID)) pluginRunning.set(a.UID, sent);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  })();
  const localRunning = await runningTimes(names, localPods, 300_000);
  watching.on = false;
  await Promise.all([lister, asker]);
  watch.abort();
  const byName = new Map((await localPods()).map((p) => [p.metadata.name, p.metadata.uid]));
  const lags = [...byName.values()].flatMap((uid) => {
    const r = remoteRunning.get(uid);
    const p = pluginRunning.get(uid);
    return r === undefined || p === undefined ? [] : [Math.max(0, p - r)];
  });

  const create = await requestDurations(sandbox, '/create', since);
  const status = await requestDurations(sandbox, '/status', since);

  // Deleted through InterLink, timing until nothing is left remotely; then
  // the same pods directly on the remote cluster, on a node as empty as before.
  const d0 = Date.now();
  await sandbox.kubectl.run(['delete', 'namespace', ns, '--wait=true', '--timeout=300s']);
  for (const uid of byName.values()) await eventually(`remote objects of ${uid} gone`, async () => ((await remoteObjectsOf(sandbox, uid)).length === 0 ? true : undefined), 120_000);
  const deleteAllMs = Date.now() - d0;
  // Directly on the remote cluster: the same pods, without the virtual node's selector.
  const directList = {
    apiVersion: 'v1',
    kind: 'List',
    items: names.map((name) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns }, spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 5, containers: [container] } })),
  };
  const directApplied = Date.now();
  await sandbox.remoteKubectl.run(['apply', '--filename=-'], JSON.stringify(directList));
  const directRunning = await runningTimes(names, async () => (await sandbox.remoteKube.ok<{ items: PodJson[] }>('GET', `/api/v1/namespaces/${ns}/pods`)).items, 300_000);

  const d1 = Date.now();
  await sandbox.remoteKubectl.run(['delete', 'namespace', ns, '--wait=true', '--timeout=300s']);
  const directDeleteAllMs = Date.now() - d1;

  return {
    pods: n,
    viaInterLink: summarize(names.map((name) => (localRunning.get(name) ?? Number.NaN) - applied)),
    direct: summarize(names.map((name) => (directRunning.get(name) ?? Number.NaN) - directApplied)),
    create: summarize(create),
    cacheLag: summarize(lags),
    status: summarize(status),
    deleteAllMs,
    directDeleteAllMs,
  };
}

function kubeConfigOf(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

const f = (ms: number): string => (Number.isNaN(ms) ? '–' : ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));
const pair = (s: LatencySummary): string => `${f(s.p50)} / ${f(s.p99)}`;

const sandbox = await startSandbox({
  dir: await mkdtemp(join(tmpdir(), 'interlink-k8s-bench-')),
  // Every request in the log, with its duration.
  pluginSettings: { log: { level: 'debug' } },
  log: (line) => process.stderr.write(`${line}\n`),
});
try {
  await sandbox.interlink.waitNodeReady();
  const results: LevelResult[] = [];
  for (const n of levels) {
    process.stderr.write(`level ${String(n)}\n`);
    results.push(await level(sandbox, n));
  }
  console.log('| pods | to Running via InterLink p50 / p99 ms | directly on the remote cluster p50 / p99 ms | plugin: create p50 / p99 ms | plugin: remote Running → its answer says so p50 / p99 ms | plugin: status p50 / p99 ms | plugin share p50 ms | all deleted via InterLink ms | directly ms |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    const share = r.create.p50 + r.cacheLag.p50 + r.status.p50;
    console.log(`| ${String(r.pods)} | ${pair(r.viaInterLink)} | ${pair(r.direct)} | ${pair(r.create)} | ${pair(r.cacheLag)} | ${pair(r.status)} | ${f(share)} | ${String(r.deleteAllMs)} | ${String(r.directDeleteAllMs)} |`);
  }
} finally {
  await sandbox.stop();
}

/**
 * Benchmark of the plugin against a real control plane, beside the same
 * operations done directly with @kubernetes/client-node against the same API
 * server in the same run (the floor). Prints a markdown report.
 *
 *   ./dev bench            (levels 1, 100, 1000 offloaded pods)
 *   BENCH_LEVELS=1,100 ./dev bench
 */
import { CreateRequestSchema, PluginClient } from '@interlink-k8s/protocol';
import { planRemoteObjects, type TranslateOptions } from '@interlink-k8s/remote-k8s';
import { CoreV1Api, KubeConfig, KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane } from '../harness/index.js';
import { memoryOf } from '../harness/process.js';
import { startPluginProcess } from '../plugin/plugin-process.js';
import { samplePodData } from '../samples/sample-pod.js';
import { summarize, throughput, timed, type LatencySummary } from './stats.js';

const levels = (process.env.BENCH_LEVELS ?? '1,100,1000').split(',').map(Number);
const STATUS_CALLS = Number(process.env.BENCH_STATUS_CALLS ?? 300);
const THROUGHPUT_MS = Number(process.env.BENCH_THROUGHPUT_MS ?? 3000);
const CONCURRENCY = 8;
const FIELD_MANAGER = 'bench-direct';

/** GET a path of the API server with the admin credentials, as text. */
async function apiGet(kc: KubeConfig, path: string): Promise<string> {
  const server = kc.getCurrentCluster()?.server ?? '';
  const opts: Parameters<KubeConfig['applyToHTTPSOptions']>[0] = {};
  await kc.applyToHTTPSOptions(opts);
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, server), opts as object, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve(Buffer.concat(chunks).toString('utf8'));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Requests the API server has served for pods, from its own metrics. */
async function podRequests(kc: KubeConfig): Promise<number> {
  const text = await apiGet(kc, '/metrics');
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('apiserver_request_total{') && line.includes('resource="pods"')) {
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return total;
}

const fmt = (s: LatencySummary) => `${s.p50.toFixed(2)} / ${s.p99.toFixed(2)}`;
const ratio = (a: number, b: number) => (a / b).toFixed(2);

const t0 = Date.now();
const progress = (msg: string) => {
  process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(0)} s] ${msg}\n`);
};

const dir = await mkdtemp(join(tmpdir(), 'interlink-k8s-bench-'));
progress('starting the control plane');
const remote = await startControlPlane({ name: 'bench' });
const kc = new KubeConfig();
kc.loadFromFile(remote.kubeconfigPath);
const objects = KubernetesObjectApi.makeApiClient(kc);
const core = kc.makeApiClient(CoreV1Api);
let plugin: Awaited<ReturnType<typeof startPluginProcess>> | undefined;
const rows: string[] = [];
try {
  plugin = await startPluginProcess({ dir, kubeconfigPath: remote.kubeconfigPath, settings: { log: { level: 'warn' } } });
  const client = new PluginClient({ host: '127.0.0.1', port: plugin.port }, { keepAlive: true });
  const direct: TranslateOptions = { namespacePrefix: 'direct', namespacePrefixExclusions: [], nodeSelector: {}, tolerations: [] };
  const apply = (o: object) => objects.patch(o, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
  await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'direct-bench' } });

  const pluginPods: ReturnType<typeof samplePodData>['pod'][] = [];
  const directPods: { name: string; namespace: string }[] = [];
  const memoryAtStart = await memoryOf(plugin.pid);
  progress(`plugin RSS at start: ${memoryAtStart.rss.toFixed(1)} MiB`);

  for (const level of levels) {
    // Grow both populations to `level`, timing each create.
    const createPlugin: number[] = [];
    const createDirect: number[] = [];
    progress(`creating up to ${level} pods through the plugin and directly`);
    while (pluginPods.length < level) {
      const i = pluginPods.length;
      const data = samplePodData(`bench-${i}`, 'bench');
      createPlugin.push(await timed(() => client.create(data)));
      pluginPods.push(data.pod);
      // The same objects, applied directly in the same order: pod, then its data in parallel.
      const plan = planRemoteObjects(CreateRequestSchema.parse(data), direct);
      createDirect.push(
        await timed(async () => {
          await apply(plan.pod);
          await Promise.all([...plan.configMaps, ...plan.secrets].map(apply));
        }),
      );
      directPods.push({ name: plan.pod.metadata?.name ?? '', namespace: plan.namespace });
    }
    // Let the watch catch up before measuring status.
    await new Promise((r) => setTimeout(r, 1000));

    progress(`status at ${level} pods`);
    const pick = <T>(list: readonly T[], i: number): T => list[(i * 7919) % list.length] as T;
    const before = await podRequests(kc);
    const statusPlugin: number[] = [];
    for (let i = 0; i < STATUS_CALLS; i += 1) statusPlugin.push(await timed(() => client.status([pick(pluginPods, i)])));
    // Memory under InterLink's own load (one call at a time), before saturating the plugin.
    const memSteady = await memoryOf(plugin.pid);
    const statusRps = await throughput((i) => client.status([pick(pluginPods, i)]), CONCURRENCY, THROUGHPUT_MS);
    const after = await podRequests(kc);
    const calls = STATUS_CALLS + Math.round((statusRps * THROUGHPUT_MS) / 1000);
    const remotePerCall = (after - before) / calls;

    const statusDirect: number[] = [];
    for (let i = 0; i < STATUS_CALLS; i += 1) {
      const p = pick(directPods, i);
      statusDirect.push(await timed(() => core.readNamespacedPod(p)));
    }
    const directRps = await throughput((i) => core.readNamespacedPod(pick(directPods, i)), CONCURRENCY, THROUGHPUT_MS);
    const mem = await memoryOf(plugin.pid);

    const cp = summarize(createPlugin);
    const cd = summarize(createDirect);
    const sp = summarize(statusPlugin);
    const sd = summarize(statusDirect);
    rows.push(
      `| ${level} | ${cp.count ? fmt(cp) : '–'} | ${cd.count ? fmt(cd) : '–'} | ${cp.count ? ratio(cp.p50, cd.p50) : '–'} | ` +
        `${fmt(sp)} | ${fmt(sd)} | ${statusRps.toFixed(0)} | ${directRps.toFixed(0)} | ${remotePerCall.toFixed(3)} | ${memSteady.rss.toFixed(0)} | ${mem.rss.toFixed(0)} |`,
    );
    progress(rows.at(-1) ?? '');
  }

  // Logs need a kubelet behind the API server; this control plane has none.
  client.close();
  const cpu = /model name\s*:\s*(.*)/.exec(await readFile('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown CPU';
  console.log(`\nPlugin benchmark, ${new Date().toISOString()}, Node ${process.version}, ${cpu}`);
  console.log(`Creates are sequential, one call at a time; "new pods" at a level are the ones created to reach it.`);
  console.log(`Status: ${STATUS_CALLS} sequential calls for p50/p99, then ${CONCURRENCY} concurrent loops for ${THROUGHPUT_MS / 1000} s for req/s.\n`);
  console.log('| pods | create p50 / p99 ms (plugin) | create p50 / p99 ms (direct) | create p50 ratio | status p50 / p99 ms (plugin) | status p50 / p99 ms (direct GET) | status req/s (plugin) | GET req/s (direct) | remote pod requests per status call | plugin RSS MiB, sequential load | plugin RSS MiB, after saturation |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
  console.log('\n/getLogs is not measured here: logs come from a kubelet, and this control plane has none (see the sandbox).');
} finally {
  await plugin?.stop();
  await remote.stop();
  await rm(dir, { recursive: true, force: true });
}

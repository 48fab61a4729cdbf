import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { openExchange, type ContainerStatus, type PluginClient, type PodStatus } from '@interlink-k8s/protocol';
import { rawKube, testKubeconfigPath, testNodeName } from '../harness/index.js';
import { eventually as poll } from '../harness/eventually.js';
import { startInProcessPlugin, type InProcessPlugin } from '../plugin/in-process-plugin.js';

// Logs and status of REAL containers: the plugin server (in this process,
// configured like production from the reference keys) in front of the shared
// remote cluster, whose kube-scheduler binds the pods to its real node
// (containerd + kubelet, see the jest global setup). Every log goes
// plugin → kube-apiserver → kubelet → the container's log file.

// --- the remote cluster, read as raw JSON ---------------------------------------

const kc = new KubeConfig();
const api = rawKube(kc);
const kube = api.call;

interface RemotePod {
  metadata: { name: string; namespace: string };
  spec: { nodeName?: string };
  status?: { phase?: string; containerStatuses?: { name: string; restartCount: number; state: Record<string, unknown> }[] };
}

async function remotePodOf(uid: string): Promise<RemotePod | undefined> {
  const selector = encodeURIComponent(`interlink.io/source.pod_uid=${uid}`);
  const { status, text } = await kube('GET', `/api/v1/pods?labelSelector=${selector}`);
  if (status !== 200) throw new Error(`list pods: ${status} ${text}`);
  return (JSON.parse(text) as { items: RemotePod[] }).items[0];
}

/**
 * Log requests the node's kubelet is serving right now: its
 * `kubelet_http_inflight_requests{path="containerLogs"}` gauge, read through
 * the API server's node proxy. Only this run's pods are on this node.
 */
async function kubeletLogStreams(): Promise<number> {
  const { status, text } = await kube('GET', `/api/v1/nodes/${testNodeName()}/proxy/metrics`);
  if (status !== 200) throw new Error(`GET kubelet metrics: ${status}`);
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('kubelet_http_inflight_requests{') && line.includes('path="containerLogs"')) {
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return total;
}

const eventually = <T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> =>
  poll(what, check, timeoutMs, { intervalMs: 200 });

// --- the plugin -------------------------------------------------------------------

const PREFIX = 'logs';
let server: InProcessPlugin;
let plugin: PluginClient;

beforeAll(async () => {
  kc.loadFromFile(testKubeconfigPath());
  server = await startInProcessPlugin({
    K8S_KUBECONFIG_PATH: testKubeconfigPath(),
    K8S_FIELD_MANAGER: 'interlink-k8s-logs-e2e',
    OFFLOADING_NAMESPACE_PREFIX: PREFIX,
    APP_SHUTDOWN_TIMEOUT_SECONDS: '1',
  });
  plugin = server.client;
  await eventually('plugin ready', async () => ((await plugin.send('GET', '/readyz')).status === 200 ? true : undefined));
}, 60_000);

const created: LocalPod[] = [];

afterAll(async () => {
  // Through the plugin, as InterLink would; then the namespaces it made (a
  // pod still terminating at /delete keeps its namespace: see the demo).
  await Promise.all(created.map((pod) => plugin.send('POST', '/delete', pod)));
  const namespaces = new Set(created.map((pod) => `${PREFIX}-${pod.metadata.namespace}`));
  await Promise.all([...namespaces].map((ns) => kube('DELETE', `/api/v1/namespaces/${ns}`)));
  await server.close();
});

// --- pods as InterLink sends them -------------------------------------------------------

interface ContainerSpec {
  name: string;
  script: string;
}
interface LocalPod {
  apiVersion: 'v1';
  kind: 'Pod';
  metadata: { name: string; namespace: string; uid: string };
  spec: Record<string, unknown>;
  status: { phase: 'Pending' };
  [field: string]: unknown;
}

/** sh as PID 1 ignores SIGTERM: every script exits at once on delete. */
const container = ({ name, script }: ContainerSpec) => ({
  name,
  image: 'busybox:1.36',
  imagePullPolicy: 'IfNotPresent',
  command: ['sh', '-c', `trap "exit 0" TERM; ${script}`],
});

/** Creates a pod through the plugin in a fresh local namespace; resolves with the local pod. */
async function createPod(
  what: string,
  containers: ContainerSpec[],
  extra: { initContainers?: ContainerSpec[]; restartPolicy?: string; volumes?: unknown[]; mounts?: unknown[] } = {},
): Promise<LocalPod> {
  const namespace = `${what}-${randomBytes(3).toString('hex')}`;
  const pod: LocalPod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: what, namespace, uid: randomUUID() },
    spec: {
      nodeName: 'interlink-virtual-node',
      restartPolicy: extra.restartPolicy ?? 'Never',
      terminationGracePeriodSeconds: 5,
      containers: containers.map((c) => ({ ...container(c), ...(extra.mounts ? { volumeMounts: extra.mounts } : {}) })),
      ...(extra.initContainers ? { initContainers: extra.initContainers.map(container) } : {}),
      ...(extra.volumes ? { volumes: extra.volumes } : {}),
    },
    status: { phase: 'Pending' },
  };
  const entries = [...(extra.initContainers ?? []), ...containers].map(({ name }) => ({
    name,
    configMaps: null,
    secrets: null,
    projectedvolumemaps: null,
    emptyDirs: null,
  }));
  const answer = await plugin.send('POST', '/create', { pod, container: entries, jobConfig: {} });
  if (answer.status !== 200) throw new Error(`create ${what}: ${answer.status} ${answer.text}`);
  created.push(pod);
  return pod;
}

/** `GET /status` with the pod, exactly 200, its one answer. */
async function statusOf(pod: LocalPod): Promise<PodStatus> {
  const answer = await plugin.send('GET', '/status', [pod]);
  if (answer.status !== 200) throw new Error(`status: ${answer.status} ${answer.text}`);
  const [status] = answer.json() as PodStatus[];
  if (status === undefined) throw new Error('no status');
  return status;
}

const byName = (statuses: readonly ContainerStatus[], name: string): ContainerStatus | undefined =>
  statuses.find((s) => s.name === name);

/** Waits until every container of `pod` is running (as the plugin reports it). */
function running(pod: LocalPod, timeoutMs = 60_000): Promise<PodStatus> {
  return eventually(
    `${pod.metadata.name} running`,
    async () => {
      const status = await statusOf(pod);
      return status.containers.length > 0 && status.containers.every((c) => c.state.running !== undefined) ? status : undefined;
    },
    timeoutMs,
  );
}

type LogOpts = Partial<{
  Tail: number;
  Bytes: number;
  Timestamps: boolean;
  Follow: boolean;
  Previous: boolean;
  SinceSeconds: number;
  SinceTime: string;
}>;

const logRequest = (pod: LocalPod, containerName: string, Opts: LogOpts = {}) => ({
  Namespace: pod.metadata.namespace,
  PodUID: pod.metadata.uid,
  PodName: pod.metadata.name,
  ContainerName: containerName,
  Opts,
});

/** `GET /getLogs`, exactly 200, the text. */
async function logs(pod: LocalPod, containerName: string, opts: LogOpts = {}): Promise<string> {
  const answer = await plugin.send('GET', '/getLogs', logRequest(pod, containerName, opts));
  if (answer.status !== 200) throw new Error(`getLogs ${containerName}: ${answer.status} ${answer.text}`);
  expect(answer.headers['content-type']).toMatch(/^text\/plain/);
  return answer.text;
}

/** Splits `2026-…Z text` lines into timestamp (ms) and text. */
function stamped(text: string): { at: number; stamp: string; line: string }[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const space = l.indexOf(' ');
      const stamp = l.slice(0, space);
      return { at: Date.parse(stamp), stamp, line: l.slice(space + 1) };
    });
}

// --- the tests ----------------------------------------------------------------------

it('the shared remote cluster has a real node', () => {
  expect(testNodeName()).not.toBe('');
});

describe('logs of a running two-container pod', () => {
  // alpha: five lines at once, four seconds of silence, three more lines.
  // beta: one numbered line a second.
  const ALPHA = 'alpha 1\nalpha 2\nalpha 3\nalpha 4\nalpha 5\nalpha late 1\nalpha late 2\nalpha late 3\n';
  let pod: LocalPod;

  beforeAll(async () => {
    pod = await createPod('twins', [
      {
        name: 'alpha',
        script:
          'for i in 1 2 3 4 5; do echo "alpha $i"; done; sleep 4; for i in 1 2 3; do echo "alpha late $i"; done; sleep 3600 & wait',
      },
      { name: 'beta', script: 'i=0; while true; do i=$((i+1)); echo "beta $i"; sleep 1; done' },
    ]);
    await running(pod);
    const remote = await remotePodOf(pod.metadata.uid);
    expect(remote?.spec.nodeName).toBe(testNodeName());
    await eventually('alpha done writing', async () => ((await logs(pod, 'alpha')) === ALPHA ? true : undefined), 30_000);
    await eventually('beta 4 written', async () => ((await logs(pod, 'beta')).includes('beta 4\n') ? true : undefined), 30_000);
  }, 120_000);

  it('ContainerName picks the container: each log holds only its own lines, in order', async () => {
    expect(await logs(pod, 'alpha')).toBe(ALPHA);
    const beta = await logs(pod, 'beta');
    expect(beta).toMatch(/^beta 1\nbeta 2\nbeta 3\nbeta 4\n(beta \d+\n)*$/);
    expect(beta).not.toContain('alpha');
  });

  it('Tail: the last N lines', async () => {
    expect(await logs(pod, 'alpha', { Tail: 2 })).toBe('alpha late 2\nalpha late 3\n');
    expect(await logs(pod, 'alpha', { Tail: 1 })).toBe('alpha late 3\n');
  });

  it('Bytes: the first N bytes, even mid-line (and with Tail: the first N bytes of the tail)', async () => {
    expect(await logs(pod, 'alpha', { Bytes: 10 })).toBe('alpha 1\nal');
    expect(await logs(pod, 'alpha', { Tail: 2, Bytes: 7 })).toBe('alpha l');
  });

  it('Timestamps: every line prefixed with its RFC 3339 time, in order, recent', async () => {
    const lines = stamped(await logs(pod, 'alpha', { Timestamps: true }));
    expect(lines.map((l) => l.line).join('\n') + '\n').toBe(ALPHA);
    for (const { stamp, at } of lines) {
      expect(stamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/);
      expect(Date.now() - at).toBeLessThan(300_000);
    }
    const times = lines.map((l) => l.at);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    // The four-second pause shows between the fifth and the sixth line.
    expect((times[5] ?? 0) - (times[4] ?? 0)).toBeGreaterThanOrEqual(3500);
  });

  it('SinceTime: only the lines written at or after it', async () => {
    const lines = stamped(await logs(pod, 'alpha', { Timestamps: true }));
    const late = lines[5];
    if (late === undefined) throw new Error('no sixth line');
    // The API carries SinceTime with whole seconds: the late lines' second
    // is four seconds after the early ones.
    expect(await logs(pod, 'alpha', { SinceTime: late.stamp })).toBe('alpha late 1\nalpha late 2\nalpha late 3\n');
    expect(await logs(pod, 'alpha', { SinceTime: new Date(Date.now() + 60_000).toISOString() })).toBe('');
  });

  it('SinceSeconds: only the lines of the last N seconds', async () => {
    const all = stamped(await logs(pod, 'beta', { Timestamps: true }));
    const asked = Date.now();
    const recent = stamped(await logs(pod, 'beta', { SinceSeconds: 2, Timestamps: true }));
    expect(recent.length).toBeGreaterThanOrEqual(1);
    expect(recent.length).toBeLessThanOrEqual(4);
    expect(recent.map((l) => l.line)).not.toContain('beta 1');
    // The kubelet's window starts at its "now" minus 2 s, never before ours.
    for (const { at } of recent) expect(at).toBeGreaterThanOrEqual(asked - 2000 - 50);
    // A suffix of the whole log.
    const first = all.findIndex((l) => l.stamp === recent[0]?.stamp);
    expect(first).toBeGreaterThan(0);
  });

  it('names a container the pod does not have: 404', async () => {
    const answer = await plugin.send('GET', '/getLogs', logRequest(pod, 'gamma'));
    expect(answer.status).toBe(404);
  });
});

describe('Previous: the log of the container before its restart', () => {
  it('restartPolicy OnFailure: the first run exits 3, the second runs; Previous gives the first run', async () => {
    const pod = await createPod(
      'flaky',
      [
        {
          name: 'flaky',
          script:
            'if [ -f /state/ran ]; then echo "second run"; sleep 3600 & wait; else touch /state/ran; echo "first run"; exit 3; fi',
        },
      ],
      {
        restartPolicy: 'OnFailure',
        volumes: [{ name: 'state', emptyDir: {} }],
        mounts: [{ name: 'state', mountPath: '/state' }],
      },
    );
    const restarted = await eventually(
      'restarted and running',
      async () => {
        const s = byName((await statusOf(pod)).containers, 'flaky');
        return s !== undefined && s.restartCount >= 1 && s.state.running !== undefined ? s : undefined;
      },
      90_000,
    );
    expect(restarted.restartCount).toBe(1);
    const remote = await remotePodOf(pod.metadata.uid);
    expect(remote?.status?.containerStatuses?.[0]?.restartCount).toBe(1);

    await eventually('second run logged', async () => ((await logs(pod, 'flaky')) === 'second run\n' ? true : undefined), 30_000);
    expect(await logs(pod, 'flaky', { Previous: true })).toBe('first run\n');
    expect(await logs(pod, 'flaky', { Previous: true, Timestamps: true })).toMatch(/^\S+Z first run\n$/);
  }, 120_000);

  it('Previous of a container that never restarted: an error, not a 200', async () => {
    const pod = await createPod('steady', [{ name: 'steady', script: 'echo steady; sleep 3600 & wait' }]);
    await running(pod);
    const answer = await plugin.send('GET', '/getLogs', logRequest(pod, 'steady', { Previous: true }));
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
    expect(answer.text).toMatch(/previous terminated container/i);
  }, 90_000);
});

describe('Follow', () => {
  /** Collects a streamed answer chunk by chunk, with arrival times. */
  function collect(res: IncomingMessage): { chunks: { at: number; text: string }[]; ended: Promise<void> } {
    const chunks: { at: number; text: string }[] = [];
    res.setEncoding('utf8');
    res.on('data', (text: string) => chunks.push({ at: Date.now(), text }));
    const ended = new Promise<void>((resolve, reject) => {
      res.once('end', resolve);
      res.once('error', reject);
    });
    return { chunks, ended };
  }
  const textOf = (chunks: readonly { text: string }[]): string => chunks.map((c) => c.text).join('');
  /** When the line containing `needle` arrived. */
  const arrival = (chunks: readonly { at: number; text: string }[], needle: string): number => {
    let seen = '';
    for (const c of chunks) {
      seen += c.text;
      if (seen.includes(needle)) return c.at;
    }
    return Number.NaN;
  };

  it('streams lines as the container writes them and ends when the container ends', async () => {
    const pod = await createPod('stream', [
      { name: 'stream', script: 'sleep 2; echo start; for i in 1 2 3 4 5; do sleep 1; echo "line $i"; done; exit 0' },
    ]);
    await running(pod);
    const { res } = await openExchange(plugin.target, 'GET', '/getLogs', {
      body: logRequest(pod, 'stream', { Follow: true }),
    });
    expect(res.statusCode).toBe(200);
    const { chunks, ended } = collect(res);
    await ended;
    const endedAt = Date.now();
    expect(textOf(chunks)).toBe('start\nline 1\nline 2\nline 3\nline 4\nline 5\n');
    // Line by line, about a second apart, not all at the end.
    const first = arrival(chunks, 'line 1');
    const last = arrival(chunks, 'line 5');
    expect(last - first).toBeGreaterThanOrEqual(3000);
    expect(endedAt - first).toBeGreaterThanOrEqual(3000);
    // The stream ended because the container did.
    const done = await eventually('terminated', async () => {
      const s = byName((await statusOf(pod)).containers, 'stream');
      return s?.state.terminated;
    });
    expect(done.exitCode).toBe(0);
  }, 90_000);

  it('a client that goes away ends the remote log stream (kube-apiserver → kubelet)', async () => {
    const pod = await createPod('ticker', [
      { name: 'ticker', script: 'i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 1; done' },
    ]);
    await running(pod);
    const before = await kubeletLogStreams();
    const { res, abort } = await openExchange(plugin.target, 'GET', '/getLogs', {
      body: logRequest(pod, 'ticker', { Follow: true }),
    });
    expect(res.statusCode).toBe(200);
    const { chunks, ended } = collect(res);
    // Our own abort ends this side with an 'aborted' error.
    ended.catch(() => undefined);
    await eventually('tick 2 streamed', () => Promise.resolve(textOf(chunks).includes('tick 2\n') ? true : undefined), 30_000);
    // plugin → kube-apiserver → kubelet: the kubelet serves this stream.
    expect(await kubeletLogStreams()).toBe(before + 1);

    abort();
    await eventually('kubelet stream closed', async () => ((await kubeletLogStreams()) === before ? true : undefined), 15_000);
    // The container goes on; only the stream ended.
    expect(byName((await statusOf(pod)).containers, 'ticker')?.state.running).toBeDefined();
  }, 90_000);
});

describe('status of a real pod, as the Virtual Kubelet polls it', () => {
  it('waiting → running → terminated with the real exit code; every container each time; the init container too', async () => {
    const pod = await createPod(
      'lifecycle',
      [
        { name: 'main', script: 'echo working; sleep 4; exit 7' },
        { name: 'side', script: 'sleep 2; exit 0' },
      ],
      { initContainers: [{ name: 'setup', script: 'sleep 2; echo ready' }] },
    );
    const seen: { main: string; side: string; setup: string; mainCode?: number }[] = [];
    const stateOf = (s: ContainerStatus | undefined): string =>
      s === undefined ? 'missing' : s.state.running !== undefined ? 'running' : s.state.terminated !== undefined ? 'terminated' : 'waiting';
    const final = await eventually(
      'main terminated',
      async () => {
        const status = await statusOf(pod);
        // Every container and the init container, in every answer.
        expect(status.containers.map((c) => c.name)).toEqual(['main', 'side']);
        expect(status.initContainers.map((c) => c.name)).toEqual(['setup']);
        const main = byName(status.containers, 'main');
        seen.push({
          main: stateOf(main),
          side: stateOf(byName(status.containers, 'side')),
          setup: stateOf(byName(status.initContainers, 'setup')),
          ...(main?.state.terminated ? { mainCode: main.state.terminated.exitCode } : {}),
        });
        return main?.state.terminated !== undefined && byName(status.containers, 'side')?.state.terminated !== undefined
          ? status
          : undefined;
      },
      90_000,
    );

    // main's states in order: waiting…, running…, terminated — never back.
    const order = ['waiting', 'running', 'terminated'];
    const mains = seen.map((s) => s.main);
    expect(mains[0]).toBe('waiting');
    expect(mains).toContain('running');
    for (let i = 1; i < mains.length; i++) {
      expect(order.indexOf(mains[i] ?? '')).toBeGreaterThanOrEqual(order.indexOf(mains[i - 1] ?? ''));
    }
    // While setup ran, the containers waited for it.
    expect(seen.some((s) => s.setup === 'running' && s.main === 'waiting')).toBe(true);
    expect(seen.filter((s) => s.main !== 'waiting').every((s) => s.setup === 'terminated')).toBe(true);

    const main = byName(final.containers, 'main');
    expect(main?.state.terminated).toMatchObject({ exitCode: 7, reason: 'Error' });
    expect(byName(final.containers, 'side')?.state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(byName(final.initContainers, 'setup')?.state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    // (The kubelet reports the terminal phase once the pod's sandbox is down
    // too, a moment after the last container status.)
    await eventually('remote phase Failed', async () => ((await remotePodOf(pod.metadata.uid))?.status?.phase === 'Failed' ? true : undefined));
    expect(await logs(pod, 'setup')).toBe('ready\n');
    expect(await logs(pod, 'main')).toBe('working\n');
  }, 120_000);
});

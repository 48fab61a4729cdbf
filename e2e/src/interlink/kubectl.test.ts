/**
 * The plugin behind the real InterLink, driven as a user drives it: kubectl
 * against the local cluster, pods on InterLink's virtual node, and a look at
 * the remote cluster to see what the plugin made of them. One sandbox (two
 * clusters, a real remote node, InterLink's VK and API server, the plugin as
 * its own process) serves the whole file.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../harness/index.js';
import { startSandbox, type Sandbox } from '../sandbox/sandbox.js';
import {
  apply,
  ensureNamespace,
  inPhase,
  localPod,
  remoteObjectsOf,
  remotePodsOf,
  virtualNodePod,
  waitGone,
  waitRemoteGone,
  watchPhases,
  type PodJson,
} from '../sandbox/pods.js';

const NS = 'kubectl-e2e';
let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startSandbox({
    dir: await mkdtemp(join(tmpdir(), 'interlink-k8s-e2e-kubectl-')),
    // A remote pod whose local pod is gone is removed by the sweep once a
    // minute old; sweep often, so that the test sees it soon after.
    pluginSettings: { offloading: { sweep_interval_seconds: '20' } },
    log: (line) => process.stderr.write(`[sandbox] ${line}\n`),
  });
  await sandbox.interlink.waitNodeReady();
  await ensureNamespace(sandbox, NS);
}, 240_000);

afterAll(async () => {
  await sandbox.stop();
}, 120_000);

const busybox = (name: string, script: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  name,
  image: 'busybox:1.36',
  command: ['sh', '-c', script],
  ...extra,
});

/** A script that runs until deleted: PID 1 gets no default TERM handling. */
const untilDeleted = (before = ''): string => `trap 'exit 0' TERM; ${before} sleep 3600 & wait`;

async function logs(args: string[]): Promise<string> {
  return sandbox.kubectl.run(['logs', '--namespace', NS, ...args]);
}

describe('a pod on the virtual node', () => {
  it('runs on the remote node and goes Pending → Running → Succeeded with exit code 0', async () => {
    await apply(sandbox, virtualNodePod(sandbox, NS, 'succeeds', { containers: [busybox('main', 'echo started; sleep 8; echo finished')] }));
    const { phases, pod } = await watchPhases(sandbox, NS, 'succeeds', inPhase('Succeeded', 'Failed'));
    expect(phases).toEqual(['Pending', 'Running', 'Succeeded']);
    expect(pod.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(0);
    const [remote, ...more] = await remotePodsOf(sandbox, pod.metadata.uid);
    expect(more).toHaveLength(0);
    expect(remote?.spec.nodeName).toBe(sandbox.node.name);
    // The kubelet may write the remote pod's phase a moment after its container's end.
    await eventually('the remote pod Succeeded', async () => ((await remotePodsOf(sandbox, pod.metadata.uid))[0]?.status?.phase === 'Succeeded' ? true : undefined), 30_000);
    expect(await logs(['succeeds'])).toBe('started\nfinished\n');
  }, 90_000);

  it('goes Failed with the exit code of its container', async () => {
    await apply(sandbox, virtualNodePod(sandbox, NS, 'fails', { containers: [busybox('main', 'sleep 7; echo giving up; exit 3')] }));
    const { phases, pod } = await watchPhases(sandbox, NS, 'fails', inPhase('Succeeded', 'Failed'));
    expect(phases).toEqual(['Pending', 'Running', 'Failed']);
    expect(pod.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(3);
    // The kubelet may write the remote pod's phase a moment after its container's end.
    await eventually('the remote pod Failed', async () => ((await remotePodsOf(sandbox, pod.metadata.uid))[0]?.status?.phase === 'Failed' ? true : undefined), 30_000);
  }, 90_000);

  it('is deleted with kubectl delete, and nothing of it is left on the remote cluster', async () => {
    await apply(
      sandbox,
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'deleted-data', namespace: NS }, data: { a: '1' } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'deleted-secret', namespace: NS }, stringData: { b: '2' } },
      virtualNodePod(sandbox, NS, 'deleted', {
        containers: [busybox('main', untilDeleted(), { volumeMounts: [{ name: 'cm', mountPath: '/cm' }, { name: 's', mountPath: '/s' }] })],
        volumes: [
          { name: 'cm', configMap: { name: 'deleted-data' } },
          { name: 's', secret: { secretName: 'deleted-secret' } },
        ],
      }),
    );
    const { pod } = await watchPhases(sandbox, NS, 'deleted', inPhase('Running'));
    // The pod, the ConfigMap and Secret copies, and the service-account token's Secret.
    expect((await remoteObjectsOf(sandbox, pod.metadata.uid)).length).toBeGreaterThanOrEqual(3);
    await sandbox.kubectl.run(['delete', 'pod', 'deleted', '--namespace', NS, '--wait=true']);
    await waitRemoteGone(sandbox, pod.metadata.uid);
  }, 120_000);

  it('mounts one ConfigMap in two containers from one remote copy', async () => {
    await apply(
      sandbox,
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'shared', namespace: NS }, data: { 'text.txt': 'shared by two' } },
      virtualNodePod(sandbox, NS, 'two-readers', {
        containers: ['first', 'second'].map((name) =>
          busybox(name, `echo "${name}: $(cat /shared/text.txt)"; sleep 6`, { volumeMounts: [{ name: 'shared', mountPath: '/shared' }] }),
        ),
        volumes: [{ name: 'shared', configMap: { name: 'shared' } }],
      }),
    );
    const { pod } = await watchPhases(sandbox, NS, 'two-readers', inPhase('Succeeded', 'Failed'));
    expect(pod.status?.phase).toBe('Succeeded');
    expect(await logs(['two-readers', '-c', 'first'])).toBe('first: shared by two\n');
    expect(await logs(['two-readers', '-c', 'second'])).toBe('second: shared by two\n');
    const copies = (await remoteObjectsOf(sandbox, pod.metadata.uid)).filter((o) => o.startsWith('ConfigMap '));
    expect(copies).toHaveLength(1);
  }, 90_000);

  it('runs as a Job: the Job completes with every pod offloaded once', async () => {
    await apply(sandbox, {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'batch', namespace: NS },
      spec: {
        completions: 2,
        parallelism: 2,
        backoffLimit: 0,
        template: { spec: (virtualNodePod(sandbox, NS, 'unused', { containers: [busybox('work', 'echo working; sleep 6; echo done')] }) as { spec: unknown }).spec },
      },
    });
    await sandbox.kubectl.run(['wait', '--for=condition=Complete', '--timeout=120s', 'job/batch', '--namespace', NS]);
    const pods = await sandbox.localKube.ok<{ items: PodJson[] }>('GET', `/api/v1/namespaces/${NS}/pods?labelSelector=job-name%3Dbatch`);
    expect(pods.items.map((p) => p.status?.phase)).toEqual(['Succeeded', 'Succeeded']);
    for (const p of pods.items) expect(await remotePodsOf(sandbox, p.metadata.uid)).toHaveLength(1);
  }, 150_000);

  it('keeps working with a namespace and a pod name at their length limits', async () => {
    const namespace = `n${'x'.repeat(61)}9`;
    const name = `p${'y'.repeat(251)}9`;
    expect([namespace.length, name.length]).toEqual([63, 253]);
    await ensureNamespace(sandbox, namespace);
    await apply(sandbox, virtualNodePod(sandbox, namespace, name, { containers: [busybox('main', 'echo long names work; sleep 6')] }));
    const { pod } = await watchPhases(sandbox, namespace, name, inPhase('Succeeded', 'Failed'));
    expect(pod.status?.phase).toBe('Succeeded');
    expect(await sandbox.kubectl.run(['logs', name, '--namespace', namespace])).toBe('long names work\n');
    await sandbox.kubectl.run(['delete', 'namespace', namespace, '--wait=false']);
  }, 90_000);
});

describe('the local phase is the remote phase', () => {
  /** Waits until the local pod has ended, then for the remote pod to show the same phase. */
  async function ended(name: string): Promise<{ local: PodJson; remote: PodJson }> {
    const { pod: local } = await watchPhases(sandbox, NS, name, inPhase('Succeeded', 'Failed'));
    const remote = await eventually(
      `the remote pod of ${name} ended`,
      async () => {
        const [r] = await remotePodsOf(sandbox, local.metadata.uid);
        return r?.status?.phase === 'Succeeded' || r?.status?.phase === 'Failed' ? r : undefined;
      },
      30_000,
    );
    return { local, remote };
  }

  it('with a native sidecar killed at the end of its pod: Succeeded, as the remote pod', async () => {
    await apply(
      sandbox,
      virtualNodePod(sandbox, NS, 'with-sidecar', {
        terminationGracePeriodSeconds: 2,
        // No TERM handling: the kubelet kills the sidecar (exit 137) when the pod ends.
        initContainers: [busybox('side', 'echo sidecar up; sleep 3600', { restartPolicy: 'Always' })],
        containers: [busybox('main', 'echo working; sleep 6; echo done')],
      }),
    );
    const { local, remote } = await ended('with-sidecar');
    expect(remote.status?.phase).toBe('Succeeded');
    expect(local.status?.phase).toBe('Succeeded');
    expect(await logs(['with-sidecar', '-c', 'side'])).toBe('sidecar up\n');
  }, 90_000);

  it('with a failing init container: Failed, as the remote pod, naming the init container\'s exit code', async () => {
    await apply(
      sandbox,
      virtualNodePod(sandbox, NS, 'init-fails', {
        initContainers: [busybox('setup', 'echo setting up; sleep 2; exit 7')],
        containers: [busybox('main', 'echo never runs')],
      }),
    );
    const { local, remote } = await ended('init-fails');
    expect(remote.status?.phase).toBe('Failed');
    expect(local.status?.phase).toBe('Failed');
    expect(local.status?.initContainerStatuses?.[0]?.state?.terminated?.exitCode).toBe(7);
    // The main container never started: it is not reported with an exit code of its own.
    const main = local.status?.containerStatuses?.[0]?.state;
    expect(main?.terminated?.exitCode ?? 0).toBe(0);
    expect(await logs(['init-fails', '-c', 'setup'])).toBe('setting up\n');
  }, 90_000);

  it('killed for memory: Failed with exit code 137 and reason OOMKilled on the remote pod', async () => {
    await apply(
      sandbox,
      virtualNodePod(sandbox, NS, 'oom', {
        containers: [
          busybox('hog', 'echo allocating; sleep 6; head -c 256m /dev/zero | tail', {
            resources: { limits: { memory: '24Mi' }, requests: { memory: '24Mi' } },
          }),
        ],
      }),
    );
    const { local, remote } = await ended('oom');
    expect(remote.status?.containerStatuses?.[0]?.state?.terminated?.reason).toBe('OOMKilled');
    expect(local.status?.phase).toBe('Failed');
    expect(local.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(137);
  }, 90_000);
});

describe('kubectl logs', () => {
  let started = 0;
  beforeAll(async () => {
    // "a" prints five lines, waits, prints "late", then ticks every second; "b" prints once.
    await apply(
      sandbox,
      virtualNodePod(sandbox, NS, 'logger', {
        containers: [
          busybox('a', untilDeleted("for i in 1 2 3 4 5; do echo line $i; done; sleep 6; echo late; (i=0; while true; do i=$((i+1)); echo tick $i; sleep 1; done) &")),
          busybox('b', untilDeleted('echo from b;')),
        ],
      }),
    );
    await watchPhases(sandbox, NS, 'logger', inPhase('Running'));
    await eventually('the late line', async () => ((await logs(['logger', '-c', 'a'])).includes('late') ? true : undefined), 60_000);
    started = Date.now();
  }, 120_000);

  it('--tail gives the last lines of one container (-c)', async () => {
    const text = await logs(['logger', '-c', 'a', '--tail=2']);
    expect(text.split('\n').filter((l) => l !== '')).toHaveLength(2);
    expect(await logs(['logger', '-c', 'b'])).toBe('from b\n');
  });

  it('--limit-bytes cuts the log', async () => {
    expect(await logs(['logger', '-c', 'a', '--limit-bytes=6'])).toBe('line 1');
  });

  it('--timestamps prefixes every line with its RFC 3339 time', async () => {
    const lines = (await logs(['logger', '-c', 'a', '--timestamps', '--tail=3'])).trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z (line \d|late|tick \d+)$/);
  });

  it('--since leaves out what is older', async () => {
    // "line 1".."line 5" came at least 6 s before "late".
    const text = await logs(['logger', '-c', 'a', `--since=${String(Math.max(4, Math.ceil((Date.now() - started) / 1000) + 3))}s`]);
    expect(text).toContain('late');
    expect(text).not.toContain('line 1');
  });

  it('-f follows the log as it grows', async () => {
    const seen = await new Promise<string>((resolve, reject) => {
      const child = spawn(sandbox.kubectl.binary, ['--kubeconfig', sandbox.kubectl.kubeconfig, 'logs', 'logger', '-c', 'a', '-f', '--tail=1', '--namespace', NS], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      const timer = setTimeout(() => {
        child.kill();
        reject(new Error(`no new line within 20 s: ${out}`));
      }, 20_000);
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString('utf8');
        // The tail line, then at least two that came after it.
        if (out.split('\n').filter((l) => l.startsWith('tick')).length >= 3) {
          clearTimeout(timer);
          child.kill();
          resolve(out);
        }
      });
      child.on('error', reject);
    });
    const ticks = seen.split('\n').filter((l) => l.startsWith('tick')).map((l) => Number(l.split(' ')[1]));
    expect(ticks[1]).toBe((ticks[0] ?? 0) + 1);
  }, 30_000);

  it('--previous shows the log of the run before a restart', async () => {
    await apply(
      sandbox,
      virtualNodePod(sandbox, NS, 'restarts', {
        restartPolicy: 'OnFailure',
        containers: [
          busybox('main', untilDeleted('if [ -f /data/ran ]; then echo second run; else touch /data/ran; echo first run; exit 1; fi;'), {
            volumeMounts: [{ name: 'data', mountPath: '/data' }],
          }),
        ],
        volumes: [{ name: 'data', emptyDir: {} }],
      }),
    );
    await eventually('the second run', async () => ((await logs(['restarts']).catch(() => '')).includes('second run') ? true : undefined), 90_000);
    expect(await logs(['restarts', '--previous'])).toBe('first run\n');
    const pod = await eventually(
      'the restart in the local status',
      async () => {
        const p = await localPod(sandbox, NS, 'restarts');
        return (p?.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1 ? p : undefined;
      },
      30_000,
    );
    expect(pod.status?.phase).toBe('Running');
  }, 120_000);
});

describe('restarts while pods run', () => {
  it('the plugin, the remote API server, InterLink API server and VK restarted: the pod keeps running and reporting, never duplicated', async () => {
    await apply(sandbox, virtualNodePod(sandbox, NS, 'survivor', { containers: [busybox('main', "trap 'exit 0' TERM; i=0; while [ $i -lt 75 ]; do i=$((i+1)); echo tick $i; sleep 1; done; echo survived")] }));
    const { pod } = await watchPhases(sandbox, NS, 'survivor', inPhase('Running'));
    const uid = pod.metadata.uid;
    const stillOne = async (): Promise<void> => {
      expect(await remotePodsOf(sandbox, uid)).toHaveLength(1);
      expect((await localPod(sandbox, NS, 'survivor'))?.status?.phase).toBe('Running');
    };

    await sandbox.restartPlugin({ kill: true });
    await stillOne();
    await sandbox.remote.restartApiServer();
    await stillOne();
    await sandbox.interlink.restartApiServer();
    await stillOne();
    await sandbox.interlink.restartVirtualKubelet();
    await stillOne();
    // Still reporting: the log grows, and the end is seen.
    const { pod: done } = await watchPhases(sandbox, NS, 'survivor', inPhase('Succeeded', 'Failed'), 120_000);
    expect(done.status?.phase).toBe('Succeeded');
    expect(await logs(['survivor', '--tail=1'])).toBe('survived\n');
    expect(await remotePodsOf(sandbox, uid)).toHaveLength(1);
  }, 240_000);
});

describe('deleting', () => {
  it('a local grace period reaches the remote pod (kubectl delete --grace-period=1)', async () => {
    await apply(
      sandbox,
      virtualNodePod(sandbox, NS, 'stubborn', {
        terminationGracePeriodSeconds: 120,
        containers: [busybox('main', "trap '' TERM; sleep 3600 & wait")],
      }),
    );
    const { pod } = await watchPhases(sandbox, NS, 'stubborn', inPhase('Running'));
    const t0 = Date.now();
    await sandbox.kubectl.run(['delete', 'pod', 'stubborn', '--namespace', NS, '--grace-period=1', '--wait=false']);
    await waitRemoteGone(sandbox, pod.metadata.uid, 30_000);
    expect(Date.now() - t0).toBeLessThan(30_000);
    await waitGone(sandbox, NS, 'stubborn');
  }, 90_000);

  it('a pod deleted while the plugin is down does not stay running remotely', async () => {
    await apply(sandbox, virtualNodePod(sandbox, NS, 'orphan', { containers: [busybox('main', untilDeleted())] }));
    const { pod } = await watchPhases(sandbox, NS, 'orphan', inPhase('Running'));
    // InterLink sends its one delete while the plugin is down; the VK
    // removes the local pod anyway and never asks again.
    await sandbox.restartPlugin({
      kill: true,
      whileDown: async () => {
        await sandbox.kubectl.run(['delete', 'pod', 'orphan', '--namespace', NS, '--wait=false']);
        await waitGone(sandbox, NS, 'orphan');
        expect(await remotePodsOf(sandbox, pod.metadata.uid)).toHaveLength(1);
      },
    });
    // The plugin, back, finds the local pod gone and removes the remote one.
    await waitRemoteGone(sandbox, pod.metadata.uid, 150_000);
  }, 240_000);
});

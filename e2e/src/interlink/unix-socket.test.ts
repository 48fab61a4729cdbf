/**
 * InterLink's API server reaching the plugin over a unix socket (its
 * `SidecarURL: unix:///...`, how the plugin runs inside InterLink's pod).
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type Sandbox } from '../sandbox/sandbox.js';
import { apply, ensureNamespace, inPhase, remotePodsOf, virtualNodePod, waitRemoteGone, watchPhases } from '../sandbox/pods.js';

let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startSandbox({
    dir: await mkdtemp(join(tmpdir(), 'interlink-k8s-e2e-unix-')),
    pluginTransport: 'unix',
    log: (line) => process.stderr.write(`[sandbox] ${line}\n`),
  });
  await sandbox.interlink.waitNodeReady();
  await ensureNamespace(sandbox, 'unix');
}, 240_000);

afterAll(async () => {
  await sandbox.stop();
}, 120_000);

it('a pod is offloaded, reports its status, shows its logs and is deleted, all through the socket', async () => {
  const socket = sandbox.plugin.socketPath ?? '';
  expect(socket).not.toBe('');
  // Only InterLink's user may talk to the plugin.
  expect((await stat(socket)).mode & 0o777).toBe(0o600);
  await apply(sandbox, virtualNodePod(sandbox, 'unix', 'over-socket', { containers: [{ name: 'main', image: 'busybox:1.36', command: ['sh', '-c', 'echo via the socket; sleep 6'] }] }));
  const { phases, pod } = await watchPhases(sandbox, 'unix', 'over-socket', inPhase('Succeeded', 'Failed'));
  expect(phases).toEqual(['Pending', 'Running', 'Succeeded']);
  expect(await sandbox.kubectl.run(['logs', 'over-socket', '--namespace', 'unix'])).toBe('via the socket\n');
  expect(await remotePodsOf(sandbox, pod.metadata.uid)).toHaveLength(1);
  await sandbox.kubectl.run(['delete', 'pod', 'over-socket', '--namespace', 'unix']);
  await waitRemoteGone(sandbox, pod.metadata.uid);
}, 120_000);

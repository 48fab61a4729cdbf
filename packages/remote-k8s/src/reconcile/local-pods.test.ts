import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { InputError, PluginError } from '@interlink-k8s/protocol';
import { KubeApiError } from './errors.js';
import { KubernetesLocalPods, buildLocalKubeConfig } from './local-pods.js';
import type { RawPod, RemoteApi } from './remote-api.js';

/** A local API that answers one GET of a pod; records what was asked. */
function localApi(answer: () => Promise<RawPod>) {
  const asked: string[] = [];
  const api: Pick<RemoteApi, 'get'> = {
    get(resource, name, namespace) {
      asked.push(`${resource} ${namespace ?? ''}/${name}`);
      return answer();
    },
  };
  return { api, asked };
}

const refused = (status: number | undefined, message: string) => () =>
  Promise.reject(new KubeApiError(message, { status, request: { verb: 'get', resource: 'pods', namespace: 'team', name: 'job' } }));

describe('KubernetesLocalPods.podUid', () => {
  it('answers the UID of a local pod that exists, with one GET of that pod', async () => {
    const { api, asked } = localApi(() => Promise.resolve({ metadata: { name: 'job', namespace: 'team', uid: 'local-uid' } }));
    expect(await new KubernetesLocalPods(api).podUid('team', 'job')).toBe('local-uid');
    expect(asked).toEqual(['pods team/job']);
  });

  it('answers undefined only when the local API says 404', async () => {
    const { api } = localApi(refused(404, 'pods "job" not found'));
    expect(await new KubernetesLocalPods(api).podUid('team', 'job')).toBeUndefined();
  });

  it.each([
    [403, 'pods "job" is forbidden: User "system:serviceaccount:interlink:plugin" cannot get resource "pods"', /^the plugin's local credentials lack permission to get pods in namespace "team" \(403\)/],
    [401, 'Unauthorized', /^the plugin's local credentials lack permission to get pods in namespace "team" \(401\)/],
    [undefined, 'connect ECONNREFUSED 10.0.0.1:443', /^local cluster unreachable \(get pods in namespace "team"\): connect ECONNREFUSED/],
    [503, 'the server is currently unable to handle the request', /^local cluster unreachable/],
    [410, 'gone', /^local cluster answered 410 to get pods in namespace "team" \(job\)/],
  ])('rejects (never guesses absence) when the local API answers %p', async (status, message, expected) => {
    const { api } = localApi(refused(status, message));
    const failure = new KubernetesLocalPods(api).podUid('team', 'job');
    await expect(failure).rejects.toBeInstanceOf(PluginError);
    await expect(failure).rejects.toThrow(expected);
  });

  it('rejects a pod answered without a UID', async () => {
    const { api } = localApi(() => Promise.resolve({ metadata: { name: 'job', namespace: 'team' } }));
    await expect(new KubernetesLocalPods(api).podUid('team', 'job')).rejects.toThrow(/without a uid/);
  });
});

describe('buildLocalKubeConfig', () => {
  it('loads a kubeconfig file of the local cluster', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'local-kubeconfig-'));
    try {
      const path = join(dir, 'kubeconfig');
      await writeFile(
        path,
        [
          'apiVersion: v1',
          'kind: Config',
          'clusters: [{name: local, cluster: {server: "https://127.0.0.1:6443"}}]',
          'users: [{name: reader, user: {token: t}}]',
          'contexts: [{name: local, context: {cluster: local, user: reader}}]',
          'current-context: local',
        ].join('\n'),
      );
      expect(buildLocalKubeConfig({ kind: 'file', path }).getCurrentCluster()?.server).toBe('https://127.0.0.1:6443');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names local.kubeconfig_path when the file cannot be loaded', () => {
    let thrown: unknown;
    try {
      buildLocalKubeConfig({ kind: 'file', path: '/nonexistent/kubeconfig' });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(InputError);
    expect((thrown as InputError).field).toBe('local.kubeconfig_path');
    expect((thrown as InputError).message).toMatch(/^cannot load the local kubeconfig file \/nonexistent\/kubeconfig/);
  });
});

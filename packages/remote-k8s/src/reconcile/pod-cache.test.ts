import { afterEach, describe, expect, it } from '@jest/globals';
import { FakeCluster } from './__tests__/fake-cluster.js';
import { until } from './__tests__/fixtures.js';
import { PodCache } from './pod-cache.js';

const caches: PodCache[] = [];

function setup(): { remote: FakeCluster; cache: PodCache; notices: string[] } {
  const remote = new FakeCluster();
  const notices: string[] = [];
  const cache = new PodCache(remote, {
    labelSelector: 'managed=yes,uid',
    keyLabel: 'uid',
    backoff: { initialMs: 1, maxMs: 5 },
    events: { notice: (message) => notices.push(message) },
  });
  caches.push(cache);
  remote.seed('namespaces', { metadata: { name: 'a' } });
  remote.seed('namespaces', { metadata: { name: 'b' } });
  return { remote, cache, notices };
}

const pod = (name: string, namespace: string, uid: string, extra: Record<string, string> = {}) => ({
  metadata: { name, namespace, labels: { managed: 'yes', uid }, ...extra },
});

afterEach(async () => {
  await Promise.all(caches.splice(0).map((c) => c.stop()));
});

describe('PodCache', () => {
  it('lists, then follows additions, changes and deletions of the selected pods only', async () => {
    const { remote, cache } = setup();
    remote.seed('pods', pod('p1', 'a', 'u1'));
    remote.seed('pods', { metadata: { name: 'unmanaged', namespace: 'a', labels: { uid: 'u9' } } });
    cache.start();
    expect(await cache.waitForSync(1000)).toBe(true);
    expect(cache.size).toBe(1);
    expect(cache.get('u1')?.metadata?.name).toBe('p1');

    remote.seed('pods', pod('p2', 'b', 'u2'));
    remote.mutate('pods', 'p1', 'a', (p) => {
      p.status = { phase: 'Running' };
    });
    remote.remove('pods', 'p2', 'b');
    await until(() => cache.get('u1')?.status?.phase === 'Running');
    expect(cache.has('u2')).toBe(false);
    expect(cache.size).toBe(1);
  });

  it('prefers, among pods of one local UID, the one not being deleted', async () => {
    const { remote, cache } = setup();
    remote.seed('pods', pod('old', 'a', 'u1', { deletionTimestamp: '2026-07-01T10:00:00Z' }));
    remote.seed('pods', pod('new', 'b', 'u1'));
    cache.start();
    await cache.waitForSync(1000);
    expect(cache.get('u1')?.metadata?.name).toBe('new');
    remote.remove('pods', 'new', 'b');
    await until(() => cache.get('u1')?.metadata?.name === 'old');
  });

  it('lists again on an in-stream 410 ERROR event, dropping pods deleted while it was not looking', async () => {
    const { remote, cache, notices } = setup();
    remote.seed('pods', pod('p1', 'a', 'u1'));
    cache.start();
    await cache.waitForSync(1000);
    const lists = remote.count('list');
    remote.pauseWatches(); // the DELETED event never reaches this watch
    remote.remove('pods', 'p1', 'a');
    remote.sendWatchError(410, 'too old resource version: 5 (9)');
    await until(() => remote.count('list') > lists);
    await until(() => cache.size === 0);
    expect(notices).toContain('remote pod watch expired; listing again');
    expect(cache.synced).toBe(true);
  });

  it('treats any other ERROR event as a failure: unsynced, then re-watched after a backoff', async () => {
    const { remote, cache, notices } = setup();
    cache.start();
    await cache.waitForSync(1000);
    remote.sendWatchError(500, 'internal error');
    await until(() => notices.includes('remote pod watch resumed'));
    expect(notices[0]).toBe('remote pod watch interrupted; restarting');
    expect(cache.synced).toBe(true);
  });

  it('is not synced before the first list succeeds, and retries it', async () => {
    const { remote, cache } = setup();
    remote.fail((c) => c.method === 'list', new Error('connection refused'), 3);
    cache.start();
    expect(cache.synced).toBe(false);
    expect(await cache.waitForSync(1000)).toBe(true);
    expect(remote.count('list')).toBe(4);
  });

  it('stop() ends the watch', async () => {
    const { remote, cache } = setup();
    cache.start();
    await cache.waitForSync(1000);
    expect(remote.openWatches).toBe(1);
    await cache.stop();
    expect(remote.openWatches).toBe(0);
    expect(cache.synced).toBe(false);
  });
});

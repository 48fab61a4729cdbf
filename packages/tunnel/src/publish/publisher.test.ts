import { afterEach, describe, expect, it } from '@jest/globals';
import type { ClientIdentity, ForwardInfo } from '../gateway/types.js';
import type { PodIdentity } from '@interlink-k8s/contract';
import { waitFor } from '../__tests__/helpers.js';
import { ServicePublisher, type LocalClusterApi, type LocalPod, type PublishedService, type PublisherEvents } from './publisher.js';

/** An in-memory local cluster behind the publisher's narrow API. */
class FakeCluster implements LocalClusterApi {
  readonly pods = new Map<string, LocalPod>();
  readonly services = new Map<string, { managed: boolean; manifest?: Record<string, unknown> }>();
  readonly slices = new Map<string, Record<string, unknown>>();
  readonly calls: string[] = [];
  failures = 0;

  getPod(namespace: string, name: string) {
    return this.#answer(`get pod ${namespace}/${name}`, () => this.pods.get(`${namespace}/${name}`));
  }

  getService(namespace: string, name: string) {
    return this.#answer(`get service ${namespace}/${name}`, () => {
      const found = this.services.get(`${namespace}/${name}`);
      return found === undefined ? undefined : { managed: found.managed };
    });
  }

  apply(manifest: Record<string, unknown>) {
    const { namespace, name } = manifest.metadata as { namespace: string; name: string };
    return this.#answer(`apply ${String(manifest.kind)} ${namespace}/${name}`, () => {
      if (manifest.kind === 'Service') this.services.set(`${namespace}/${name}`, { managed: true, manifest });
      else this.slices.set(`${namespace}/${name}`, manifest);
      return `uid-of-${name}`;
    });
  }

  delete(kind: 'Service' | 'EndpointSlice', namespace: string, name: string) {
    return this.#answer(`delete ${kind} ${namespace}/${name}`, () => {
      (kind === 'Service' ? this.services : this.slices).delete(`${namespace}/${name}`);
    });
  }

  listPublished() {
    return this.#answer('list', () =>
      [...this.services.entries()]
        .filter(([, s]) => s.managed)
        .map(([key, s]): PublishedService => {
          const [namespace = '', name = ''] = key.split('/');
          const uid = ((s.manifest?.metadata as { labels: Record<string, string> }).labels)['interlink.io/source.pod_uid'] ?? '';
          return { namespace, name, pod: { namespace, name, uid } };
        }),
    );
  }

  readonly warnings: string[] = [];

  warn(pod: PodIdentity, reason: string, message: string) {
    return this.#answer(`warn ${pod.namespace}/${pod.name}`, () => {
      this.warnings.push(`${pod.namespace}/${pod.name} ${reason}: ${message}`);
    });
  }

  servicePorts(key: string): unknown {
    return (this.services.get(key)?.manifest?.spec as { ports: unknown } | undefined)?.ports;
  }

  #answer<T>(call: string, answer: () => T): Promise<T> {
    this.calls.push(call);
    if (this.failures > 0) {
      this.failures--;
      return Promise.reject(new Error(`API down (${call})`));
    }
    return Promise.resolve(answer());
  }
}

const web: PodIdentity = { namespace: 'shop', name: 'web', uid: 'u-web' };

let nextConnection = 1;
function forward(
  pod: PodIdentity | undefined,
  containerPort: number,
  allocatedPort: number,
  connectionId = `c${nextConnection++}`,
  verified = true,
  labels: Record<string, string> = {},
): ForwardInfo {
  const identity: ClientIdentity | undefined = pod === undefined ? undefined : { pod, verified };
  return {
    connectionId,
    clientKeyFingerprint: 'SHA256:x',
    username: 'u',
    remoteAddress: '10.0.0.1',
    remotePort: 1,
    requestedAddress: '0.0.0.0',
    requestedPort: containerPort,
    allocatedPort,
    labels,
    ...(identity === undefined ? {} : { identity }),
  };
}

const publishers: ServicePublisher[] = [];
afterEach(() => {
  for (const p of publishers.splice(0)) p.close();
});

function setUp(options: { graceMs?: number; namespaces?: string[]; verifiedOnly?: boolean } = {}) {
  const cluster = new FakeCluster();
  cluster.pods.set('shop/web', { uid: 'u-web', ports: [{ name: 'http', containerPort: 8080 }] });
  const log: string[] = [];
  const events: PublisherEvents = {
    onPublished: (s, ports) => log.push(`published ${s.namespace}/${s.name} ${ports.map((p) => `${p.name}:${p.containerPort}->${p.allocatedPort}`).join(',')}`),
    onUnpublished: (s, reason) => log.push(`unpublished ${s.namespace}/${s.name} ${reason}`),
    onSkipped: (_subject, reason) => log.push(`skipped ${reason}`),
    onError: (error) => log.push(`error ${error.message}`),
  };
  const publisher = new ServicePublisher(
    cluster,
    { address: '10.9.0.1', graceMs: options.graceMs ?? 60_000, namespaces: options.namespaces ?? [], verifiedOnly: options.verifiedOnly ?? false, retryInitialMs: 10, retryMaxMs: 50 },
    events,
  );
  publishers.push(publisher);
  return { cluster, publisher, log };
}

describe('ServicePublisher', () => {
  it('publishes a Service per pod with all its forwarded ports, and an EndpointSlice on the gateway', async () => {
    const { cluster, publisher, log } = setUp();
    publisher.forwardAdded(forward(web, 8080, 20001, 'c1'));
    await waitFor(() => log.includes('published shop/web http:8080->20001'));
    publisher.forwardAdded(forward(web, 9090, 20002, 'c1'));
    await waitFor(() => log.includes('published shop/web http:8080->20001,tcp-9090:9090->20002'));

    expect(cluster.servicePorts('shop/web')).toEqual([
      { name: 'http', port: 8080, targetPort: 20001, protocol: 'TCP' },
      { name: 'tcp-9090', port: 9090, targetPort: 20002, protocol: 'TCP' },
    ]);
    expect(cluster.slices.get('shop/web')).toMatchObject({ endpoints: [{ addresses: ['10.9.0.1'] }], ports: [{ port: 20001 }, { port: 20002 }] });
    expect(publisher.size).toBe(1);
  });

  it('when a pod\'s last forward goes: empties its endpoints at once and deletes the Service after the grace period', async () => {
    const { cluster, publisher, log } = setUp({ graceMs: 100 });
    const f = forward(web, 8080, 20001);
    publisher.forwardAdded(f);
    await waitFor(() => cluster.services.has('shop/web'));

    publisher.forwardRemoved(f, 'disconnected');
    await waitFor(() => (cluster.slices.get('shop/web')?.endpoints as unknown[] | undefined)?.length === 0);
    expect(cluster.services.has('shop/web')).toBe(true);

    await waitFor(() => log.includes('unpublished shop/web forwards-gone'));
    expect(cluster.services.has('shop/web')).toBe(false);
    expect(cluster.slices.has('shop/web')).toBe(false);
    expect(publisher.size).toBe(0);
  });

  it('keeps the Service when the bastion comes back within the grace period (reconnect), with the new port', async () => {
    const { cluster, publisher, log } = setUp({ graceMs: 150 });
    const before = forward(web, 8080, 20001);
    publisher.forwardAdded(before);
    await waitFor(() => cluster.services.has('shop/web'));
    publisher.forwardRemoved(before, 'disconnected');
    publisher.forwardAdded(forward(web, 8080, 20005));

    await waitFor(() => log.includes('published shop/web http:8080->20005'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(cluster.calls.filter((call) => call.startsWith('delete'))).toEqual([]);
    expect(cluster.servicePorts('shop/web')).toEqual([{ name: 'http', port: 8080, targetPort: 20005, protocol: 'TCP' }]);
  });

  it('prefers the newest of two connections forwarding the same port, and falls back to the other when it goes', async () => {
    const { cluster, publisher } = setUp();
    const old = forward(web, 8080, 20001, 'old');
    const fresh = forward(web, 8080, 20002, 'new');
    publisher.forwardAdded(old);
    publisher.forwardAdded(fresh);
    await waitFor(() => JSON.stringify(cluster.servicePorts('shop/web') ?? null).includes('20002'));
    publisher.forwardRemoved(fresh, 'disconnected');
    await waitFor(() => JSON.stringify(cluster.servicePorts('shop/web') ?? null).includes('20001'));
  });

  it.each([
    ['a forward that names no pod', undefined, 'skipped unidentified'],
    ['a pod that does not exist locally', { ...web, name: 'ghost' }, 'skipped pod-not-found'],
    ['a pod whose UID differs (a claim about another pod)', { ...web, uid: 'u-other' }, 'skipped pod-not-found'],
    ['a namespace the gateway does not publish in', { ...web, namespace: 'other' }, 'skipped namespace-not-published'],
  ])('publishes nothing for %s', async (_what, pod, expected) => {
    const { cluster, publisher, log } = setUp({ namespaces: ['shop'] });
    publisher.forwardAdded(forward(pod, 8080, 20001));
    await waitFor(() => log.includes(expected));
    expect(cluster.calls.filter((call) => !call.startsWith('get'))).toEqual([]);
  });

  it('publishes a pod named by a shared key (a claim) only when per-pod keys are not in use', async () => {
    const strict = setUp({ verifiedOnly: true });
    strict.publisher.forwardAdded(forward(web, 8080, 20001, 'shared', false));
    await waitFor(() => strict.log.includes('skipped unverified'));
    expect(strict.cluster.calls).toEqual([]);

    const lenient = setUp({ verifiedOnly: false });
    lenient.publisher.forwardAdded(forward(web, 8080, 20001, 'shared', false));
    await waitFor(() => lenient.log.includes('published shop/web http:8080->20001'));
  });

  it('records one Warning event on the local pod for the ports its bastion says are not tunnelled', async () => {
    const { cluster, publisher, log } = setUp();
    const ignored = { 'ignored-ports': '8125/UDP 53/SCTP' };
    publisher.forwardAdded(forward(web, 8080, 20001, 'c1', true, ignored));
    await waitFor(() => cluster.warnings.length === 1);
    publisher.forwardAdded(forward(web, 9090, 20002, 'c1', true, ignored));
    await waitFor(() => log.includes('published shop/web http:8080->20001,tcp-9090:9090->20002'));

    expect(cluster.warnings).toEqual(['shop/web PortsNotTunnelled: Ports 8125/UDP, 53/SCTP are not reachable through Service web: the TCP tunnel carries TCP only']);
  });

  it('records no event when every port is tunnelled', async () => {
    const { cluster, publisher, log } = setUp();
    publisher.forwardAdded(forward(web, 8080, 20001));
    await waitFor(() => log.includes('published shop/web http:8080->20001'));
    expect(cluster.warnings).toEqual([]);
  });

  it('leaves alone a Service of the same name it does not manage', async () => {
    const { cluster, publisher, log } = setUp();
    cluster.services.set('shop/web', { managed: false });
    publisher.forwardAdded(forward(web, 8080, 20001));
    await waitFor(() => log.includes('skipped name-taken'));
    expect(cluster.calls.filter((call) => call.startsWith('apply'))).toEqual([]);
  });

  it('retries with backoff when the API fails', async () => {
    const { cluster, publisher, log } = setUp();
    cluster.failures = 3;
    publisher.forwardAdded(forward(web, 8080, 20001));
    await waitFor(() => log.includes('published shop/web http:8080->20001'));
    expect(log.filter((line) => line.startsWith('error API down'))).toHaveLength(3);
  });

  it('at start takes over the Services of an earlier gateway: deleted after the grace period unless their bastion comes back', async () => {
    const { cluster, publisher, log } = setUp({ graceMs: 100 });
    cluster.pods.set('shop/api', { uid: 'u-api', ports: [] });
    const manifest = (uid: string) => ({ metadata: { labels: { 'interlink.io/source.pod_uid': uid } } });
    cluster.services.set('shop/web', { managed: true, manifest: manifest('u-web') });
    cluster.services.set('shop/api', { managed: true, manifest: manifest('u-api') });
    cluster.services.set('shop/theirs', { managed: false });

    await publisher.start();
    publisher.forwardAdded(forward({ namespace: 'shop', name: 'api', uid: 'u-api' }, 80, 20007));

    await waitFor(() => log.includes('unpublished shop/web stale'));
    expect(cluster.services.has('shop/api')).toBe(true);
    expect(cluster.services.has('shop/theirs')).toBe(true);
  });

  it('leaves Services in place when the gateway shuts down (the next one takes them over)', async () => {
    const { cluster, publisher } = setUp({ graceMs: 10 });
    const f = forward(web, 8080, 20001);
    publisher.forwardAdded(f);
    await waitFor(() => cluster.services.has('shop/web'));
    publisher.forwardRemoved(f, 'shutdown');
    publisher.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(cluster.services.has('shop/web')).toBe(true);
    expect(cluster.slices.get('shop/web')).toMatchObject({ endpoints: [{ addresses: ['10.9.0.1'] }] });
  });
});

import type { Clock, PodView } from '../checks.js';
import type { SuiteCluster } from '../kube-cluster.js';
import type { Cleanable } from '../validation.js';

/** A clock whose `sleep` only moves time on. */
export class FakeClock implements Clock {
  t = 0;
  sleeps = 0;

  now(): number {
    return this.t;
  }

  sleep(ms: number): Promise<void> {
    this.t += ms;
    this.sleeps += 1;
    return Promise.resolve();
  }
}

/** A pod of the fake cluster: its phase and its log per container (`''` for a request without container). */
export interface FakePod {
  phase: string | undefined;
  logs?: Record<string, string>;
}

/**
 * A cluster as plain data: pods by `namespace/name`, what was created and
 * deleted, and hooks to change the state between rounds of checks.
 */
export class FakeCluster implements SuiteCluster {
  pods = new Map<string, FakePod>();
  nodes = new Set<string>(['vk']);
  namespaces = new Set<string>();
  created: string[] = [];
  deletedManifests: string[] = [];
  deleted: string[] = [];
  /** Called on every getPod/listPods: lets a test move pods on as time passes. */
  onRead: () => void = () => undefined;
  /** A log read for one of these pod keys fails (as the API server does before a container starts). */
  unreadable = new Set<string>();
  /** Thrown by `create`. */
  createError: Error | undefined;

  setPod(namespace: string, name: string, pod: FakePod): void {
    this.pods.set(`${namespace}/${name}`, pod);
  }

  private view(key: string, pod: FakePod): PodView {
    return { name: key.slice(key.indexOf('/') + 1), phase: pod.phase, containers: [] };
  }

  getPod(namespace: string, name: string): Promise<PodView | undefined> {
    this.onRead();
    const pod = this.pods.get(`${namespace}/${name}`);
    return Promise.resolve(pod === undefined ? undefined : this.view(`${namespace}/${name}`, pod));
  }

  listPods(namespace: string): Promise<PodView[]> {
    this.onRead();
    return Promise.resolve([...this.pods].filter(([key]) => key.startsWith(`${namespace}/`)).map(([key, pod]) => this.view(key, pod)));
  }

  readLog(namespace: string, name: string, container: string | undefined): Promise<string> {
    const key = `${namespace}/${name}`;
    const pod = this.pods.get(key);
    if (pod === undefined) return Promise.reject(new Error(`404 pods "${name}" not found`));
    if (this.unreadable.has(key)) return Promise.reject(new Error('400 container is waiting to start'));
    return Promise.resolve(pod.logs?.[container ?? ''] ?? '');
  }

  create(manifests: string): Promise<void> {
    if (this.createError !== undefined) return Promise.reject(this.createError);
    this.created.push(manifests);
    return Promise.resolve();
  }

  deleteManifests(manifests: string): Promise<void> {
    this.deletedManifests.push(manifests);
    // Everything the manifests made goes, as with the garbage collector.
    for (const key of [...this.pods.keys()]) {
      if (manifests.includes(key.slice(key.indexOf('/') + 1).replace(/-[a-z0-9]{5}$/, ''))) this.pods.delete(key);
    }
    return Promise.resolve();
  }

  deleteObject(type: Cleanable, namespace: string, name: string): Promise<void> {
    this.deleted.push(`${type} ${namespace}/${name}`);
    if (type === 'pod') this.pods.delete(`${namespace}/${name}`);
    if (type === 'namespace') this.namespaces.delete(name);
    return Promise.resolve();
  }

  nodeExists(name: string): Promise<boolean> {
    return Promise.resolve(this.nodes.has(name));
  }

  namespaceExists(name: string): Promise<boolean> {
    return Promise.resolve(this.namespaces.has(name));
  }

  createNamespace(name: string): Promise<void> {
    this.namespaces.add(name);
    return Promise.resolve();
  }
}

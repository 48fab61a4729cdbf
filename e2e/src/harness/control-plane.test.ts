import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  ApiException,
  CoreV1Api,
  KubeConfig,
  V1ConfigMap,
  V1Namespace,
  V1ObjectMeta,
  V1OwnerReference,
} from '@kubernetes/client-node';
import { existsSync } from 'node:fs';
import { startControlPlane, type ControlPlane } from './control-plane.js';
import { testKubeconfigPath } from './test-env.js';

// The client's models are classes; building real instances keeps object
// literals out of class-typed parameters.
function make<T extends object>(model: new () => T, fields: Partial<T>): T {
  return Object.assign(new model(), fields);
}

function configMap(name: string, ownerReferences?: V1OwnerReference[]): V1ConfigMap {
  return make(V1ConfigMap, { metadata: make(V1ObjectMeta, { name, ownerReferences }) });
}

function coreApi(kubeconfigPath: string): CoreV1Api {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return kc.makeApiClient(CoreV1Api);
}

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function isNotFound(read: () => Promise<unknown>): Promise<boolean> {
  try {
    await read();
    return false;
  } catch (error) {
    if (error instanceof ApiException && error.code === 404) return true;
    throw error;
  }
}

async function statusOf(call: () => Promise<unknown>): Promise<number> {
  try {
    await call();
    return 200;
  } catch (error) {
    if (error instanceof ApiException) return error.code;
    throw error;
  }
}

// A control plane of this file's own: restartApiServer() and stop() must not
// disturb the shared one that other test files use.
describe('startControlPlane', () => {
  let cp: ControlPlane;
  let api: CoreV1Api;

  beforeAll(async () => {
    cp = await startControlPlane({ name: 'harness-test' });
    api = coreApi(cp.kubeconfigPath);
  }, 120_000);

  afterAll(async () => {
    await cp.stop();
  });

  it('serves the API to the admin kubeconfig', async () => {
    const namespaces = await api.listNamespace();
    expect(namespaces.items.map((ns) => ns.metadata?.name)).toEqual(
      expect.arrayContaining(['default', 'kube-system']),
    );
    expect(cp.kubeconfigYaml).toContain(cp.apiServerUrl);
  });

  it('garbage-collects a ConfigMap whose owner was deleted', async () => {
    const namespace = 'default';
    const owner = await api.createNamespacedConfigMap({ namespace, body: configMap('gc-owner') });
    const uid = owner.metadata?.uid;
    if (uid === undefined) throw new Error('owner has no uid');
    await api.createNamespacedConfigMap({
      namespace,
      body: configMap('gc-dependent', [
        make(V1OwnerReference, { apiVersion: 'v1', kind: 'ConfigMap', name: 'gc-owner', uid }),
      ]),
    });

    // The owner lives, so the dependent stays (a wrong uid would get it collected too).
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await isNotFound(() => api.readNamespacedConfigMap({ name: 'gc-dependent', namespace }))).toBe(false);

    await api.deleteNamespacedConfigMap({ name: 'gc-owner', namespace });

    await eventually('dependent ConfigMap deleted', () =>
      isNotFound(() => api.readNamespacedConfigMap({ name: 'gc-dependent', namespace })),
    );
  });

  it('creates the default ServiceAccount in a new namespace and completes its deletion', async () => {
    const name = 'doomed';
    await api.createNamespace({ body: make(V1Namespace, { metadata: make(V1ObjectMeta, { name }) }) });
    await api.createNamespacedConfigMap({ namespace: name, body: configMap('content') });
    await eventually('default ServiceAccount created', async () =>
      !(await isNotFound(() => api.readNamespacedServiceAccount({ name: 'default', namespace: name }))),
    );

    await api.deleteNamespace({ name });

    // The namespace controller must empty it and drop its finalizer.
    await eventually('namespace gone', () => isNotFound(() => api.readNamespace({ name })));
  });

  it('kubeconfigFor gives a user without RBAC bindings 403 and honours groups', async () => {
    const alice = coreApi(await cp.kubeconfigFor('alice'));
    expect(await statusOf(() => alice.listNamespace())).toBe(403);

    const root = coreApi(await cp.kubeconfigFor('root', ['system:masters']));
    expect(await statusOf(() => root.listNamespace())).toBe(200);
  });

  it('restartApiServer brings the API back with its data', async () => {
    await api.createNamespacedConfigMap({ namespace: 'default', body: configMap('survivor') });

    await cp.restartApiServer();

    const survivor = await api.readNamespacedConfigMap({ name: 'survivor', namespace: 'default' });
    expect(survivor.metadata?.name).toBe('survivor');
  });

  it('stop ends the API server and removes the dir', async () => {
    await cp.stop();

    expect(existsSync(cp.dir)).toBe(false);
    // A connection error, not an HTTP status: nothing listens any more.
    await expect(api.listNamespace()).rejects.not.toBeInstanceOf(ApiException);
  });
});

describe('jest global setup', () => {
  it('shares a ready control plane through testKubeconfigPath()', async () => {
    const namespaces = await coreApi(testKubeconfigPath()).listNamespace();
    expect(namespaces.items.length).toBeGreaterThan(0);
  });
});

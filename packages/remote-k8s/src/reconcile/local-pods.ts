import { existsSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { InputError, PluginError } from '@interlink-k8s/protocol';
import { ClientNodeRemoteApi } from './client.js';
import { KubeApiError, describeRequest, hasStatus } from './errors.js';
import type { RemoteApi } from './remote-api.js';

/**
 * Where the credentials for the **local** cluster (the one with InterLink's
 * virtual node) come from: a kubeconfig file, or the plugin pod's own
 * ServiceAccount.
 */
export type LocalClusterSource = { kind: 'file'; path: string } | { kind: 'in-cluster' };

/**
 * Read access to the local cluster's pods: what the sweep needs to tell
 * whether the local pod of an offloaded pod still exists. Tests pass a plain
 * object.
 */
export interface LocalPodReader {
  /**
   * The UID of the local pod `namespace/name`, read fresh from the local API
   * server (never from a cache); `undefined` when it does not exist. Rejects
   * on any other failure (no answer, no permission): absence is never
   * guessed.
   */
  podUid(namespace: string, name: string): Promise<string | undefined>;
  /** Releases connections. */
  close?(): Promise<void>;
}

/** Where a pod's ServiceAccount token is mounted (client-node reads it from there for in-cluster access). */
const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * Builds the local cluster's `KubeConfig`. Throws an `InputError` naming the
 * configuration key when the file cannot be loaded, or when in-cluster
 * access is asked for outside a pod or without a mounted token.
 */
export function buildLocalKubeConfig(source: LocalClusterSource): KubeConfig {
  const kc = new KubeConfig();
  if (source.kind === 'file') {
    try {
      kc.loadFromFile(source.path);
    } catch (err) {
      throw new InputError(`cannot load the local kubeconfig file ${source.path}: ${err instanceof Error ? err.message : String(err)}`, {
        cause: err,
        field: 'local.kubeconfig_path',
      });
    }
    if (kc.getCurrentCluster() === null) {
      throw new InputError(`the local kubeconfig file ${source.path} has no current context with a cluster`, {
        field: 'local.kubeconfig_path',
      });
    }
    return kc;
  }
  kc.loadFromCluster();
  // client-node builds `https://undefined:undefined` outside a pod rather than failing.
  if (kc.getCurrentCluster()?.server.includes('undefined') !== false) {
    throw new InputError('local.in_cluster: not running in a pod (KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are unset)', {
      field: 'local.in_cluster',
    });
  }
  if (!existsSync(SERVICE_ACCOUNT_TOKEN)) {
    throw new InputError(
      `local.in_cluster: no ServiceAccount token at ${SERVICE_ACCOUNT_TOKEN} (is automountServiceAccountToken false for the plugin's pod?)`,
      { field: 'local.in_cluster' },
    );
  }
  return kc;
}

/**
 * {@link LocalPodReader} over the local Kubernetes API: one GET of the pod
 * (RBAC: `get` on `pods`) per question. Failures become the project's
 * errors with messages that say "local cluster".
 */
export class KubernetesLocalPods implements LocalPodReader {
  private readonly api: Pick<RemoteApi, 'get' | 'close'>;

  /** @param api a Kubernetes API client for the local cluster (a plain object in tests) */
  constructor(api: Pick<RemoteApi, 'get' | 'close'>) {
    this.api = api;
  }

  /** Builds the reader from where the local credentials come from. */
  static fromConfig(source: LocalClusterSource): KubernetesLocalPods {
    return new KubernetesLocalPods(new ClientNodeRemoteApi(buildLocalKubeConfig(source)));
  }

  async podUid(namespace: string, name: string): Promise<string | undefined> {
    let pod;
    try {
      // No resourceVersion: the API server answers from etcd, not from its watch cache.
      pod = await this.api.get('pods', name, namespace);
    } catch (err) {
      if (hasStatus(err, 404)) return undefined;
      throw toLocalError(err, namespace, name);
    }
    const uid = pod.metadata?.uid;
    if (uid === undefined || uid === '') throw new PluginError(`local cluster: pod ${namespace}/${name} was answered without a uid`);
    return uid;
  }

  async close(): Promise<void> {
    await this.api.close?.();
  }
}

/** A failed local read as one of the project's errors, its message about the local cluster. */
function toLocalError(err: unknown, namespace: string, name: string): PluginError {
  const what = `get pods in namespace "${namespace}"`;
  if (!(err instanceof KubeApiError)) {
    return new PluginError(`local cluster: ${what} (${name}) failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  if (err.status === undefined || err.status === 429 || err.status >= 500) {
    return new PluginError(`local cluster unreachable (${describeRequest(err.request)}): ${err.message}`, { cause: err });
  }
  if (err.status === 401 || err.status === 403) {
    return new PluginError(`the plugin's local credentials lack permission to ${what} (${String(err.status)}): ${err.message}`, {
      cause: err,
    });
  }
  return new PluginError(`local cluster answered ${String(err.status)} to ${what} (${name}): ${err.message}`, { cause: err });
}

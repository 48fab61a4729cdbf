import { KubeConfig } from '@kubernetes/client-node';
import { Kubectl, kubectlBinary } from '../charts/chart-tools.js';
import { eventually } from '../harness/eventually.js';
import { rawKube } from '../harness/kube-raw.js';
import type { ClusterReader, ContainerView, PodView } from './checks.js';
import type { ClusterWriter } from './cleanup.js';
import type { Cleanable } from './validation.js';

/** Everything a suite run does on its cluster, so that tests pass plain objects. */
export interface SuiteCluster extends ClusterReader, ClusterWriter {
  nodeExists(name: string): Promise<boolean>;
  namespaceExists(name: string): Promise<boolean>;
  createNamespace(name: string): Promise<void>;
}

interface ContainerStatusJson {
  name: string;
  state?: {
    running?: unknown;
    waiting?: { reason?: string; message?: string };
    terminated?: { exitCode?: number; reason?: string };
  };
}

interface PodJson {
  metadata: { name: string };
  status?: { phase?: string; initContainerStatuses?: ContainerStatusJson[]; containerStatuses?: ContainerStatusJson[] };
}

const PATHS: Readonly<Record<Exclude<Cleanable, 'namespace'>, string>> = {
  pod: 'pods',
  service: 'services',
  config_map: 'configmaps',
  secret: 'secrets',
};

/**
 * A cluster as the suite uses it: objects created and deleted with the real
 * kubectl (`kubectl create -f -`, as the upstream runner's
 * `create_from_yaml`), pods and logs read through the API server as raw JSON.
 * kubectl comes from `e2e/scripts/build-binaries.sh` (built on first use).
 */
export function kubeCluster(kubeconfigPath: string): SuiteCluster {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const api = rawKube(kc);
  const kubectl = new Kubectl(kubectlBinary(), kubeconfigPath);
  const ns = (name: string): string => `/api/v1/namespaces/${encodeURIComponent(name)}`;
  const exists = async (path: string): Promise<boolean> => {
    const answer = await api.call('GET', path);
    if (answer.status === 404) return false;
    if (answer.status === 200) return true;
    throw new Error(`GET ${path}: ${answer.status} ${answer.text}`);
  };
  const deleteAt = async (path: string): Promise<void> => {
    const answer = await api.call('DELETE', path);
    if (answer.status !== 404 && (answer.status < 200 || answer.status > 299)) {
      throw new Error(`DELETE ${path}: ${answer.status} ${answer.text}`);
    }
  };
  return {
    async getPod(namespace, name) {
      const answer = await api.call('GET', `${ns(namespace)}/pods/${encodeURIComponent(name)}`);
      if (answer.status === 404) return undefined;
      if (answer.status !== 200) throw new Error(`GET pod ${namespace}/${name}: ${answer.status} ${answer.text}`);
      return podView(answer.json as PodJson);
    },
    async listPods(namespace) {
      const list = await api.ok<{ items: PodJson[] }>('GET', `${ns(namespace)}/pods`);
      return list.items.map(podView);
    },
    async readLog(namespace, name, container) {
      // As the upstream runner: the kubelet's serving certificate is not verified.
      const query = new URLSearchParams({ insecureSkipTLSVerifyBackend: 'true' });
      if (container !== undefined) query.set('container', container);
      const answer = await api.call('GET', `${ns(namespace)}/pods/${encodeURIComponent(name)}/log?${query.toString()}`);
      if (answer.status !== 200) throw new Error(`${answer.status} ${oneLine(answer.text)}`);
      return answer.text;
    },
    async create(manifests) {
      await kubectl.run(['create', '--filename=-'], manifests);
    },
    async deleteManifests(manifests) {
      await kubectl.run(['delete', '--ignore-not-found', '--wait=false', '--cascade=background', '--filename=-'], manifests);
    },
    async deleteObject(type, namespace, name) {
      if (type === 'namespace') await deleteAt(ns(name));
      else await deleteAt(`${ns(namespace)}/${PATHS[type]}/${encodeURIComponent(name)}`);
    },
    nodeExists: (name) => exists(`/api/v1/nodes/${encodeURIComponent(name)}`),
    namespaceExists: (name) => exists(ns(name)),
    async createNamespace(name) {
      await api.ok('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
      // Pods are refused until kube-controller-manager has made the namespace's default ServiceAccount.
      await eventually(`ServiceAccount ${name}/default`, async () => ((await exists(`${ns(name)}/serviceaccounts/default`)) ? true : undefined), 60_000, {
        intervalMs: 200,
      });
    },
  };
}

function podView(pod: PodJson): PodView {
  const containers = (statuses: ContainerStatusJson[] | undefined, init: boolean): ContainerView[] =>
    (statuses ?? []).map((s) => ({ name: s.name, init, state: stateOf(s) }));
  return {
    name: pod.metadata.name,
    phase: pod.status?.phase,
    containers: [...containers(pod.status?.initContainerStatuses, true), ...containers(pod.status?.containerStatuses, false)],
  };
}

function stateOf(status: ContainerStatusJson): string {
  const state = status.state;
  if (state?.terminated !== undefined) {
    const reason = state.terminated.reason === undefined ? '' : ` (${state.terminated.reason})`;
    return `terminated: ${state.terminated.exitCode ?? '?'}${reason}`;
  }
  if (state?.waiting !== undefined) {
    const msg = state.waiting.message === undefined ? '' : `: ${oneLine(state.waiting.message)}`;
    return `waiting: ${state.waiting.reason ?? '?'}${msg}`;
  }
  if (state?.running !== undefined) return 'running';
  return 'unknown';
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

import { Agent, request } from 'node:https';
import { createSecureContext } from 'node:tls';
import { TunnelError } from '../errors.js';
import { PUBLISHER_NAME, type DeclaredPort } from './manifests.js';
import { KubeApiError, MANAGED_BY_LABEL, SOURCE_NAME_ANNOTATION, SOURCE_POD_UID_LABEL, type PodIdentity, type RemoteRequest } from '@interlink-k8s/contract';
import type { LocalClusterApi, LocalPod, PublishedService } from './publisher.js';

/** How to reach the local cluster's API server. */
export interface KubeConnection {
  /** `https://host:port`. */
  readonly server: string;
  /** PEM bundle the server's certificate must chain to. */
  readonly ca: string;
  /** The bearer token, read at each request (projected service-account tokens rotate). */
  readonly token: () => string;
  /** Namespaces the gateway may publish in; empty: all (needs cluster-wide RBAC). */
  readonly namespaces: readonly string[];
  /** Per-request timeout, ms. */
  readonly timeoutMs?: number;
}

interface Metadata {
  name?: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

interface ContainerLike {
  ports?: DeclaredPort[];
}

interface PodJson {
  metadata?: Metadata;
  spec?: { containers?: ContainerLike[]; initContainers?: ContainerLike[] };
}

const RESOURCES = {
  Service: { prefix: '/api/v1', plural: 'services' },
  EndpointSlice: { prefix: '/apis/discovery.k8s.io/v1', plural: 'endpointslices' },
} as const;

type Kind = keyof typeof RESOURCES;

/** Requests to the local API server in flight at once; more wait their turn. */
const MAX_CONNECTIONS = 4;

const VERBS: Readonly<Record<string, string>> = { GET: 'get', POST: 'create', PATCH: 'patch', DELETE: 'delete' };

/** The request behind `method` on `pathname`, in RBAC terms (`GET /api/v1/services` is a `list`). */
function requestOf(method: string, pathname: string): RemoteRequest {
  const parts = pathname.split('/').filter((part) => part !== '').map(decodeURIComponent);
  // /api/v1/... or /apis/<group>/<version>/...
  const rest = parts.slice(parts[0] === 'api' ? 2 : 3);
  const namespace = rest[0] === 'namespaces' && rest.length > 2 ? rest[1] : undefined;
  const [resource = '', name] = namespace === undefined ? rest : rest.slice(2);
  const verb = method === 'GET' && name === undefined ? 'list' : (VERBS[method] ?? method.toLowerCase());
  return { verb, resource, namespace, name };
}

function path(kind: Kind, namespace: string, name?: string): string {
  const { prefix, plural } = RESOURCES[kind];
  const base = `${prefix}/namespaces/${encodeURIComponent(namespace)}/${plural}`;
  return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
}

/** The gateway's {@link LocalClusterApi} over the API server's REST interface (no client library: the gateway stays small). */
export class KubeRestClient implements LocalClusterApi {
  readonly #connection: KubeConnection;
  readonly #agent: Agent;

  constructor(connection: KubeConnection) {
    this.#connection = connection;
    // One TLS context for every connection (a `ca` per request made one per
    // connection), and a bounded pool: a burst of publications (a gateway
    // restart, bastions coming back) otherwise opened a TLS connection per
    // request in flight and kept them all alive, which a gateway publishing
    // many pods at once paid for in memory (docs/benchmarks.md, `pnpm
    // bench:gateway-publishing`).
    this.#agent = new Agent({
      keepAlive: true,
      maxSockets: MAX_CONNECTIONS,
      maxFreeSockets: 1,
      secureContext: createSecureContext({ ca: connection.ca }),
    });
  }

  /** Closes the connections kept for reuse. */
  close(): void {
    this.#agent.destroy();
  }

  async getPod(namespace: string, name: string): Promise<LocalPod | undefined> {
    const pod = await this.#call<PodJson>('GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`, undefined, true);
    if (pod === undefined) return undefined;
    const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
    return { uid: pod.metadata?.uid ?? '', ports: containers.flatMap((container) => container.ports ?? []) };
  }

  async getService(namespace: string, name: string): Promise<{ readonly managed: boolean } | undefined> {
    const service = await this.#call<{ metadata?: Metadata }>('GET', path('Service', namespace, name), undefined, true);
    if (service === undefined) return undefined;
    return { managed: service.metadata?.labels?.[MANAGED_BY_LABEL] === PUBLISHER_NAME };
  }

  async apply(manifest: Record<string, unknown>): Promise<string> {
    const kind = manifest.kind as Kind;
    const metadata = manifest.metadata as Metadata;
    const target = `${path(kind, metadata.namespace ?? '', metadata.name ?? '')}?fieldManager=${PUBLISHER_NAME}&force=true`;
    const applied = await this.#call<{ metadata?: Metadata }>('PATCH', target, manifest);
    return applied?.metadata?.uid ?? '';
  }

  async delete(kind: Kind, namespace: string, name: string): Promise<void> {
    await this.#call('DELETE', path(kind, namespace, name), undefined, true);
  }

  async listPublished(): Promise<PublishedService[]> {
    const selector = `?labelSelector=${encodeURIComponent(`${MANAGED_BY_LABEL}=${PUBLISHER_NAME}`)}`;
    const paths = this.#connection.namespaces.length === 0 ? ['/api/v1/services'] : this.#connection.namespaces.map((ns) => path('Service', ns));
    const found: PublishedService[] = [];
    for (const listPath of paths) {
      const list = await this.#call<{ items?: { metadata?: Metadata }[] }>('GET', listPath + selector);
      for (const item of list?.items ?? []) {
        const m = item.metadata ?? {};
        const uid = m.labels?.[SOURCE_POD_UID_LABEL];
        const podName = m.annotations?.[SOURCE_NAME_ANNOTATION];
        if (m.name === undefined || m.namespace === undefined || uid === undefined || podName === undefined) continue;
        found.push({ namespace: m.namespace, name: m.name, pod: { namespace: m.namespace, name: podName, uid } });
      }
    }
    return found;
  }

  async warn(pod: PodIdentity, reason: string, message: string): Promise<void> {
    const now = new Date().toISOString();
    await this.#call('POST', `/api/v1/namespaces/${encodeURIComponent(pod.namespace)}/events`, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { generateName: `${pod.name}.`, namespace: pod.namespace },
      involvedObject: { apiVersion: 'v1', kind: 'Pod', name: pod.name, namespace: pod.namespace, uid: pod.uid },
      type: 'Warning',
      reason,
      message,
      source: { component: PUBLISHER_NAME },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    }, false, 'application/json');
  }

  /** One request; `undefined` for a 404 when `missingOk`. */
  #call<T>(method: string, target: string, body?: unknown, missingOk = false, contentType = 'application/apply-patch+yaml'): Promise<T | undefined> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const url = new URL(target, this.#connection.server);
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          agent: this.#agent,
          timeout: this.#connection.timeoutMs ?? 10_000,
          headers: {
            authorization: `Bearer ${this.#connection.token().trim()}`,
            accept: 'application/json',
            ...(payload === undefined ? {} : { 'content-type': contentType, 'content-length': payload.length }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            if (status === 404 && missingOk) {
              resolve(undefined);
              return;
            }
            let parsed: unknown;
            try {
              parsed = text === '' ? undefined : JSON.parse(text);
            } catch {
              parsed = undefined;
            }
            if (status >= 200 && status < 300) resolve(parsed as T | undefined);
            else {
              const message = (parsed as { message?: unknown } | undefined)?.message;
              const reason = (parsed as { reason?: unknown } | undefined)?.reason;
              reject(
                new KubeApiError(`${method} ${url.pathname}: ${String(status)} ${typeof message === 'string' ? message : text.slice(0, 200)}`, {
                  status,
                  reason: typeof reason === 'string' ? reason : undefined,
                  request: requestOf(method, url.pathname),
                }),
              );
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(new TunnelError(`${method} ${url.pathname}: no answer within ${String(this.#connection.timeoutMs ?? 10_000)} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }
}

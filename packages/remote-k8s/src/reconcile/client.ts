import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import {
  IsomorphicFetchHttpLibrary,
  KubeConfig,
  RequestContext,
  type HttpMethod,
  type ResponseContext,
} from '@kubernetes/client-node';
import { InputError } from '@interlink-k8s/protocol';
import type { ClientOverrides, KubeconfigSource } from './config.js';
import { KubeApiError, type RemoteRequest, type StatusCause } from './errors.js';
import type {
  CoreResource,
  DeleteOptions,
  ListOptions,
  ListResult,
  LogQuery,
  RawObject,
  RemoteApi,
  ResourceTypes,
  WatchEvent,
  WatchHandle,
  WatchOptions,
} from './remote-api.js';

const CLUSTER_SCOPED: ReadonlySet<CoreResource> = new Set(['namespaces', 'nodes']);

/**
 * Builds the remote cluster's `KubeConfig` from its source (a file, inline
 * JSON or YAML, the in-cluster service account, or client-node's default
 * discovery) and applies the client overrides to the current cluster and
 * user. Throws an `InputError` naming the problem when no cluster results.
 */
export function buildKubeConfig(source: KubeconfigSource, overrides: ClientOverrides = {}): KubeConfig {
  const kc = new KubeConfig();
  try {
    switch (source.kind) {
      case 'file':
        kc.loadFromFile(source.path);
        break;
      case 'inline':
        // js-yaml reads JSON as well: the reference plugin's k8s.kubeconfig is JSON.
        kc.loadFromString(source.content);
        break;
      case 'in-cluster':
        kc.loadFromCluster();
        break;
      case 'default':
        kc.loadFromDefault();
        break;
    }
  } catch (err) {
    const what = source.kind === 'file' ? `kubeconfig file ${source.path}` : `${source.kind} kubeconfig`;
    throw new InputError(`cannot load the remote ${what}: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
      field: source.kind === 'file' ? 'k8s.kubeconfig_path' : 'k8s.kubeconfig',
    });
  }
  const cluster = kc.getCurrentCluster();
  if (cluster === null) {
    throw new InputError('the remote kubeconfig has no current context with a cluster', { field: 'k8s.kubeconfig' });
  }
  const patchedCluster = {
    ...cluster,
    server: overrides.server ?? cluster.server,
    skipTLSVerify: overrides.insecureSkipTlsVerify ?? cluster.skipTLSVerify,
    ...(overrides.caFile === undefined ? {} : { caFile: overrides.caFile, caData: undefined }),
    ...(overrides.proxyUrl === undefined ? {} : { proxyUrl: overrides.proxyUrl }),
  };
  kc.clusters = kc.clusters.map((c) => (c.name === cluster.name ? patchedCluster : c));
  const user = kc.getCurrentUser();
  if (user !== null && (overrides.certFile !== undefined || overrides.keyFile !== undefined)) {
    const patchedUser = {
      ...user,
      ...(overrides.certFile === undefined ? {} : { certFile: overrides.certFile, certData: undefined }),
      ...(overrides.keyFile === undefined ? {} : { keyFile: overrides.keyFile, keyData: undefined }),
    };
    kc.users = kc.users.map((u) => (u.name === user.name ? patchedUser : u));
  }
  return kc;
}

/** Tunables of {@link ClientNodeRemoteApi}. */
export interface ClientNodeRemoteApiOptions {
  /** Deadline of one non-streaming request; default 30 s. */
  requestTimeoutMs?: number;
  /** How long a log stream may take to answer with headers; default 30 s. */
  streamConnectTimeoutMs?: number;
}

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

interface SendOptions {
  query?: Record<string, string | number | boolean | undefined> | undefined;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal | undefined;
  /** No deadline on the whole exchange (watch, logs); the caller handles time. */
  streaming?: boolean;
}

/**
 * {@link RemoteApi} over @kubernetes/client-node's request machinery
 * (authentication, TLS, proxies from the `KubeConfig`; undici underneath) but
 * not its typed models: requests and answers are the API's JSON as it is, so
 * fields client-node's `ObjectSerializer` does not know survive. Applies are
 * server-side apply PATCHes with one field manager and `force=true`.
 */
export class ClientNodeRemoteApi implements RemoteApi {
  private readonly kc: KubeConfig;
  private readonly http = new IsomorphicFetchHttpLibrary();
  private readonly requestTimeoutMs: number;
  private readonly streamConnectTimeoutMs: number;
  // client-node builds a new undici Agent per request; reusing one keeps
  // connections (and TLS sessions) alive across requests.
  private dispatcher: Dispatcher | undefined;
  private closed = false;

  constructor(kc: KubeConfig, options: ClientNodeRemoteApiOptions = {}) {
    this.kc = kc;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.streamConnectTimeoutMs = options.streamConnectTimeoutMs ?? 30_000;
  }

  /** The API server's base URL (from the kubeconfig, after overrides). */
  get server(): string {
    const cluster = this.kc.getCurrentCluster();
    if (cluster === null) throw new InputError('the remote kubeconfig has no current cluster');
    return cluster.server.replace(/\/+$/, '');
  }

  async get<R extends CoreResource>(resource: R, name: string, namespace?: string): Promise<ResourceTypes[R]> {
    const request = { verb: 'get', resource, namespace, name };
    return this.json<ResourceTypes[R]>(request, 'GET', resourcePath(resource, namespace, name));
  }

  async list<R extends CoreResource>(resource: R, options: ListOptions = {}): Promise<ListResult<ResourceTypes[R]>> {
    const request = { verb: 'list', resource, namespace: options.namespace };
    const answer = await this.json<{ items?: ResourceTypes[R][] | null; metadata?: { resourceVersion?: string } }>(
      request,
      'GET',
      resourcePath(resource, options.namespace),
      { query: listQuery(options) },
    );
    return { items: answer.items ?? [], resourceVersion: answer.metadata?.resourceVersion ?? '' };
  }

  async create<R extends CoreResource>(resource: R, manifest: RawObject): Promise<ResourceTypes[R]> {
    const namespace = manifest.metadata?.namespace;
    const request = { verb: 'create', resource, namespace, name: manifest.metadata?.name };
    return this.json<ResourceTypes[R]>(request, 'POST', resourcePath(resource, namespace), {
      body: manifest,
      contentType: 'application/json',
    });
  }

  async apply<R extends CoreResource>(resource: R, manifest: RawObject, fieldManager: string): Promise<ResourceTypes[R]> {
    const namespace = manifest.metadata?.namespace;
    const name = manifest.metadata?.name;
    const request = { verb: 'patch', resource, namespace, name };
    if (name === undefined) throw new KubeApiError('cannot apply an object without a name', { status: 400, request });
    return this.json<ResourceTypes[R]>(request, 'PATCH', resourcePath(resource, namespace, name), {
      query: { fieldManager, force: true },
      body: manifest,
      // JSON is YAML: the API server takes the manifest exactly as sent.
      contentType: 'application/apply-patch+yaml',
    });
  }

  async delete(resource: CoreResource, name: string, namespace?: string, options: DeleteOptions = {}): Promise<void> {
    const request = { verb: 'delete', resource, namespace, name };
    const body: Record<string, unknown> = { apiVersion: 'v1', kind: 'DeleteOptions' };
    if (options.uid !== undefined) body.preconditions = { uid: options.uid };
    if (options.propagationPolicy !== undefined) body.propagationPolicy = options.propagationPolicy;
    if (options.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = options.gracePeriodSeconds;
    await this.json(request, 'DELETE', resourcePath(resource, namespace, name), {
      body,
      contentType: 'application/json',
    });
  }

  async watch<R extends CoreResource>(
    resource: R,
    options: WatchOptions,
    onEvent: (event: WatchEvent<ResourceTypes[R]>) => void,
    signal: AbortSignal,
  ): Promise<WatchHandle> {
    const request = { verb: 'watch', resource, namespace: options.namespace };
    const controller = new AbortController();
    const abort = (): void => {
      controller.abort();
    };
    signal.addEventListener('abort', abort, { once: true });
    if (signal.aborted) abort();
    // The server ends the watch after timeoutSeconds; silence well beyond
    // that means a dead connection (a partition sends no FIN).
    const idleMs = (options.timeoutSeconds + 30) * 1000;
    let idleTimer = setTimeout(abort, this.streamConnectTimeoutMs);
    const cleanup = (): void => {
      clearTimeout(idleTimer);
      signal.removeEventListener('abort', abort);
    };
    let response: ResponseContext;
    try {
      response = await this.send(request, 'GET', resourcePath(resource, options.namespace), {
        query: {
          ...listQuery(options),
          watch: true,
          timeoutSeconds: options.timeoutSeconds,
          allowWatchBookmarks: options.allowWatchBookmarks,
        },
        signal: controller.signal,
        streaming: true,
      });
    } catch (err) {
      cleanup();
      throw err;
    }
    const web = response.body.stream();
    if (web === null) {
      cleanup();
      return { done: Promise.resolve() };
    }
    const stream = Readable.fromWeb(web);
    const decoder = new StringDecoder('utf8');
    let pending = '';
    const resetIdle = (): void => {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(abort, idleMs);
    };
    resetIdle();
    const done = new Promise<void>((resolve, reject) => {
      stream.on('data', (chunk: Buffer) => {
        resetIdle();
        pending += decoder.write(chunk);
        let newline = pending.indexOf('\n');
        while (newline >= 0) {
          const line = pending.slice(0, newline).trim();
          pending = pending.slice(newline + 1);
          newline = pending.indexOf('\n');
          if (line === '') continue;
          let event: WatchEvent<ResourceTypes[R]>;
          try {
            event = JSON.parse(line) as WatchEvent<ResourceTypes[R]>;
          } catch (err) {
            stream.destroy(new KubeApiError('the remote API sent a malformed watch event', { request, cause: err }));
            return;
          }
          onEvent(event);
        }
      });
      stream.on('end', () => {
        cleanup();
        resolve();
      });
      stream.on('error', (err) => {
        cleanup();
        if (signal.aborted) {
          resolve();
          return;
        }
        reject(
          err instanceof KubeApiError
            ? err
            : new KubeApiError(controller.signal.aborted ? 'watch went silent' : describeNetworkError(err), {
                request,
                cause: err,
              }),
        );
      });
    });
    return { done };
  }

  async logs(namespace: string, name: string, query: LogQuery, signal: AbortSignal): Promise<Readable> {
    const request = { verb: 'get', resource: 'pods/log', namespace, name };
    const controller = new AbortController();
    const connectTimer = setTimeout(() => {
      controller.abort(new DOMException('no answer in time', 'TimeoutError'));
    }, this.streamConnectTimeoutMs);
    const out: { stream?: Readable } = {};
    const onAbort = (): void => {
      // End the caller's stream quietly first, then drop the remote request.
      out.stream?.destroy();
      controller.abort();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    let response: ResponseContext;
    try {
      response = await this.send(request, 'GET', `${resourcePath('pods', namespace, name)}/log`, {
        query: { ...query },
        signal: controller.signal,
        streaming: true,
      });
    } catch (err) {
      signal.removeEventListener('abort', onAbort);
      throw err;
    } finally {
      clearTimeout(connectTimer);
    }
    const web = response.body.stream();
    const stream = web === null ? Readable.from([]) : Readable.fromWeb(web);
    out.stream = stream;
    stream.once('close', () => {
      signal.removeEventListener('abort', onAbort);
    });
    if (signal.aborted) onAbort();
    return stream;
  }

  async ready(): Promise<void> {
    try {
      await this.send({ verb: 'get', resource: '/readyz' }, 'GET', '/readyz');
    } catch (err) {
      // /readyz may be closed to this user (or missing behind a proxy); an
      // answer from /version still proves the API serves.
      if (err instanceof KubeApiError && err.status !== undefined && err.status < 500) {
        await this.send({ verb: 'get', resource: '/version' }, 'GET', '/version');
        return;
      }
      throw err;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const dispatcher = this.dispatcher;
    this.dispatcher = undefined;
    await dispatcher?.close();
  }

  private async json<T>(request: RemoteRequest, method: HttpMethod, path: string, options: SendOptions = {}): Promise<T> {
    const response = await this.send(request, method, path, options);
    const text = await response.body.text();
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new KubeApiError('the remote API answered with malformed JSON', { request, cause: err });
    }
  }

  private async send(
    request: RemoteRequest,
    method: HttpMethod,
    path: string,
    options: SendOptions = {},
  ): Promise<ResponseContext> {
    if (this.closed) throw new KubeApiError('the remote API client is closed', { request });
    const url = new URL(this.server + path);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const ctx = new RequestContext(url.toString(), method);
    ctx.setHeaderParam('Accept', 'application/json');
    if (options.body !== undefined) {
      ctx.setHeaderParam('Content-Type', options.contentType ?? 'application/json');
      ctx.setBody(JSON.stringify(options.body));
    }
    await this.kc.applySecurityAuthentication(ctx);
    const fresh = ctx.getDispatcher();
    if (fresh !== undefined) {
      this.dispatcher ??= fresh;
      ctx.setDispatcher(this.dispatcher);
    }
    const signals: AbortSignal[] = [];
    if (options.signal !== undefined) signals.push(options.signal);
    if (options.streaming !== true) signals.push(AbortSignal.timeout(this.requestTimeoutMs));
    if (signals.length > 0) ctx.setSignal(AbortSignal.any(signals));
    let response: ResponseContext;
    try {
      response = await this.http.send(ctx).toPromise();
    } catch (err) {
      const timedOut = nameOf(err) === 'TimeoutError';
      throw new KubeApiError(
        timedOut ? `no answer within ${duration(this.requestTimeoutMs)}` : describeNetworkError(err),
        { request, cause: err },
      );
    }
    if (response.httpStatusCode >= 200 && response.httpStatusCode < 300) return response;
    throw await statusError(request, response);
  }
}

const duration = (ms: number): string => (ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`);

function resourcePath(resource: CoreResource, namespace?: string, name?: string): string {
  let path = '/api/v1';
  if (!CLUSTER_SCOPED.has(resource) && namespace !== undefined) path += `/namespaces/${encodeURIComponent(namespace)}`;
  path += `/${resource}`;
  if (name !== undefined) path += `/${encodeURIComponent(name)}`;
  return path;
}

function listQuery(options: ListOptions): Record<string, string | number | undefined> {
  return {
    labelSelector: options.labelSelector,
    fieldSelector: options.fieldSelector,
    resourceVersion: options.resourceVersion,
    limit: options.limit,
  };
}

// Duck-typed rather than `instanceof Error`: socket errors come from Node's
// core, which may be another realm (a VM context, as under jest).
const field = (value: unknown, key: 'message' | 'name' | 'cause'): unknown =>
  typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
const nameOf = (value: unknown): unknown => field(value, 'name');

/** The message of a connection-level failure, e.g. `connect ECONNREFUSED 127.0.0.1:6443`. */
function describeNetworkError(err: unknown): string {
  // undici wraps the socket error: `TypeError: fetch failed`, cause `connect ECONNREFUSED ...`.
  for (const candidate of [field(err, 'cause'), err]) {
    const message = field(candidate, 'message');
    if (typeof message === 'string' && message !== '') return message;
  }
  return typeof err === 'string' ? err : 'request failed';
}

interface KubeStatus {
  kind?: string;
  message?: string;
  reason?: string;
  details?: { causes?: StatusCause[] };
}

async function statusError(request: RemoteRequest, response: ResponseContext): Promise<KubeApiError> {
  const status = response.httpStatusCode;
  let text = '';
  try {
    text = await response.body.text();
  } catch {
    // the body is only decoration; the status says enough
  }
  let parsed: KubeStatus | undefined;
  try {
    parsed = JSON.parse(text) as KubeStatus;
  } catch {
    parsed = undefined;
  }
  const message =
    parsed?.message ?? (text.trim() === '' ? `HTTP ${status}` : text.trim().slice(0, 500));
  return new KubeApiError(message, {
    status,
    reason: parsed?.reason,
    request,
    causes: parsed?.details?.causes ?? [],
  });
}

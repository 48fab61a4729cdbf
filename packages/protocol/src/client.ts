import { Agent, request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { CreateStruct, LogStruct, PingResponse, Pod, PodStatus } from './types.js';
import type { z } from 'zod';
import type { ContainerLogOptsSchema, RetrievedPodDataSchema } from './schemas.js';

/** Where a plugin listens: a TCP port or a unix socket, as InterLink's `SidecarURL` allows. */
export type PluginTarget = { host?: string; port: number } | { socketPath: string };

/** An answer read to the end. */
export interface PluginAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json(): unknown;
}

/** Options of one exchange. */
export interface ExchangeOptions {
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as is; wins over `body` (for malformed-input tests). */
  rawBody?: string | Buffer;
  headers?: Record<string, string>;
  /** Connection pool; none by default (one connection per exchange). */
  agent?: Agent;
}

const requestOptions = (target: PluginTarget, method: string, path: string, options: ExchangeOptions) => {
  const payload = options.rawBody ?? (options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body)));
  const headers: Record<string, string | number> = { ...options.headers };
  if (payload !== undefined) {
    headers['content-length'] = Buffer.byteLength(payload);
    if (options.rawBody === undefined) headers['content-type'] ??= 'application/json';
  }
  return { payload, options: { ...target, method, path, headers, agent: options.agent ?? false } };
};

/**
 * Opens one exchange and resolves with the response as soon as its headers
 * arrive (for streamed answers). Node's http client is used because, unlike
 * fetch, it sends a body with GET, as InterLink does.
 */
export function openExchange(
  target: PluginTarget,
  method: string,
  path: string,
  options: ExchangeOptions = {},
): Promise<{ res: IncomingMessage; abort: () => void }> {
  const { payload, options: reqOptions } = requestOptions(target, method, path, options);
  return new Promise((resolve, reject) => {
    const req = request(reqOptions, (res) => {
      resolve({ res, abort: () => req.destroy() });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** One exchange, read to the end. */
export async function exchange(
  target: PluginTarget,
  method: string,
  path: string,
  options: ExchangeOptions = {},
): Promise<PluginAnswer> {
  const { res } = await openExchange(target, method, path, options);
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return { status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) as unknown };
}

/** A plugin answered something other than 200. */
export class PluginCallError extends Error {
  readonly status: number;
  readonly body: string;

  constructor(route: string, status: number, body: string) {
    super(`${route} answered ${status}: ${body}`);
    this.name = 'PluginCallError';
    this.status = status;
    this.body = body;
  }
}

/**
 * Calls a plugin the way InterLink's API server does (methods, bodies and
 * the session header), for tests, benchmarks and tools.
 */
export class PluginClient {
  readonly target: PluginTarget;
  readonly #agent: Agent | undefined;
  #session = 0;

  /** `keepAlive` pools connections, as InterLink's Go client does. */
  constructor(target: PluginTarget, options: { keepAlive?: boolean } = {}) {
    this.target = target;
    this.#agent = options.keepAlive === true ? new Agent({ keepAlive: true }) : undefined;
  }

  /** Sends one request and returns the answer whatever its status. */
  send(method: string, path: string, body?: unknown): Promise<PluginAnswer> {
    this.#session += 1;
    return exchange(this.target, method, path, {
      body,
      agent: this.#agent,
      headers: { 'InterLink-Http-Session': `client-${process.pid}-${this.#session}` },
    });
  }

  async #ok(method: string, path: string, body?: unknown): Promise<PluginAnswer> {
    const answer = await this.send(method, path, body);
    if (answer.status !== 200) throw new PluginCallError(`${method} ${path}`, answer.status, answer.text);
    return answer;
  }

  /** `POST /create` */
  async create(data: z.input<typeof RetrievedPodDataSchema>): Promise<CreateStruct> {
    return (await this.#ok('POST', '/create', data)).json() as CreateStruct;
  }

  /** `POST /delete` */
  async delete(pod: Pod | z.input<typeof RetrievedPodDataSchema>['pod']): Promise<void> {
    await this.#ok('POST', '/delete', pod);
  }

  /** `GET /status` with the pods as body. */
  async status(pods: readonly (Pod | z.input<typeof RetrievedPodDataSchema>['pod'])[]): Promise<PodStatus[]> {
    return (await this.#ok('GET', '/status', pods)).json() as PodStatus[];
  }

  /** `GET /status` with `[]`: InterLink's ping. */
  async ping(): Promise<PingResponse> {
    return (await this.#ok('GET', '/status', [])).json() as PingResponse;
  }

  /** `GET /getLogs`, read to the end (use {@link openExchange} to follow). */
  async logs(
    request: Omit<LogStruct, 'Opts'> & { Opts?: Partial<z.input<typeof ContainerLogOptsSchema>> },
  ): Promise<string> {
    return (await this.#ok('GET', '/getLogs', request)).text;
  }

  /** Closes pooled connections. */
  close(): void {
    this.#agent?.destroy();
  }
}

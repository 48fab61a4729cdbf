import { once } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, describe, expect, it } from '@jest/globals';
import {
  ConflictError,
  ErrorBodySchema,
  InputError,
  NotFoundError,
  PingResponseSchema,
  PodStatusSchema,
  RemoteError,
  RemoteUnavailableError,
  UnprocessableError,
} from '@interlink-k8s/protocol';
import type { PluginError } from '@interlink-k8s/protocol';
import { z } from 'zod';
import { fakeProvider, sampleCreateBody, samplePod } from './__tests__/fake-provider.js';
import { call, logSink, open, type Target } from './__tests__/http-client.js';
import { createApp, type AppOptions } from './app.js';
import { providerEvents } from './events.js';
import { INTERNAL_ERROR_MESSAGE } from './http/errors.js';
import { listen, type Listener } from './listen.js';
import { createLogger } from './logger.js';
import { createMetrics } from './metrics.js';

const listeners: Listener[] = [];
afterEach(async () => {
  await Promise.all(listeners.splice(0).map((l) => l.close(200)));
});

type Fake = ReturnType<typeof fakeProvider>;

async function serve(options: Partial<Omit<AppOptions, 'provider'>> & { provider?: Fake } = {}) {
  const provider = options.provider ?? fakeProvider();
  const sink = logSink();
  const logger = createLogger({ level: 'debug' }, sink);
  const metrics = options.metrics ?? createMetrics({ defaultMetrics: false });
  const app = createApp({ ...options, provider, logger, metrics });
  const listener = await listen(app, { kind: 'tcp', host: '127.0.0.1', port: 0 });
  listeners.push(listener);
  if (listener.address.kind !== 'tcp') throw new Error('expected a TCP listener');
  const target: Target = { port: listener.address.port };
  return { provider, sink, target, metrics, logger };
}

const errorBody = (value: unknown) => ErrorBodySchema.parse(value).error;

const logRequest = {
  Namespace: 'team-a',
  PodUID: 'uid-1',
  PodName: 'web',
  ContainerName: 'main',
  Opts: { Tail: 10, Follow: true, SinceTime: '0001-01-01T00:00:00Z' },
};

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('createApp: POST /create', () => {
  it('answers exactly 200 with the CreateStruct for an object body', async () => {
    const { target, provider } = await serve();
    const answer = await call(target, 'POST', '/create', { body: sampleCreateBody('uid-7') });
    expect(answer.status).toBe(200);
    expect(answer.json()).toEqual({ PodUID: 'uid-7', PodJID: 'remote-uid-7' });
    expect(provider.calls.create).toHaveLength(1);
    expect(provider.calls.create[0]?.container[0]?.emptyDirs).toEqual([]);
  });

  it('accepts the pre-0.5 one-element array', async () => {
    const { target, provider } = await serve();
    const answer = await call(target, 'POST', '/create', { body: [sampleCreateBody('uid-8')] });
    expect(answer.status).toBe(200);
    expect(answer.json()).toEqual({ PodUID: 'uid-8', PodJID: 'remote-uid-8' });
    expect(provider.calls.create[0]?.pod.metadata.uid).toBe('uid-8');
  });

  it('answers 400 naming the missing field pod.metadata.uid', async () => {
    const { target, provider } = await serve();
    const body = sampleCreateBody();
    const pod = samplePod();
    body.pod = { ...pod, metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace } };
    const answer = await call(target, 'POST', '/create', { body });
    expect(answer.status).toBe(400);
    const error = errorBody(answer.json());
    expect(error.code).toBe('bad_request');
    expect(error.message).toContain('pod.metadata.uid');
    expect(error.field).toBe('pod.metadata.uid');
    expect(provider.calls.create).toHaveLength(0);
  });

  it('answers 400 naming body for malformed JSON', async () => {
    const { target } = await serve();
    const answer = await call(target, 'POST', '/create', {
      rawBody: '{"pod": {',
      headers: { 'content-type': 'application/json' },
    });
    expect(answer.status).toBe(400);
    const error = errorBody(answer.json());
    expect(error.field).toBe('body');
    expect(error.message).toMatch(/^body: not valid JSON/);
  });

  it('answers 400 naming body when there is no body', async () => {
    const { target } = await serve();
    const answer = await call(target, 'POST', '/create');
    expect(answer.status).toBe(400);
    expect(errorBody(answer.json()).message).toMatch(/^body: /);
  });

  it('answers 413 for a body over the limit', async () => {
    const { target } = await serve({ bodyLimitBytes: 1024 });
    const answer = await call(target, 'POST', '/create', { body: { pod: 'x'.repeat(4096) } });
    expect(answer.status).toBe(413);
    expect(errorBody(answer.json()).code).toBe('payload_too_large');
  });
});

describe('createApp: /delete', () => {
  it.each(['POST', 'DELETE'])('answers exactly 200 to %s and passes the pod on', async (method) => {
    const { target, provider } = await serve();
    const answer = await call(target, method, '/delete', { body: samplePod('uid-9') });
    expect(answer.status).toBe(200);
    expect(provider.calls.delete[0]?.metadata.uid).toBe('uid-9');
  });

  it('answers 400 naming the field when the pod has no namespace', async () => {
    const { target } = await serve();
    const answer = await call(target, 'POST', '/delete', { body: { metadata: { name: 'web', uid: 'u' } } });
    expect(answer.status).toBe(400);
    expect(errorBody(answer.json()).field).toBe('metadata.namespace');
  });

  const deleting = (deletionGracePeriodSeconds: unknown) => {
    const pod = samplePod('uid-7');
    return { ...pod, metadata: { ...pod.metadata, deletionTimestamp: '2026-07-01T10:00:00Z', deletionGracePeriodSeconds } };
  };

  it('passes the local deletion grace period on to the provider', async () => {
    const { target, provider } = await serve();
    expect((await call(target, 'POST', '/delete', { body: deleting(1) })).status).toBe(200);
    expect(provider.calls.delete[0]?.metadata.deletionGracePeriodSeconds).toBe(1);
  });

  it.each([-1, 2.5, '1'])('answers 400 naming metadata.deletionGracePeriodSeconds for %p', async (value) => {
    const { target, provider } = await serve();
    const answer = await call(target, 'POST', '/delete', { body: deleting(value) });
    expect(answer.status).toBe(400);
    const error = errorBody(answer.json());
    expect(error.field).toBe('metadata.deletionGracePeriodSeconds');
    expect(error.message).toMatch(/^metadata\.deletionGracePeriodSeconds: /);
    expect(provider.calls.delete).toHaveLength(0);
  });
});

describe('createApp: /status', () => {
  it.each(['GET', 'POST'])('answers %s with a JSON body of pods with exactly 200 and PodStatus[]', async (method) => {
    const { target, provider } = await serve();
    const answer = await call(target, method, '/status', { body: [samplePod('uid-3')] });
    expect(answer.status).toBe(200);
    const statuses = z.array(PodStatusSchema).parse(answer.json());
    expect(statuses.map((s) => s.UID)).toEqual(['uid-3']);
    expect(provider.calls.status).toHaveLength(1);
    expect(provider.calls.ping).toBe(0);
  });

  it('reads a GET body sent without a Content-Type', async () => {
    const { target } = await serve();
    const answer = await call(target, 'GET', '/status', { rawBody: JSON.stringify([samplePod('uid-4')]) });
    expect(answer.status).toBe(200);
    expect(z.array(PodStatusSchema).parse(answer.json())[0]?.UID).toBe('uid-4');
  });

  it.each([
    ['[]', { body: [] }],
    ['no body', {}],
    ['null', { body: null }],
  ])('treats %s as the ping and answers the PingResponse', async (_name, options) => {
    const { target, provider } = await serve();
    const answer = await call(target, 'GET', '/status', options);
    expect(answer.status).toBe(200);
    expect(PingResponseSchema.parse(answer.json()).status).toBe('ok');
    expect(provider.calls.ping).toBe(1);
    expect(provider.calls.status).toHaveLength(0);
  });

  it('answers 400 for an object instead of a list', async () => {
    const { target } = await serve();
    const answer = await call(target, 'GET', '/status', { body: {} });
    expect(answer.status).toBe(400);
    expect(errorBody(answer.json()).field).toBe('body');
  });

  it('answers 400 naming the index and field of a bad pod', async () => {
    const { target } = await serve();
    const answer = await call(target, 'GET', '/status', { body: [samplePod(), { metadata: { name: 'x' } }] });
    expect(answer.status).toBe(400);
    expect(errorBody(answer.json()).message).toContain('[1].metadata.namespace');
  });
});

describe('createApp: /getLogs', () => {
  it.each(['GET', 'POST'])('streams the text with exactly 200 to %s with a JSON body', async (method) => {
    const { target, provider } = await serve();
    const answer = await call(target, method, '/getLogs', { body: logRequest });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(answer.text).toBe('line 1\nline 2\n');
    const seen = provider.calls.logs[0]?.request;
    expect(seen?.ContainerName).toBe('main');
    expect(seen?.Opts.Follow).toBe(true);
    expect(seen?.Opts.SinceTime).toBeUndefined();
  });

  it('answers 400 naming ContainerName when it is missing', async () => {
    const { target } = await serve();
    const answer = await call(target, 'GET', '/getLogs', { body: { ...logRequest, ContainerName: undefined } });
    expect(answer.status).toBe(400);
    expect(errorBody(answer.json()).field).toBe('ContainerName');
  });

  it('sends the first chunk before the provider has ended the stream', async () => {
    const stream = new PassThrough();
    const { target } = await serve({ provider: fakeProvider({ logs: () => Promise.resolve(stream) }) });
    stream.write('first\n');
    const { res } = await open(target, 'GET', '/getLogs', logRequest);
    expect(res.statusCode).toBe(200);
    const [first] = (await once(res, 'data')) as [Buffer];
    expect(first.toString()).toBe('first\n');
    expect(stream.writableEnded).toBe(false);
    const rest: Buffer[] = [];
    res.on('data', (chunk: Buffer) => rest.push(chunk));
    stream.end('second\n');
    await once(res, 'end');
    expect(Buffer.concat(rest).toString()).toBe('second\n');
  });

  it("aborts the provider's signal and destroys its stream when the client goes away", async () => {
    const stream = new PassThrough();
    let signal: AbortSignal | undefined;
    const provider = fakeProvider({
      logs: (_request, s) => {
        signal = s;
        return Promise.resolve(stream);
      },
    });
    const { target } = await serve({ provider });
    stream.write('first\n');
    const { res, abort } = await open(target, 'GET', '/getLogs', logRequest);
    await once(res, 'data');
    expect(signal?.aborted).toBe(false);
    abort();
    await waitFor(() => signal?.aborted === true);
    await waitFor(() => stream.destroyed);
  });

  it('answers JSON with the mapped status when the provider fails before the stream', async () => {
    const provider = fakeProvider({ logs: () => Promise.reject(new NotFoundError('no container "main" in pod web')) });
    const { target } = await serve({ provider });
    const answer = await call(target, 'GET', '/getLogs', { body: logRequest });
    expect(answer.status).toBe(404);
    expect(errorBody(answer.json()).message).toBe('no container "main" in pod web');
  });

  it('answers JSON when the stream fails before its first byte', async () => {
    // Fails when first read, i.e. once the server consumes it.
    const stream = new Readable({
      read() {
        this.destroy(new RemoteError('the remote API refused the log request', { status: 500 }));
      },
    });
    const { target } = await serve({ provider: fakeProvider({ logs: () => Promise.resolve(stream) }) });
    const answer = await call(target, 'GET', '/getLogs', { body: logRequest });
    expect(answer.status).toBe(502);
    expect(errorBody(answer.json()).code).toBe('remote_error');
  });

  it('ends the answer where it is when the stream fails after its first byte', async () => {
    let reads = 0;
    const stream = new Readable({
      read() {
        reads += 1;
        if (reads === 1) this.push('partial\n');
        else setTimeout(() => this.destroy(new Error('connection reset')), 10);
      },
    });
    const { target, sink } = await serve({ provider: fakeProvider({ logs: () => Promise.resolve(stream) }) });
    const answer = await call(target, 'GET', '/getLogs', { body: logRequest });
    expect(answer.status).toBe(200);
    expect(answer.text).toBe('partial\n');
    expect(sink.lines.some((l) => l.msg === 'the log stream failed after it started; ending the answer')).toBe(true);
  });

  it('sends the headers of a quiet stream after the header deadline', async () => {
    const stream = new PassThrough();
    const { target } = await serve({
      provider: fakeProvider({ logs: () => Promise.resolve(stream) }),
      logsHeaderDeadlineMs: 30,
    });
    const { res } = await open(target, 'GET', '/getLogs', logRequest);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.end('late\n');
    await once(res, 'end');
    expect(Buffer.concat(chunks).toString()).toBe('late\n');
  });
});

describe('createApp: errors', () => {
  it.each<{ error: PluginError; status: number; code: string }>([
    { error: new InputError('the pod has no containers', { field: 'pod.spec.containers' }), status: 400, code: 'bad_request' },
    { error: new NotFoundError('no such pod'), status: 404, code: 'not_found' },
    { error: new ConflictError('web-uid-1 belongs to another pod'), status: 409, code: 'conflict' },
    { error: new UnprocessableError('spec.containers[0].image: Required value'), status: 422, code: 'unprocessable' },
    { error: new RemoteUnavailableError('the remote API server does not answer'), status: 503, code: 'remote_unavailable' },
    { error: new RemoteError('the remote API answered 500', { status: 500 }), status: 502, code: 'remote_error' },
  ])('answers a provider $error.name with $status and the one error body', async ({ error, status, code }) => {
    const provider = fakeProvider({ create: () => Promise.reject(error) });
    const { target } = await serve({ provider });
    const answer = await call(target, 'POST', '/create', {
      body: sampleCreateBody(),
      headers: { 'InterLink-Http-Session': 'sess-err' },
    });
    expect(answer.status).toBe(status);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    const body = errorBody(answer.json());
    expect(body).toEqual({
      code,
      message: error.message,
      requestId: 'sess-err',
      ...(error.field === undefined ? {} : { field: error.field }),
    });
  });

  it('answers an unforeseen error with 500, a generic message and no stack', async () => {
    const provider = fakeProvider({
      status: () => Promise.reject(new TypeError('cannot read properties of undefined (internal detail)')),
    });
    const { target, sink } = await serve({ provider });
    const answer = await call(target, 'POST', '/status', { body: [samplePod()] });
    expect(answer.status).toBe(500);
    const body = errorBody(answer.json());
    expect(body.code).toBe('internal_error');
    expect(body.message).toBe(INTERNAL_ERROR_MESSAGE);
    expect(answer.text).not.toContain('internal detail');
    expect(answer.text).not.toMatch(/\bat .*\.(ts|js):\d+/);
    // The details go to the log instead.
    expect(JSON.stringify(sink.lines)).toContain('internal detail');
  });

  it('answers an unknown route with 404 in the one error shape', async () => {
    const { target } = await serve();
    const answer = await call(target, 'GET', '/nope');
    expect(answer.status).toBe(404);
    expect(errorBody(answer.json()).code).toBe('not_found');
  });
});

describe('createApp: request id and logging', () => {
  it('takes the id from InterLink-Http-Session, echoes it and stamps every log line', async () => {
    const { target, sink } = await serve();
    const answer = await call(target, 'POST', '/create', {
      body: sampleCreateBody(),
      headers: { 'InterLink-Http-Session': 'sess-42' },
    });
    expect(answer.headers['x-request-id']).toBe('sess-42');
    const line = sink.lines.find((l) => l.msg === 'request');
    expect(line).toMatchObject({ requestId: 'sess-42', method: 'POST', route: '/create', status: 200 });
  });

  it('generates an id when the header is absent', async () => {
    const { target } = await serve();
    const answer = await call(target, 'GET', '/healthz');
    expect(answer.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('logs request bodies at debug with Secret data, projected tokens and env values redacted', async () => {
    const { target, sink } = await serve({ logRequestBodies: true });
    await call(target, 'POST', '/create', { body: sampleCreateBody() });
    const bodyLine = sink.lines.find((l) => l.msg === 'request body');
    expect(bodyLine).toBeDefined();
    const logged = JSON.stringify(sink.lines);
    expect(logged).toContain('"cfg"');
    expect(logged).not.toContain('c2VjcmV0LXZhbHVl');
    expect(logged).not.toContain('projected-token-value');
    expect(logged).not.toContain('env-secret-value');
  });

  it('does not log request bodies by default', async () => {
    const { target, sink } = await serve();
    await call(target, 'POST', '/create', { body: sampleCreateBody() });
    expect(sink.lines.some((l) => l.msg === 'request body')).toBe(false);
  });
});

describe('createApp: operations', () => {
  it('answers /healthz with 200', async () => {
    const { target } = await serve();
    const answer = await call(target, 'GET', '/healthz');
    expect(answer.status).toBe(200);
    expect(answer.json()).toEqual({ status: 'ok' });
  });

  it('answers /readyz with 200 when every check passes', async () => {
    const { target } = await serve();
    const answer = await call(target, 'GET', '/readyz');
    expect(answer.status).toBe(200);
    expect(answer.json()).toEqual({ status: 'ready', checks: [{ name: 'remote-api', ok: true }] });
  });

  it('answers /readyz with 503 listing the checks when one fails', async () => {
    const checks = [
      { name: 'remote-api', ok: false, message: 'connect ECONNREFUSED 10.0.0.1:6443' },
      { name: 'pod-cache', ok: true },
    ];
    const { target } = await serve({ provider: fakeProvider({ readiness: () => Promise.resolve(checks) }) });
    const answer = await call(target, 'GET', '/readyz');
    expect(answer.status).toBe(503);
    expect(answer.json()).toEqual({ status: 'not ready', checks });
  });

  it('answers /readyz with 503 when the readiness call itself fails', async () => {
    const provider = fakeProvider({ readiness: () => Promise.reject(new Error('cache not started')) });
    const { target } = await serve({ provider });
    const answer = await call(target, 'GET', '/readyz');
    expect(answer.status).toBe(503);
    expect(answer.json()).toEqual({ status: 'not ready', checks: [{ name: 'provider', ok: false, message: 'cache not started' }] });
  });

  it('answers /readyz with 503 when the provider does not answer in time', async () => {
    const provider = fakeProvider({ readiness: () => new Promise(() => undefined) });
    const { target } = await serve({ provider, readinessTimeoutMs: 30 });
    const answer = await call(target, 'GET', '/readyz');
    expect(answer.status).toBe(503);
    expect(answer.json()).toEqual({
      status: 'not ready',
      checks: [{ name: 'provider', ok: false, message: 'no answer within 30 ms' }],
    });
  });

  it('answers /readyz with 503 once shutdown has begun', async () => {
    const shutdown = new AbortController();
    const { target } = await serve({ shutdown: shutdown.signal });
    shutdown.abort();
    const answer = await call(target, 'GET', '/readyz');
    expect(answer.status).toBe(503);
  });

  it('serves /metrics with route counters, the offloaded pods gauge and remote errors', async () => {
    const { target, metrics, logger } = await serve();
    await call(target, 'POST', '/create', { body: sampleCreateBody() });
    await call(target, 'GET', '/status', { body: {} });
    providerEvents(logger, metrics).remoteError?.('apply pod', new Error('refused'));
    const answer = await call(target, 'GET', '/metrics');
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^text\/plain/);
    expect(answer.text).toContain('interlink_k8s_http_requests_total{method="POST",route="/create",status="200"} 1');
    expect(answer.text).toContain('interlink_k8s_http_requests_total{method="GET",route="/status",status="400"} 1');
    expect(answer.text).toContain('interlink_k8s_http_request_duration_seconds_bucket{le="0.005",method="POST",route="/create",status="200"}');
    expect(answer.text).toContain('interlink_k8s_offloaded_pods 3');
    expect(answer.text).toContain('interlink_k8s_remote_api_errors_total{operation="apply pod"} 1');
  });

  it('includes default process metrics', async () => {
    const { target } = await serve({ metrics: createMetrics() });
    const answer = await call(target, 'GET', '/metrics');
    expect(answer.text).toContain('process_cpu_user_seconds_total');
  });

  it('does not serve /metrics when disabled', async () => {
    const { target } = await serve({ metricsEnabled: false });
    expect((await call(target, 'GET', '/metrics')).status).toBe(404);
  });

  it('serves the OpenAPI document', async () => {
    const { target } = await serve({ version: '1.2.3' });
    const answer = await call(target, 'GET', '/openapi.json');
    expect(answer.status).toBe(200);
    const doc = z
      .object({
        openapi: z.literal('3.1.0'),
        info: z.object({ version: z.string() }),
        paths: z.record(z.string(), z.record(z.string(), z.unknown())),
        components: z.object({ schemas: z.record(z.string(), z.unknown()) }),
      })
      .parse(answer.json());
    expect(doc.info.version).toBe('1.2.3');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/create', '/delete', '/status', '/getLogs', '/healthz', '/readyz', '/metrics']),
    );
    expect(Object.keys(doc.paths['/status'] ?? {})).toEqual(['get', 'post']);
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['PodStatus', 'ErrorBody', 'Readiness']));
  });

  it('serves a self-contained HTML page at the docs path', async () => {
    const { target } = await serve({ docsPath: '/api-docs' });
    const answer = await call(target, 'GET', '/api-docs');
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(answer.headers['content-security-policy']).toContain("default-src 'none'");
    expect(answer.text).toContain('<code>/create</code>');
    expect(answer.text).toContain('id="schema-PodStatus"');
    expect(answer.text).toContain('href="#schema-CreateStruct"');
    expect(answer.text).not.toContain('<script');
    expect(answer.text).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect((await call(target, 'GET', '/docs')).status).toBe(404);
  });
});

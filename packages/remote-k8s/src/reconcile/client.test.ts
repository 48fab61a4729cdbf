import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import { InputError, RemoteUnavailableError } from '@interlink-k8s/protocol';
import { ClientNodeRemoteApi, buildKubeConfig } from './client.js';
import { KubeApiError, toPluginError } from './errors.js';
import type { RawPod, WatchEvent } from './remote-api.js';

interface Recorded {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  body: string;
}

interface TestServer {
  url: string;
  requests: Recorded[];
  close(): Promise<void>;
}

type Handler = (req: Recorded, res: ServerResponse, raw: IncomingMessage) => void;

const servers: Server[] = [];
const clients: ClientNodeRemoteApi[] = [];

async function serve(handler: Handler): Promise<TestServer> {
  const requests: Recorded[] = [];
  const server = createServer((raw, res) => {
    const chunks: Buffer[] = [];
    raw.on('data', (c: Buffer) => chunks.push(c));
    raw.on('end', () => {
      const req = {
        method: raw.method ?? '',
        url: new URL(raw.url ?? '/', 'http://x'),
        headers: raw.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(req);
      handler(req, res, raw);
    });
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

function kubeconfig(server: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'remote', cluster: { server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'plugin', user: { token: 'secret-token' } }],
    contexts: [{ name: 'ctx', context: { cluster: 'remote', user: 'plugin' } }],
    'current-context': 'ctx',
  });
}

function client(server: string, requestTimeoutMs?: number): ClientNodeRemoteApi {
  const api = new ClientNodeRemoteApi(
    buildKubeConfig({ kind: 'inline', content: kubeconfig(server) }),
    requestTimeoutMs === undefined ? {} : { requestTimeoutMs, streamConnectTimeoutMs: requestTimeoutMs },
  );
  clients.push(api);
  return api;
}

const json = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

const status = (code: number, reason: string, message: string): Record<string, unknown> => ({
  kind: 'Status',
  apiVersion: 'v1',
  status: 'Failure',
  code,
  reason,
  message,
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.closeAllConnections();
          s.close(() => {
            resolve();
          });
        }),
    ),
  );
});

describe('ClientNodeRemoteApi', () => {
  it('applies a manifest as server-side apply, sending and returning fields no client model knows', async () => {
    const answer = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'ns', uid: 'u-1' },
      spec: { containers: [{ name: 'c', image: 'i', futureContainerField: true }], futurePodField: { a: [1, 2] } },
    };
    const server = await serve((_req, res) => {
      json(res, 200, answer);
    });
    const manifest = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'ns' },
      spec: { containers: [{ name: 'c', image: 'i', futureContainerField: true }], futurePodField: { a: [1, 2] } },
    };
    const applied = await client(server.url).apply('pods', manifest, 'my-manager');

    const [req] = server.requests;
    expect(req?.method).toBe('PATCH');
    expect(req?.url.pathname).toBe('/api/v1/namespaces/ns/pods/p');
    expect(Object.fromEntries(req?.url.searchParams ?? [])).toEqual({ fieldManager: 'my-manager', force: 'true' });
    expect(req?.headers['content-type']).toBe('application/apply-patch+yaml');
    expect(req?.headers.authorization).toBe('Bearer secret-token');
    expect(JSON.parse(req?.body ?? '')).toEqual(manifest);
    expect(applied).toEqual(answer);
  });

  it('keeps fields that client-node’s typed API drops on the way out (why the raw path exists)', async () => {
    const server = await serve((req, res) => {
      json(res, 201, JSON.parse(req.body) as unknown);
    });
    const manifest = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'ns' },
      spec: { containers: [{ name: 'c', image: 'i' }], futurePodField: { a: 1 } },
    };
    const kc = buildKubeConfig({ kind: 'inline', content: kubeconfig(server.url) });
    // The typed API serializes through its models: a field they lack is gone before it leaves.
    await kc.makeApiClient(CoreV1Api).createNamespacedPod({ namespace: 'ns', body: Object.assign(new V1Pod(), manifest) });
    expect(JSON.parse(server.requests[0]?.body ?? '{}')).not.toHaveProperty('spec.futurePodField');
    // The raw path sends the manifest as it is.
    await client(server.url).create('pods', manifest);
    expect(JSON.parse(server.requests[1]?.body ?? '{}')).toEqual(manifest);
  });

  it('lists with selectors and returns the items and the collection resourceVersion', async () => {
    const server = await serve((_req, res) => {
      json(res, 200, { kind: 'PodList', metadata: { resourceVersion: '42' }, items: [{ metadata: { name: 'a' } }] });
    });
    const list = await client(server.url).list('pods', {
      namespace: 'ns',
      labelSelector: 'a=b',
      fieldSelector: 'spec.nodeName!=',
      resourceVersion: '0',
      limit: 5,
    });
    expect(list).toEqual({ items: [{ metadata: { name: 'a' } }], resourceVersion: '42' });
    const url = server.requests[0]?.url;
    expect(url?.pathname).toBe('/api/v1/namespaces/ns/pods');
    expect(Object.fromEntries(url?.searchParams ?? [])).toEqual({
      labelSelector: 'a=b',
      fieldSelector: 'spec.nodeName!=',
      resourceVersion: '0',
      limit: '5',
    });
  });

  it('addresses cluster-scoped resources without a namespace', async () => {
    const server = await serve((_req, res) => {
      json(res, 200, { items: null, metadata: {} });
    });
    expect(await client(server.url).list('nodes', { namespace: 'ignored' })).toEqual({ items: [], resourceVersion: '' });
    expect(server.requests[0]?.url.pathname).toBe('/api/v1/nodes');
  });

  it('sends delete preconditions and the propagation policy', async () => {
    const server = await serve((_req, res) => {
      json(res, 200, status(200, '', ''));
    });
    await client(server.url).delete('configmaps', 'cm', 'ns', { uid: 'u-9', propagationPolicy: 'Background' });
    expect(server.requests[0]?.method).toBe('DELETE');
    expect(JSON.parse(server.requests[0]?.body ?? '')).toEqual({
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      preconditions: { uid: 'u-9' },
      propagationPolicy: 'Background',
    });
  });

  it('turns a Status answer into a KubeApiError with status, reason, message and the request', async () => {
    const server = await serve((_req, res) => {
      json(res, 404, status(404, 'NotFound', 'pods "p" not found'));
    });
    const failure = client(server.url).get('pods', 'p', 'ns');
    await expect(failure).rejects.toBeInstanceOf(KubeApiError);
    await expect(failure).rejects.toMatchObject({
      status: 404,
      reason: 'NotFound',
      message: 'pods "p" not found',
      request: { verb: 'get', resource: 'pods', namespace: 'ns', name: 'p' },
    });
  });

  it('keeps the text of a non-Status error body', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(502);
      res.end('bad gateway from the proxy');
    });
    await expect(client(server.url).get('pods', 'p', 'ns')).rejects.toMatchObject({
      status: 502,
      message: 'bad gateway from the proxy',
    });
  });

  it('reports a refused connection as no answer (status undefined) → RemoteUnavailableError', async () => {
    const server = await serve(() => undefined);
    const url = server.url;
    await server.close();
    const failure = client(url).get('pods', 'p', 'ns');
    await expect(failure).rejects.toMatchObject({ status: undefined, message: expect.stringContaining('ECONNREFUSED') as unknown });
    expect(toPluginError(await failure.catch((e: unknown) => e))).toBeInstanceOf(RemoteUnavailableError);
  });

  it('gives up on a request that gets no answer in time', async () => {
    const server = await serve(() => undefined); // never answers
    await expect(client(server.url, 200).get('pods', 'p', 'ns')).rejects.toMatchObject({
      status: undefined,
      message: 'no answer within 200 ms',
    });
  });

  it('streams watch events split across chunks, then resolves when the server ends the watch', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const line1 = `${JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a', resourceVersion: '5' } } })}\n`;
      const line2 = `${JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '9' } } })}\n`;
      const line3 = `${JSON.stringify({ type: 'ERROR', object: { code: 410, reason: 'Expired', message: 'too old' } })}\n`;
      res.write(line1.slice(0, 10));
      setTimeout(() => {
        res.write(line1.slice(10) + line2.slice(0, 5));
        setTimeout(() => {
          res.end(line2.slice(5) + line3);
        }, 10);
      }, 10);
    });
    const events: WatchEvent<RawPod>[] = [];
    const handle = await client(server.url).watch(
      'pods',
      { labelSelector: 'x', resourceVersion: '3', timeoutSeconds: 60, allowWatchBookmarks: true },
      (e) => events.push(e),
      new AbortController().signal,
    );
    await handle.done;
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'BOOKMARK', 'ERROR']);
    expect(Object.fromEntries(server.requests[0]?.url.searchParams ?? [])).toEqual({
      labelSelector: 'x',
      resourceVersion: '3',
      watch: 'true',
      timeoutSeconds: '60',
      allowWatchBookmarks: 'true',
    });
  });

  it('rejects the watch when the connection breaks, and resolves when the caller aborts', async () => {
    const server = await serve((_req, res, raw) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('\n');
      if (raw.url?.includes('resourceVersion=1') === true) {
        setTimeout(() => raw.socket.destroy(), 20);
      }
    });
    const api = client(server.url);
    const broken = await api.watch('pods', { resourceVersion: '1', timeoutSeconds: 60 }, () => undefined, new AbortController().signal);
    await expect(broken.done).rejects.toBeInstanceOf(KubeApiError);

    const controller = new AbortController();
    const aborted = await api.watch('pods', { resourceVersion: '2', timeoutSeconds: 60 }, () => undefined, controller.signal);
    controller.abort();
    await expect(aborted.done).resolves.toBeUndefined();
  });

  it('streams logs with the query as given, and drops the remote request when the caller aborts', async () => {
    let remoteClosed: Promise<unknown> = Promise.resolve();
    const server = await serve((_req, res) => {
      remoteClosed = once(res, 'close');
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('line 1\n');
    });
    const controller = new AbortController();
    const stream = await client(server.url).logs(
      'ns',
      'p',
      { container: 'main', follow: true, tailLines: 5, limitBytes: 100, sinceTime: '2026-07-01T10:00:00Z' },
      controller.signal,
    );
    const [first] = (await once(stream, 'data')) as [Buffer];
    expect(first.toString()).toBe('line 1\n');
    const req = server.requests[0];
    expect(req?.url.pathname).toBe('/api/v1/namespaces/ns/pods/p/log');
    expect(Object.fromEntries(req?.url.searchParams ?? [])).toEqual({
      container: 'main',
      follow: 'true',
      tailLines: '5',
      limitBytes: '100',
      sinceTime: '2026-07-01T10:00:00Z',
    });
    const closed = once(stream, 'close');
    controller.abort();
    await closed;
    await remoteClosed;
  });

  it('turns a log error answer into a KubeApiError', async () => {
    const server = await serve((_req, res) => {
      json(res, 400, status(400, 'BadRequest', 'container "main" in pod "p" is waiting to start: ContainerCreating'));
    });
    await expect(client(server.url).logs('ns', 'p', { container: 'main' }, new AbortController().signal)).rejects.toMatchObject({
      status: 400,
      message: 'container "main" in pod "p" is waiting to start: ContainerCreating',
    });
  });

  it('is ready when /readyz answers, or /version when /readyz is closed to it', async () => {
    const server = await serve((req, res) => {
      if (req.url.pathname === '/readyz') json(res, 403, status(403, 'Forbidden', 'forbidden'));
      else json(res, 200, { gitVersion: 'v1.34.4' });
    });
    await expect(client(server.url).ready()).resolves.toBeUndefined();
    expect(server.requests.map((r) => r.url.pathname)).toEqual(['/readyz', '/version']);
  });

  it('is not ready when the API server answers 5xx', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(500);
      res.end('[-]etcd failed');
    });
    await expect(client(server.url).ready()).rejects.toMatchObject({ status: 500 });
  });
});

describe('buildKubeConfig', () => {
  it('reads inline JSON and applies the client overrides to the current cluster and user', () => {
    const kc = buildKubeConfig(
      { kind: 'inline', content: kubeconfig('https://remote.example:6443') },
      { server: 'https://other.example:443', insecureSkipTlsVerify: true, caFile: '/ca.crt', certFile: '/c.crt', keyFile: '/c.key' },
    );
    expect(kc.getCurrentCluster()).toMatchObject({ server: 'https://other.example:443', skipTLSVerify: true, caFile: '/ca.crt' });
    expect(kc.getCurrentUser()).toMatchObject({ certFile: '/c.crt', keyFile: '/c.key', token: 'secret-token' });
  });

  it('reads inline YAML', () => {
    const yaml = [
      'apiVersion: v1',
      'clusters: [{name: r, cluster: {server: "https://r:6443"}}]',
      'users: [{name: u, user: {token: t}}]',
      'contexts: [{name: c, context: {cluster: r, user: u}}]',
      'current-context: c',
    ].join('\n');
    expect(buildKubeConfig({ kind: 'inline', content: yaml }).getCurrentCluster()?.server).toBe('https://r:6443');
  });

  it('names the file that cannot be read', () => {
    expect(() => buildKubeConfig({ kind: 'file', path: '/nonexistent/kubeconfig' })).toThrow(InputError);
    expect(() => buildKubeConfig({ kind: 'file', path: '/nonexistent/kubeconfig' })).toThrow(
      /cannot load the remote kubeconfig file \/nonexistent\/kubeconfig/,
    );
  });

  it('refuses a kubeconfig without a current cluster', () => {
    expect(() => buildKubeConfig({ kind: 'inline', content: '{"apiVersion":"v1","clusters":[],"contexts":[],"users":[]}' })).toThrow(
      'the remote kubeconfig has no current context with a cluster',
    );
  });
});

import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { lstat, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { fakeProvider } from './__tests__/fake-provider.js';
import { call, logSink, open } from './__tests__/http-client.js';
import { loadConfig } from './config/load.js';
import { createLogger } from './logger.js';
import { createMetrics } from './metrics.js';
import { startServer } from './server.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ik8s-server-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const logger = createLogger({ level: 'silent' });

describe('startServer', () => {
  it('serves on the configured unix socket (mode 0600) and close() stops the provider and removes the socket', async () => {
    const path = join(dir, 'plugin.sock');
    const config = loadConfig({ APP_SOCKET_ADDRESS: `unix://${path}`, APP_SOCKET_PORT: '0' }, () => undefined);
    const provider = fakeProvider();
    const server = await startServer(config, provider, logger, { metrics: createMetrics({ defaultMetrics: false }) });
    expect(server.address).toEqual({ kind: 'unix', path });
    expect((await lstat(path)).mode & 0o777).toBe(0o600);

    const answer = await call({ socketPath: path }, 'GET', '/status', { body: [] });
    expect(answer.status).toBe(200);
    expect(answer.json()).toMatchObject({ status: 'ok' });

    await Promise.all([server.close(), server.close()]);
    expect(provider.calls.stop).toBe(1);
    expect(existsSync(path)).toBe(false);
  });

  it('serves on TCP with the configured docs path', async () => {
    const base = loadConfig({ APP_API_DOCS_PATH: '/api' }, () => undefined);
    const config = { ...base, listen: { kind: 'tcp' as const, host: '127.0.0.1', port: 0 } };
    const server = await startServer(config, fakeProvider(), logger, { version: '9.9.9' });
    try {
      if (server.address.kind !== 'tcp') throw new Error('expected tcp');
      const answer = await call({ port: server.address.port }, 'GET', '/api');
      expect(answer.status).toBe(200);
      expect(answer.text).toContain('interlink-k8s plugin API 9.9.9');
    } finally {
      await server.close();
    }
  });

  it('ends a following log stream cleanly on shutdown and aborts the provider', async () => {
    const stream = new PassThrough();
    let signal: AbortSignal | undefined;
    const provider = fakeProvider({
      logs: (_request, s) => {
        signal = s;
        return Promise.resolve(stream);
      },
    });
    const sink = logSink();
    const base = loadConfig({ APP_SHUTDOWN_TIMEOUT_SECONDS: '30' }, () => undefined);
    const config = { ...base, listen: { kind: 'tcp' as const, host: '127.0.0.1', port: 0 } };
    const server = await startServer(config, provider, createLogger({ level: 'info' }, sink));
    if (server.address.kind !== 'tcp') throw new Error('expected tcp');
    stream.write('first\n');
    const { res } = await open({ port: server.address.port }, 'GET', '/getLogs', {
      Namespace: 'team-a',
      PodUID: 'uid-1',
      PodName: 'web',
      ContainerName: 'main',
      Opts: { Follow: true },
    });
    await once(res, 'data');
    const ended = once(res, 'end');
    res.resume();
    const started = Date.now();
    await server.close();
    await ended;
    expect(Date.now() - started).toBeLessThan(5000);
    expect(signal?.aborted).toBe(true);
    expect(provider.calls.stop).toBe(1);
  });
});

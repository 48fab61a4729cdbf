import { spawn } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { existsSync } from 'node:fs';
import { lstat, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { RequestListener } from 'node:http';
import { call } from './__tests__/http-client.js';
import { describeAddress, listen, shutdownOnSignals, type Listener } from './listen.js';
import { createLogger } from './logger.js';

let dir: string;
const listeners: Listener[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ik8s-listen-'));
});
afterEach(async () => {
  await Promise.all(listeners.splice(0).map((l) => l.close(100)));
  await rm(dir, { recursive: true, force: true });
});

const hello: RequestListener = (_req, res) => {
  res.end('hello');
};

async function track(listener: Promise<Listener>): Promise<Listener> {
  const l = await listener;
  listeners.push(l);
  return l;
}

/** A handler that answers only when released. */
function heldHandler() {
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let arrived: () => void = () => undefined;
  const arrival = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  const handler: RequestListener = (_req, res) => {
    arrived();
    void released.then(() => res.end('done'));
  };
  return { handler, release, arrival };
}

describe('listen on a unix socket', () => {
  it('creates the socket with mode 0600, in a directory it creates, and serves on it', async () => {
    const path = join(dir, 'run', 'plugin.sock');
    const listener = await track(listen(hello, { kind: 'unix', path }));
    expect(listener.address).toEqual({ kind: 'unix', path });
    const info = await lstat(path);
    expect(info.isSocket()).toBe(true);
    expect(info.mode & 0o777).toBe(0o600);
    const answer = await call({ socketPath: path }, 'GET', '/');
    expect(answer.text).toBe('hello');
  });

  it('replaces a stale socket left by a killed process', async () => {
    const path = join(dir, 'plugin.sock');
    const child = spawn(process.execPath, [
      '-e',
      `require('node:net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`,
    ]);
    await once(child, 'exit');
    expect((await lstat(path)).isSocket()).toBe(true);
    await track(listen(hello, { kind: 'unix', path }));
    expect((await call({ socketPath: path }, 'GET', '/')).text).toBe('hello');
  });

  it('refuses to take over a socket another server is listening on', async () => {
    const path = join(dir, 'plugin.sock');
    await track(listen(hello, { kind: 'unix', path }));
    await expect(listen(hello, { kind: 'unix', path })).rejects.toThrow(
      `cannot listen on unix://${path}: another server is already listening on ${path}`,
    );
  });

  it('refuses to replace a file that is not a socket', async () => {
    const path = join(dir, 'plugin.sock');
    await writeFile(path, 'keep me');
    await expect(listen(hello, { kind: 'unix', path })).rejects.toThrow('exists and is not a socket');
    expect(existsSync(path)).toBe(true);
  });

  it('removes the socket file on close', async () => {
    const path = join(dir, 'plugin.sock');
    const listener = await listen(hello, { kind: 'unix', path });
    await listener.close(100);
    expect(existsSync(path)).toBe(false);
  });
});

describe('listen on TCP', () => {
  it('reports the port it was given when asked for port 0', async () => {
    const listener = await track(listen(hello, { kind: 'tcp', host: '127.0.0.1', port: 0 }));
    if (listener.address.kind !== 'tcp') throw new Error('expected tcp');
    expect(listener.address.port).toBeGreaterThan(0);
    expect(describeAddress(listener.address)).toBe(`http://127.0.0.1:${listener.address.port}`);
  });

  it('names the address when the port is taken', async () => {
    const first = await track(listen(hello, { kind: 'tcp', host: '127.0.0.1', port: 0 }));
    if (first.address.kind !== 'tcp') throw new Error('expected tcp');
    await expect(listen(hello, { kind: 'tcp', host: '127.0.0.1', port: first.address.port })).rejects.toThrow(
      `cannot listen on http://127.0.0.1:${first.address.port}: listen EADDRINUSE`,
    );
  });
});

describe('Listener.close', () => {
  it('stops accepting, lets an in-flight request finish, then resolves', async () => {
    const held = heldHandler();
    const listener = await listen(held.handler, { kind: 'tcp', host: '127.0.0.1', port: 0 });
    if (listener.address.kind !== 'tcp') throw new Error('expected tcp');
    const target = { port: listener.address.port };
    const inFlight = call(target, 'GET', '/');
    await held.arrival;
    let closed = false;
    const closing = listener.close(5000).then(() => {
      closed = true;
    });
    await expect(call(target, 'GET', '/')).rejects.toThrow(/ECONNREFUSED/);
    expect(closed).toBe(false);
    held.release();
    expect((await inFlight).text).toBe('done');
    await closing;
    expect(closed).toBe(true);
  });

  it('closes a keep-alive connection once its in-flight answer is sent', async () => {
    const held = heldHandler();
    const listener = await listen(held.handler, { kind: 'tcp', host: '127.0.0.1', port: 0 });
    if (listener.address.kind !== 'tcp') throw new Error('expected tcp');
    const agent = new Agent({ keepAlive: true });
    const answer = new Promise<string>((resolve, reject) => {
      const req = request({ port: (listener.address as { port: number }).port, host: '127.0.0.1', agent }, (res) => {
        resolve(String(res.headers.connection));
        res.resume();
      });
      req.on('error', reject);
      req.end();
    });
    await held.arrival;
    const closing = listener.close(10_000);
    held.release();
    expect(await answer).toBe('close');
    const started = Date.now();
    await closing;
    expect(Date.now() - started).toBeLessThan(5000);
    agent.destroy();
  });

  it('cuts requests still running after the timeout', async () => {
    const held = heldHandler();
    const listener = await listen(held.handler, { kind: 'tcp', host: '127.0.0.1', port: 0 });
    if (listener.address.kind !== 'tcp') throw new Error('expected tcp');
    const inFlight = call({ port: listener.address.port }, 'GET', '/');
    await held.arrival;
    const started = Date.now();
    await listener.close(100);
    expect(Date.now() - started).toBeLessThan(2000);
    await expect(inFlight).rejects.toThrow();
    held.release();
  });
});

describe('shutdownOnSignals', () => {
  const logger = createLogger({ level: 'silent' });

  it('runs the shutdown on SIGTERM and exits 0', async () => {
    const source = new EventEmitter();
    const exits: number[] = [];
    let shutdowns = 0;
    shutdownOnSignals({
      source,
      logger,
      shutdown: () => {
        shutdowns += 1;
        return Promise.resolve();
      },
      exit: (code) => exits.push(code),
    });
    source.emit('SIGTERM');
    await new Promise((r) => setImmediate(r));
    expect(shutdowns).toBe(1);
    expect(exits).toEqual([0]);
  });

  it('exits 1 at once on a second signal, and 1 when the shutdown fails', async () => {
    const source = new EventEmitter();
    const exits: number[] = [];
    let fail: (error: Error) => void = () => undefined;
    shutdownOnSignals({
      source,
      logger,
      shutdown: () =>
        new Promise<void>((_resolve, reject) => {
          fail = reject;
        }),
      exit: (code) => exits.push(code),
    });
    source.emit('SIGINT');
    source.emit('SIGTERM');
    expect(exits).toEqual([1]);
    fail(new Error('provider.stop failed'));
    await new Promise((r) => setImmediate(r));
    expect(exits).toEqual([1, 1]);
  });
});

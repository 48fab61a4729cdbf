/**
 * Our bastion against OpenSSH's sshd as the gateway (the reference plugin's
 * setup): forwards work, the host key is pinned, and the bastion comes back
 * by itself after sshd is killed and restarted.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { HostKeyMismatchError } from '../errors.js';
import {
  SSHD,
  digestOf,
  freePort,
  httpGet,
  keygen,
  nextEvent,
  sendAndHalfClose,
  startDigestServer,
  startHttp,
  startSshd,
  stopAllChildren,
  tempDir,
  waitFor,
  type KeyPair,
  type Sshd,
} from '../__tests__/helpers.js';
import { Bastion, type DisconnectedEvent, type ForwardReadyEvent } from './bastion.js';

const describeWithSshd = existsSync(SSHD) ? describe : describe.skip;

describeWithSshd('Bastion with OpenSSH sshd as the gateway', () => {
  const dir = tempDir();
  let sshd: Sshd;
  let clientKey: KeyPair;
  let otherHostKey: KeyPair;
  let web: Awaited<ReturnType<typeof startHttp>>;
  const bastions: Bastion[] = [];

  function bastion(forwardPort: number, hostKey: string): Bastion {
    const created = Bastion.fromConfig({
      host: '127.0.0.1',
      port: sshd.port,
      username: sshd.user,
      privateKey: clientKey.privateText,
      hostKeys: hostKey,
      forwards: [{ bindAddress: '127.0.0.1', bindPort: forwardPort, targetPort: web.port }],
      keepaliveIntervalMs: 1_000,
      keepaliveCountMax: 3,
      backoff: { initialMs: 100, maxMs: 1_000, multiplier: 2, jitter: 0.5 },
    });
    bastions.push(created);
    return created;
  }

  beforeAll(async () => {
    clientKey = keygen(dir.path, 'bastion');
    otherHostKey = keygen(dir.path, 'impostor');
    sshd = await startSshd(dir.path, { authorizedKeys: `${clientKey.publicLine}\n` });
    web = await startHttp('pod');
  });

  afterEach(async () => {
    await Promise.all(bastions.splice(0).map((b) => b.stop()));
  });

  afterAll(async () => {
    await stopAllChildren();
    await web.close();
    dir.remove();
  });

  it('carries HTTP through the reverse forward sshd listens on', async () => {
    const port = await freePort();
    const b = bastion(port, sshd.hostKey.publicLine);
    const ready = nextEvent<ForwardReadyEvent>(b, 'forwardReady');
    b.start();

    await expect(ready).resolves.toMatchObject({ bindAddress: '127.0.0.1', bindPort: port, boundPort: port, targetPort: web.port });
    await expect(httpGet(port, '/through-sshd')).resolves.toEqual({ status: 200, body: 'pod /through-sshd' });
    expect(b.stats()).toMatchObject({ connected: true, forwardsReady: 1, streamsTotal: 1 });
  });

  it('carries 4 MiB and a half-close through sshd', async () => {
    const digest = await startDigestServer();
    try {
      const port = await freePort();
      const b = Bastion.fromConfig({
        host: '127.0.0.1',
        port: sshd.port,
        username: sshd.user,
        privateKey: clientKey.privateText,
        hostKeys: sshd.hostKey.publicLine,
        forwards: [{ bindAddress: '127.0.0.1', bindPort: port, targetPort: digest.port }],
      });
      bastions.push(b);
      const ready = nextEvent<ForwardReadyEvent>(b, 'forwardReady');
      b.start();
      await ready;
      const payload = randomBytes(4 * 1024 * 1024);

      await expect(sendAndHalfClose(port, payload)).resolves.toBe(digestOf(payload));
    } finally {
      digest.close();
    }
  });

  it('refuses a gateway whose host key is not the pinned one, before authenticating', async () => {
    const port = await freePort();
    const logStart = sshd.child.stderr().length;
    const b = bastion(port, otherHostKey.publicLine);
    let connected = false;
    b.on('connected', () => (connected = true));
    const refused = nextEvent<Error>(b, 'error', 10_000, (error) => error instanceof HostKeyMismatchError);
    const disconnected = nextEvent<DisconnectedEvent>(b, 'disconnected');
    b.start();

    const error = await refused;
    if (!(error instanceof HostKeyMismatchError)) throw error;
    expect(error.presentedFingerprint).toBe(sshd.hostKey.fingerprint);
    // It keeps trying (the key may be fixed in the gateway), but never gets in.
    await expect(disconnected).resolves.toMatchObject({ retryInMs: expect.any(Number) as unknown });
    expect(connected).toBe(false);
    const log = sshd.child.stderr().slice(logStart);
    expect(log).toMatch(/Connection from 127\.0\.0\.1/);
    expect(log).not.toMatch(/Accepted (publickey|key)/);
  });

  it('reconnects and asks for its forward again after sshd is killed and restarted', async () => {
    const port = await freePort();
    const b = bastion(port, sshd.hostKey.publicLine);
    const firstReady = nextEvent<ForwardReadyEvent>(b, 'forwardReady');
    b.start();
    await firstReady;
    await expect(httpGet(port, '/before')).resolves.toEqual({ status: 200, body: 'pod /before' });

    const disconnected = nextEvent<DisconnectedEvent>(b, 'disconnected');
    await sshd.stop(); // the whole process group: listener and per-connection children
    const event = await disconnected;
    expect(event.retryInMs).toBeGreaterThan(0);

    const readyAgain = nextEvent<ForwardReadyEvent>(b, 'forwardReady', 20_000);
    sshd = await sshd.restart();
    await expect(readyAgain).resolves.toMatchObject({ bindPort: port });
    await expect(waitFor(() => httpGet(port, '/after').catch(() => undefined), 5_000, 'a request through the new sshd')).resolves.toEqual({
      status: 200,
      body: 'pod /after',
    });
    expect(b.stats().connectionsTotal).toBe(2);
  });
});

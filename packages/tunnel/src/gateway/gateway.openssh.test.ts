/**
 * OpenSSH's client (`ssh -R`, Debian's openssh-client) against our gateway:
 * reverse forwards work and get their own ports; everything else is refused.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { connect } from 'node:net';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import {
  digestOf,
  freePort,
  httpGet,
  isListening,
  keygen,
  nextEvent,
  run,
  sendAndHalfClose,
  sshOptions,
  startDigestServer,
  startHttp,
  stopAllChildren,
  tempDir,
  waitFor,
  writeKnownHosts,
  type Child,
  type KeyPair,
} from '../__tests__/helpers.js';
import { TunnelGateway } from './gateway.js';
import type { AuthFailure, ForwardInfo, ForwardRemovalReason, RefusedRequest } from './types.js';

// Below the kernel's ephemeral range, so no client socket can be holding one.
const RANGE = { min: 25100, max: 25199 };

describe('TunnelGateway with the OpenSSH client', () => {
  const dir = tempDir();
  const events = new EventEmitter();
  let gateway: TunnelGateway;
  let gatewayPort: number;
  let hostKey: KeyPair;
  let clientKey: KeyPair;
  let strangerKey: KeyPair;
  let knownHosts: string;
  let alpha: Awaited<ReturnType<typeof startHttp>>;
  let beta: Awaited<ReturnType<typeof startHttp>>;
  const clients: Child[] = [];

  /** `ssh -N -R spec` as a bastion would run it. */
  function sshReverse(spec: string, key: KeyPair = clientKey, user = 'bastion'): Child {
    const child = run('ssh', [...sshOptions(knownHosts, key.privatePath), '-N', '-p', String(gatewayPort), '-R', spec, `${user}@127.0.0.1`]);
    clients.push(child);
    return child;
  }

  beforeAll(async () => {
    hostKey = keygen(dir.path, 'gateway_host');
    clientKey = keygen(dir.path, 'bastion');
    strangerKey = keygen(dir.path, 'stranger');
    gateway = TunnelGateway.fromConfig(
      {
        hostKeys: [hostKey.privateText],
        authorizedKeys: `# the bastions\n${clientKey.publicLine}\n`,
        listenHost: '127.0.0.1',
        listenPort: 0,
        forwardHost: '127.0.0.1',
        portRange: RANGE,
      },
      {
        onForwardAdded: (forward) => void events.emit('added', forward),
        onForwardRemoved: (forward, reason) => void events.emit('removed', { forward, reason }),
        onAuthFailure: (failure) => void events.emit('authFailure', failure),
        onRequestRefused: (request) => void events.emit('refused', request),
      },
    );
    gatewayPort = (await gateway.listen()).port;
    knownHosts = join(dir.path, 'known_hosts');
    writeKnownHosts(knownHosts, gatewayPort, hostKey.publicLine);
    alpha = await startHttp('alpha');
    beta = await startHttp('beta');
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((child) => child.stop()));
  });

  afterAll(async () => {
    await stopAllChildren();
    await gateway.close();
    await alpha.close();
    await beta.close();
    dir.remove();
  });

  it('exposes a local HTTP server behind `ssh -R` on the allocated port', async () => {
    const added = nextEvent<ForwardInfo>(events, 'added');
    sshReverse(`8080:127.0.0.1:${alpha.port}`, clientKey, 'pod=web,namespace=shop');
    const forward = await added;

    expect(forward).toMatchObject({
      requestedAddress: 'localhost',
      requestedPort: 8080,
      clientKeyFingerprint: clientKey.fingerprint,
      username: 'pod=web,namespace=shop',
      labels: { pod: 'web', namespace: 'shop' },
    });
    expect(forward.allocatedPort).toBeGreaterThanOrEqual(RANGE.min);
    expect(forward.allocatedPort).toBeLessThanOrEqual(RANGE.max);
    await expect(httpGet(forward.allocatedPort, '/hello')).resolves.toEqual({ status: 200, body: 'alpha /hello' });
    // Nothing listens on the port the client asked for: only the allocated one is used.
    expect(gateway.forwards()).toHaveLength(1);
    expect(gateway.stats()).toMatchObject({ activeTunnels: 1, streamsTotal: 1 });
    expect(gateway.stats().bytesOut).toBeGreaterThan(0);
  });

  it('gives two clients asking for the same port different ports, and both work', async () => {
    const first = nextEvent<ForwardInfo>(events, 'added');
    sshReverse(`8080:127.0.0.1:${alpha.port}`);
    const a = await first;
    const second = nextEvent<ForwardInfo>(events, 'added');
    sshReverse(`8080:127.0.0.1:${beta.port}`);
    const b = await second;

    expect(a.requestedPort).toBe(8080);
    expect(b.requestedPort).toBe(8080);
    expect(a.allocatedPort).not.toBe(b.allocatedPort);
    expect(a.connectionId).not.toBe(b.connectionId);
    await expect(httpGet(a.allocatedPort, '/a')).resolves.toEqual({ status: 200, body: 'alpha /a' });
    await expect(httpGet(b.allocatedPort, '/b')).resolves.toEqual({ status: 200, body: 'beta /b' });
  });

  it('answers a request for port 0 with the allocated port, which the client reports', async () => {
    const added = nextEvent<ForwardInfo>(events, 'added');
    const ssh = sshReverse(`0:127.0.0.1:${alpha.port}`);
    const forward = await added;
    const [, reported] = await ssh.waitForOutput(/Allocated port (\d+) for remote forward/);

    expect(Number(reported)).toBe(forward.allocatedPort);
    expect(forward.requestedPort).toBe(0);
    await expect(httpGet(forward.allocatedPort, '/zero')).resolves.toEqual({ status: 200, body: 'alpha /zero' });
  });

  it('carries 4 MiB and a half-close through `ssh -R`', async () => {
    const digest = await startDigestServer();
    try {
      const added = nextEvent<ForwardInfo>(events, 'added');
      sshReverse(`9100:127.0.0.1:${digest.port}`);
      const { allocatedPort } = await added;
      const payload = randomBytes(4 * 1024 * 1024);

      await expect(sendAndHalfClose(allocatedPort, payload)).resolves.toBe(digestOf(payload));
    } finally {
      digest.close();
    }
  });

  it('releases the port when the client disconnects', async () => {
    const added = nextEvent<ForwardInfo>(events, 'added');
    const ssh = sshReverse(`9000:127.0.0.1:${alpha.port}`);
    const forward = await added;
    const removed = nextEvent<{ forward: ForwardInfo; reason: ForwardRemovalReason }>(events, 'removed');
    await ssh.stop();

    await expect(removed).resolves.toMatchObject({ forward: { allocatedPort: forward.allocatedPort }, reason: 'disconnected' });
    await expect(isListening(forward.allocatedPort)).resolves.toBe(false);
    expect(gateway.forwards()).toHaveLength(0);
  });

  it.each([
    ['exec', ['echo', 'hi']],
    ['a subsystem', ['-s', 'sftp']],
    ['a shell', ['-T']],
  ])('refuses %s', async (_what, args) => {
    const ssh = run('ssh', [...sshOptions(knownHosts, clientKey.privatePath), '-p', String(gatewayPort), 'bastion@127.0.0.1', ...args]);
    clients.push(ssh);
    const code = await ssh.exited;

    expect(code).not.toBe(0);
    expect(ssh.stdout()).not.toContain('hi');
    expect(ssh.stderr()).toMatch(/administratively prohibited/);
  });

  it('refuses a local forward (`ssh -L`, direct-tcpip)', async () => {
    const localPort = await freePort();
    const ssh = run('ssh', [...sshOptions(knownHosts, clientKey.privatePath), '-N', '-p', String(gatewayPort), '-L', `${localPort}:127.0.0.1:${alpha.port}`, 'bastion@127.0.0.1']);
    clients.push(ssh);
    await waitFor(() => isListening(localPort), 10_000, 'ssh -L to listen');

    // The connection is accepted by ssh locally, then closed when the gateway refuses the channel.
    const received = await new Promise<string>((resolve) => {
      let data = '';
      const socket = connect(localPort, '127.0.0.1', () => socket.write('GET / HTTP/1.0\r\n\r\n'));
      socket.on('data', (chunk: Buffer) => (data += chunk.toString('utf8')));
      socket.on('error', () => undefined);
      socket.on('close', () => { resolve(data); });
    });
    expect(received).toBe('');
    await ssh.waitForOutput(/administratively prohibited/);
  });

  it('refuses a remote Unix-socket forward', async () => {
    const refused = nextEvent<RefusedRequest>(events, 'refused');
    const ssh = sshReverse(`${join(dir.path, 'forward.sock')}:127.0.0.1:${alpha.port}`);
    const code = await ssh.exited;

    expect(code).not.toBe(0);
    await expect(refused).resolves.toMatchObject({ kind: 'global', name: 'streamlocal-forward@openssh.com' });
  });

  it('refuses a key that is not authorised and counts the failure', async () => {
    const before = gateway.stats().authFailuresTotal;
    const failure = nextEvent<AuthFailure>(events, 'authFailure');
    const ssh = sshReverse(`8080:127.0.0.1:${alpha.port}`, strangerKey);
    const code = await ssh.exited;

    expect(code).toBe(255);
    expect(ssh.stderr()).toMatch(/Permission denied \(publickey\)/);
    await expect(failure).resolves.toMatchObject({ method: 'publickey', reason: 'unknown-key', keyFingerprint: strangerKey.fingerprint });
    expect(gateway.stats().authFailuresTotal).toBeGreaterThan(before);
    expect(gateway.forwards()).toHaveLength(0);
  });

  it('cancels a forward on cancel-tcpip-forward (ssh2 client)', async () => {
    const client = new ssh2.Client();
    const ready = nextEvent(client, 'ready');
    client.on('error', () => undefined);
    client.connect({ host: '127.0.0.1', port: gatewayPort, username: 'bastion', privateKey: clientKey.privateText, hostVerifier: () => true });
    await ready;
    try {
      const added = nextEvent<ForwardInfo>(events, 'added', 10_000, (forward) => forward.requestedPort === 7000);
      await new Promise<void>((resolve, reject) => {
        client.forwardIn('127.0.0.1', 7000, (error) => {
          if (error) reject(error);
          else resolve();
        });
      });
      const allocated = (await added).allocatedPort;
      await expect(isListening(allocated)).resolves.toBe(true);
      const removed = nextEvent<{ reason: ForwardRemovalReason }>(events, 'removed');
      await new Promise<void>((resolve, reject) => {
        client.unforwardIn('127.0.0.1', 7000, (error) => {
          if (error) reject(error);
          else resolve();
        });
      });

      await expect(removed).resolves.toMatchObject({ reason: 'cancelled' });
      await expect(isListening(allocated)).resolves.toBe(false);
      // Cancelling twice is refused: the forward is gone.
      await expect(
        new Promise<void>((resolve, reject) => {
          client.unforwardIn('127.0.0.1', 7000, (error) => {
          if (error) reject(error);
          else resolve();
        });
        }),
      ).rejects.toThrow();
    } finally {
      client.end();
    }
  });
});

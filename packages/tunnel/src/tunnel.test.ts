/**
 * Our bastion against our gateway, end to end through loopback: HTTP, large
 * payloads, TCP half-close, refused forwards, and a gateway restart in the
 * middle of traffic.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { Bastion, type ForwardReadyEvent } from './bastion/bastion.js';
import { SUPPORTED_CIPHERS, type SupportedCipher } from '@interlink-k8s/contract';
import { ForwardRefusedError } from './errors.js';
import { TunnelGateway, type GatewayConfig } from './gateway/gateway.js';
import type { ForwardInfo, GatewayEvents } from './gateway/types.js';
import { digestOf, httpGet, keygen, nextEvent, sendAndHalfClose, startDigestServer, startHttp, tempDir, waitFor, type KeyPair } from './__tests__/helpers.js';

// Below the kernel's ephemeral range, so no client socket can be holding one.
const RANGE = { min: 25200, max: 25299 };

describe('Bastion through TunnelGateway', () => {
  const dir = tempDir();
  const events = new EventEmitter();
  let hostKey: KeyPair;
  let bastionKey: KeyPair;
  let gatewayConfig: GatewayConfig;
  let gateway: TunnelGateway;
  let web: Awaited<ReturnType<typeof startHttp>>;
  let digest: Awaited<ReturnType<typeof startDigestServer>>;
  let slow: Server;
  let slowPort: number;
  const bastions: Bastion[] = [];

  const gatewayEvents: GatewayEvents = {
    onForwardAdded: (forward) => void events.emit('added', forward),
    onForwardRemoved: (forward, reason) => void events.emit('removed', { forward, reason }),
  };

  function bastion(forwards: { bindPort: number; targetPort: number }[], labels: Record<string, string> = { pod: 'web' }, ciphers?: readonly SupportedCipher[]): Bastion {
    const created = Bastion.fromConfig({
      host: '127.0.0.1',
      port: gateway.address?.port ?? 0,
      labels,
      privateKey: bastionKey.privateText,
      hostKeys: hostKey.publicLine,
      forwards,
      ...(ciphers === undefined ? {} : { ciphers }),
      keepaliveIntervalMs: 1_000,
      backoff: { initialMs: 100, maxMs: 1_000, multiplier: 2, jitter: 0.5 },
    });
    bastions.push(created);
    return created;
  }

  beforeAll(async () => {
    hostKey = keygen(dir.path, 'gateway_host');
    bastionKey = keygen(dir.path, 'bastion');
    gatewayConfig = {
      hostKeys: [hostKey.privateText],
      authorizedKeys: bastionKey.publicLine,
      listenHost: '127.0.0.1',
      listenPort: 0,
      forwardHost: '127.0.0.1',
      portRange: RANGE,
      maxForwardsPerConnection: 2,
    };
    gateway = TunnelGateway.fromConfig(gatewayConfig, gatewayEvents);
    await gateway.listen();
    web = await startHttp('web');
    digest = await startDigestServer();
    // Streams 64 KiB every 20 ms until the client goes away: traffic in flight.
    slow = createServer((socket) => {
      const timer = setInterval(() => socket.write(Buffer.alloc(64 * 1024, 1)), 20);
      socket.on('close', () => { clearInterval(timer); });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    slowPort = (slow.address() as AddressInfo).port;
  });

  afterEach(async () => {
    await Promise.all(bastions.splice(0).map((b) => b.stop()));
  });

  afterAll(async () => {
    await gateway.close();
    await web.close();
    digest.close();
    slow.close();
    dir.remove();
  });

  it('carries HTTP end to end and hands the labels to the gateway', async () => {
    const added = nextEvent<ForwardInfo>(events, 'added');
    const b = bastion([{ bindPort: 8080, targetPort: web.port }], { pod: 'web', namespace: 'shop floor' });
    b.start();
    const forward = await added;

    expect(forward).toMatchObject({ requestedPort: 8080, requestedAddress: '0.0.0.0', labels: { pod: 'web', namespace: 'shop floor' }, clientKeyFingerprint: bastionKey.fingerprint });
    await expect(httpGet(forward.allocatedPort, '/e2e')).resolves.toEqual({ status: 200, body: 'web /e2e' });
  });

  it('keeps 8 MiB intact and carries a half-close', async () => {
    const added = nextEvent<ForwardInfo>(events, 'added');
    bastion([{ bindPort: 9000, targetPort: digest.port }]).start();
    const { allocatedPort } = await added;
    const payload = randomBytes(8 * 1024 * 1024);

    const answer = await sendAndHalfClose(allocatedPort, payload);
    expect(answer).toBe(digestOf(payload));
    await waitFor(() => gateway.stats().activeStreams === 0, 5_000, 'the stream to be cleaned up');
    expect(gateway.stats().bytesIn).toBeGreaterThanOrEqual(payload.length);
  });

  // Each cipher the configuration accepts really works, whichever implementation ssh2 picks for it (binding or JavaScript).
  it.each(SUPPORTED_CIPHERS)('keeps 1 MiB intact with %s only', async (cipher) => {
    const added = nextEvent<ForwardInfo>(events, 'added');
    bastion([{ bindPort: 9001, targetPort: digest.port }], { pod: 'web' }, [cipher]).start();
    const { allocatedPort } = await added;
    const payload = randomBytes(1024 * 1024);

    await expect(sendAndHalfClose(allocatedPort, payload)).resolves.toBe(digestOf(payload));
  });

  it('delivers a whole response to a slow reader that half-closed first', async () => {
    const size = 4 * 1024 * 1024;
    const burst = createServer({ allowHalfOpen: true }, (socket) => {
      socket.on('error', () => undefined);
      socket.resume();
      socket.on('end', () => socket.end(Buffer.alloc(size, 7)));
    });
    await new Promise<void>((resolve) => burst.listen(0, '127.0.0.1', resolve));
    try {
      const added = nextEvent<ForwardInfo>(events, 'added');
      bastion([{ bindPort: 9200, targetPort: (burst.address() as AddressInfo).port }]).start();
      const { allocatedPort } = await added;

      const received = await new Promise<number>((resolve, reject) => {
        let count = 0;
        const socket = connect({ port: allocatedPort, host: '127.0.0.1', allowHalfOpen: true }, () => {
          socket.end();
          socket.pause();
          // Read only after the far end has sent everything and closed its channel.
          setTimeout(() => socket.resume(), 500);
        });
        socket.on('data', (chunk: Buffer) => (count += chunk.length));
        socket.on('end', () => { resolve(count); });
        socket.on('error', reject);
      });
      expect(received).toBe(size);
    } finally {
      burst.close();
    }
  });

  it('closes the local connection when the target refuses it', async () => {
    const added = nextEvent<ForwardInfo>(events, 'added');
    const closedPort = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => { resolve(port); });
      });
    });
    const b = bastion([{ bindPort: 9100, targetPort: closedPort }]);
    b.start();
    const { allocatedPort } = await added;
    const failures = gateway.stats().streamOpenFailuresTotal;

    await expect(httpGet(allocatedPort)).rejects.toThrow();
    expect(gateway.stats().streamOpenFailuresTotal).toBe(failures + 1);
    expect(b.stats().targetFailuresTotal).toBe(1);
  });

  it('retries when the gateway refuses a forward', async () => {
    const b = bastion([
      { bindPort: 1, targetPort: web.port },
      { bindPort: 2, targetPort: web.port },
      { bindPort: 3, targetPort: web.port },
    ]);
    const refused = nextEvent<Error>(b, 'error', 10_000, (error) => error instanceof ForwardRefusedError);
    const retried = nextEvent<{ retryInMs: number | undefined }>(b, 'disconnected');
    b.start();

    await expect(refused).resolves.toMatchObject({ bindPort: 3 });
    await expect(retried).resolves.toMatchObject({ retryInMs: expect.any(Number) as unknown });
  });

  it('reconnects after the gateway restarts mid-traffic, and new requests succeed', async () => {
    const added = nextEvent<ForwardInfo>(events, 'added');
    const b = bastion([
      { bindPort: 8080, targetPort: web.port },
      { bindPort: 8081, targetPort: slowPort },
    ]);
    b.start();
    await added;
    const streaming = await waitFor(() => gateway.forwards().find((f) => f.requestedPort === 8081), 5_000, 'the second forward');

    // A download in flight through the tunnel.
    let received = 0;
    const download = new Promise<string>((resolve) => {
      const socket = connect(streaming.allocatedPort, '127.0.0.1');
      socket.on('data', (chunk: Buffer) => (received += chunk.length));
      socket.on('error', () => undefined);
      socket.on('close', () => { resolve('closed'); });
    });
    await waitFor(() => received > 256 * 1024, 5_000, 'traffic through the tunnel');

    const port = gateway.address?.port ?? 0;
    const stoppedAt = Date.now();
    await gateway.close();
    await expect(download).resolves.toBe('closed');

    const readyAgain = new Promise<number>((resolve) => {
      let ready = 0;
      b.on('forwardReady', (event: ForwardReadyEvent) => {
        ready++;
        if (ready === 2 && event.bindPort > 0) resolve(Date.now());
      });
    });
    const addedAgain = nextEvent<ForwardInfo>(events, 'added', 10_000, (f) => f.requestedPort === 8080);
    gateway = TunnelGateway.fromConfig({ ...gatewayConfig, listenPort: port }, gatewayEvents);
    await gateway.listen();
    const restartedAt = Date.now();
    const forward = await addedAgain;
    const reconnectedAt = await readyAgain;
    const reconnectMs = reconnectedAt - restartedAt;
    process.stdout.write(`bastion back ${reconnectMs} ms after the gateway restarted (${reconnectedAt - stoppedAt} ms after it stopped)\n`);

    expect(reconnectMs).toBeLessThan(5_000);
    await expect(httpGet(forward.allocatedPort, '/after-restart')).resolves.toEqual({ status: 200, body: 'web /after-restart' });
  });
});

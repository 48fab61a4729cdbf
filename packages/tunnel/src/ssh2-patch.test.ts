/**
 * Our ssh2 patch (patches/ssh2@1.17.0.patch) makes a channel's stderr stream
 * only when it is first used. The tunnel never uses it; these tests keep the
 * behaviour ssh2's other users rely on: an exec session's stderr carries
 * data both ways, and a stderr first touched after the channel closed is
 * already ended, as an eager one would be. The patch also drops the key
 * exchange's ephemeral key once used, and makes the buffers a connection
 * keeps exact-size instead of slices of Buffer's shared pool.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AddressInfo } from 'node:net';
import ssh2, { type ClientChannel, type ServerChannel } from 'ssh2';
import { keygen, tempDir, type KeyPair } from './__tests__/helpers.js';

const { Client, Server } = ssh2;

/** The parts of ssh2's internal protocol state the patch changes. */
interface ProtocolInternals {
  readonly _identRaw: Buffer;
  readonly _remoteIdentRaw: Buffer;
  readonly _decipher: { readonly _tag?: Buffer };
  readonly _kex: { readonly _keys?: unknown };
}

describe('ssh2 as patched', () => {
  const dir = tempDir();
  let hostKey: KeyPair;
  let server: InstanceType<typeof Server>;
  let port = 0;
  /** What the server side of each exec does with its channel. */
  let onExec: (channel: ServerChannel) => void = () => undefined;
  /** The server's side of the newest connection. */
  let serverSide: ProtocolInternals | undefined;

  beforeAll(async () => {
    hostKey = keygen(dir.path, 'host');
    server = new Server({ hostKeys: [hostKey.privateText], ident: 'patch-test-server' }, (conn) => {
      serverSide = (conn as unknown as { _protocol: ProtocolInternals })._protocol;
      conn.on('authentication', (ctx) => {
        ctx.accept();
      });
      conn.on('ready', () => {
        conn.on('session', (acceptSession) => {
          acceptSession().on('exec', (acceptExec) => {
            onExec(acceptExec());
          });
        });
      });
      conn.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(() => {
    server.close();
    dir.remove();
  });

  function exec(command: string): Promise<{ channel: ClientChannel; client: InstanceType<typeof Client> }> {
    const client = new Client();
    return new Promise((resolve, reject) => {
      client.on('error', reject);
      client.on('ready', () => {
        client.exec(command, (error, channel) => {
          if (error !== undefined) reject(error);
          else resolve({ channel, client });
        });
      });
      client.connect({
        host: '127.0.0.1',
        port,
        username: 'test',
        hostVerifier: () => true,
        ident: 'patch-test-client',
        algorithms: { kex: ['curve25519-sha256'], cipher: ['aes128-gcm@openssh.com'] },
      });
    });
  }

  const collect = (stream: NodeJS.ReadableStream) =>
    new Promise<string>((resolve) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        resolve(Buffer.concat(chunks).toString());
      });
    });

  it('carries an exec session\'s stderr and stdout, and ends both', async () => {
    onExec = (channel) => {
      channel.stderr.write('to stderr');
      channel.write('to stdout');
      channel.exit(0);
      channel.end();
    };
    const { channel, client } = await exec('anything');
    const [stdout, stderr, code] = await Promise.all([
      collect(channel),
      collect(channel.stderr),
      new Promise<number>((resolve) => channel.on('exit', (exitCode: number) => { resolve(exitCode); })),
    ]);
    client.end();

    expect({ stdout, stderr, code }).toEqual({ stdout: 'to stdout', stderr: 'to stderr', code: 0 });
  });

  it('gives an ended stderr, that then closes, when first touched after the channel closed', async () => {
    onExec = (channel) => {
      channel.write('only stdout');
      channel.exit(0);
      channel.end();
    };
    const { channel, client } = await exec('anything');
    const channelClosed = new Promise<void>((resolve) => channel.on('close', () => { resolve(); }));
    const stdout = await collect(channel);
    await channelClosed;
    const stderr = channel.stderr;
    const closed = new Promise<void>((resolve) => stderr.on('close', () => { resolve(); }));
    const text = await collect(stderr);
    await closed;
    client.end();

    expect({ stdout, text }).toEqual({ stdout: 'only stdout', text: '' });
  });

  it('keeps no ephemeral key, and no slice of the shared buffer pool, for the life of a connection', async () => {
    onExec = (channel) => {
      channel.exit(0);
      channel.end();
    };
    const { channel, client } = await exec('anything');
    await collect(channel);
    const clientSide = (client as unknown as { _protocol: ProtocolInternals })._protocol;
    client.end();

    for (const side of [clientSide, serverSide]) {
      if (side === undefined) throw new Error('no server-side connection');
      const kept = [side._identRaw, side._remoteIdentRaw, side._decipher._tag];
      // Exact-size buffers own their memory: a pooled slice is a small window on a 64 KiB slab.
      expect(kept.map((buffer) => buffer === undefined ? 'missing' : buffer.buffer.byteLength === buffer.length)).toEqual([true, true, true]);
      expect(side._kex._keys).toBeNull();
    }
  });
});

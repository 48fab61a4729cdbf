/**
 * Our ssh2 patch (patches/ssh2@1.17.0.patch) makes a channel's stderr stream
 * only when it is first used. The tunnel never uses it; these tests keep the
 * behaviour ssh2's other users rely on: an exec session's stderr carries
 * data both ways, and a stderr first touched after the channel closed is
 * already ended, as an eager one would be.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AddressInfo } from 'node:net';
import ssh2, { type ClientChannel, type ServerChannel } from 'ssh2';
import { keygen, tempDir, type KeyPair } from './__tests__/helpers.js';

const { Client, Server } = ssh2;

describe('ssh2 as patched: stderr streams made on first use', () => {
  const dir = tempDir();
  let hostKey: KeyPair;
  let server: InstanceType<typeof Server>;
  let port = 0;
  /** What the server side of each exec does with its channel. */
  let onExec: (channel: ServerChannel) => void = () => undefined;

  beforeAll(async () => {
    hostKey = keygen(dir.path, 'host');
    server = new Server({ hostKeys: [hostKey.privateText] }, (conn) => {
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
      client.connect({ host: '127.0.0.1', port, username: 'test', hostVerifier: () => true });
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
});

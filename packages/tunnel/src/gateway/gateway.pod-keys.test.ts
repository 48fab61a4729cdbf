/**
 * Per-pod keys: OpenSSH's `ssh -R` logging in as a pod with the key derived
 * for that pod is let in and bound to it; the same key under any other
 * identity is refused; a shared key's identity stays a claim.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EventEmitter } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keygen, nextEvent, run, sshOptions, stopAllChildren, tempDir, writeKnownHosts, type KeyPair } from '../__tests__/helpers.js';
import { TunnelError } from '../errors.js';
import { derivePodKey, generatePodKeySecret, podUsername, type PodIdentity } from '@interlink-k8s/contract';
import { TunnelGateway } from './gateway.js';
import type { AuthFailure, ForwardInfo } from './types.js';

describe('TunnelGateway with per-pod keys', () => {
  const dir = tempDir();
  const events = new EventEmitter();
  const secret = generatePodKeySecret();
  const web: PodIdentity = { namespace: 'shop', name: 'web', uid: '0b7e2c1a-1111-4000-8000-00000000000a' };
  const api: PodIdentity = { namespace: 'shop', name: 'api', uid: '0b7e2c1a-1111-4000-8000-00000000000b' };
  let gateway: TunnelGateway;
  let port: number;
  let knownHosts: string;
  let shared: KeyPair;

  function keyFile(pod: PodIdentity): string {
    const file = join(dir.path, `${pod.name}-${pod.uid}`);
    writeFileSync(file, derivePodKey(secret, pod).privateKey, { mode: 0o600 });
    return file;
  }

  function sshReverse(key: string, user: string, spec = '8080:127.0.0.1:8080') {
    return run('ssh', [...sshOptions(knownHosts, key), '-N', '-p', String(port), '-R', spec, `${user}@127.0.0.1`]);
  }

  beforeAll(async () => {
    const host = keygen(dir.path, 'host');
    shared = keygen(dir.path, 'shared');
    gateway = TunnelGateway.fromConfig(
      { hostKeys: [host.privateText], authorizedKeys: shared.publicLine, podKeySecret: secret, listenHost: '127.0.0.1', listenPort: 0, forwardHost: '127.0.0.1', portRange: { min: 25400, max: 25499 } },
      {
        onForwardAdded: (forward) => void events.emit('added', forward),
        onAuthFailure: (failure) => void events.emit('authFailure', failure),
      },
    );
    port = (await gateway.listen()).port;
    knownHosts = join(dir.path, 'known_hosts');
    writeKnownHosts(knownHosts, port, host.publicLine);
  });

  afterAll(async () => {
    await stopAllChildren();
    await gateway.close();
    dir.remove();
  });

  it('lets a pod in with its own key and binds its forwards to it (verified)', async () => {
    const added = nextEvent<ForwardInfo>(events, 'added');
    const child = sshReverse(keyFile(web), podUsername(web));

    const forward = await added;
    expect(forward.identity).toEqual({ pod: web, verified: true });
    expect(forward.requestedPort).toBe(8080);
    expect(forward.clientKeyFingerprint).toMatch(/^SHA256:/);
    await child.stop();
  });

  it.each([
    ['another pod', api],
    ['the same pod re-created (another UID)', { ...web, uid: '0b7e2c1a-1111-4000-8000-0000000000ff' }],
  ])('refuses a pod key used in the name of %s', async (_what, claimed) => {
    const failure = nextEvent<AuthFailure>(events, 'authFailure', 10_000, (f) => f.reason === 'unknown-key');
    const child = sshReverse(keyFile(web), podUsername(claimed));

    await expect(failure).resolves.toMatchObject({ username: podUsername(claimed), method: 'publickey' });
    expect(await child.exited).not.toBe(0);
  });

  it('refuses a pod key without a pod in the user name', async () => {
    const failure = nextEvent<AuthFailure>(events, 'authFailure', 10_000, (f) => f.reason === 'unknown-key' && f.username === 'bastion');
    const child = sshReverse(keyFile(web), 'bastion');

    await failure;
    expect(await child.exited).not.toBe(0);
  });

  it('takes a pod named by a shared key as a claim only (not verified)', async () => {
    const added = nextEvent<ForwardInfo>(events, 'added');
    const child = sshReverse(shared.privatePath, podUsername(api), '9090:127.0.0.1:9090');

    expect((await added).identity).toEqual({ pod: api, verified: false });
    await child.stop();
  });

  it('needs authorised keys, a pod-key secret, or both', () => {
    expect(() => TunnelGateway.fromConfig({ hostKeys: [shared.privateText], authorizedKeys: '' })).toThrow(
      new TunnelError('the gateway needs authorised keys, a pod-key secret, or both'),
    );
  });
});

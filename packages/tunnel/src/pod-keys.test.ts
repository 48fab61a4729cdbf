import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { parsePrivateKey, parsePublicKey } from './keys.js';
import { bastionLabels, derivePodKey, formatLabels, generatePodKeySecret, parseLabels, podIdentityOf, podLabels, podUsername } from '@interlink-k8s/contract';
import { tempDir } from './__tests__/helpers.js';

const dir = tempDir();
afterAll(() => { dir.remove(); });

const secret = Buffer.alloc(32, 7);
const web = { namespace: 'shop', name: 'web', uid: '6f1c2b9e-0000-4000-8000-000000000001' };

describe('derivePodKey', () => {
  it('is deterministic: the plugin and the gateway compute the same key', () => {
    expect(derivePodKey(secret, web)).toEqual(derivePodKey(Buffer.from(secret), { ...web }));
  });

  it('gives another key to another pod, another UID (a re-created pod) or another secret', () => {
    const keys = [
      derivePodKey(secret, web),
      derivePodKey(secret, { ...web, name: 'api' }),
      derivePodKey(secret, { ...web, namespace: 'shop2' }),
      derivePodKey(secret, { ...web, uid: '6f1c2b9e-0000-4000-8000-000000000002' }),
      derivePodKey(generatePodKeySecret(), web),
    ];
    expect(new Set(keys.map((key) => key.publicKey.split(' ')[1])).size).toBe(keys.length);
  });

  it('does not let the parts run into each other (namespace "a", name "bc" vs namespace "ab", name "c")', () => {
    const one = derivePodKey(secret, { namespace: 'a', name: 'bc', uid: 'u' });
    const two = derivePodKey(secret, { namespace: 'ab', name: 'c', uid: 'u' });
    expect(one.publicKey.split(' ')[1]).not.toBe(two.publicKey.split(' ')[1]);
  });

  it('writes a private key OpenSSH reads, whose public half is the one announced', () => {
    const key = derivePodKey(secret, web);
    const file = join(dir.path, 'web');
    writeFileSync(file, key.privateKey, { mode: 0o600 });

    const fromOpenSsh = execFileSync('ssh-keygen', ['-y', '-f', file], { encoding: 'utf8' }).trim();

    expect(fromOpenSsh.split(' ').slice(0, 2)).toEqual(key.publicKey.split(' ').slice(0, 2));
    expect(key.publicKey.split(' ')[2]).toBe('shop/web');
  });

  it('gives a key pair that signs and verifies with ssh2', () => {
    const key = derivePodKey(secret, web);
    const data = Buffer.from('session id');
    const signature = parsePrivateKey(key.privateKey).sign(data);

    expect(parsePublicKey(key.publicKey).verify(data, signature)).toBe(true);
    expect(parsePublicKey(key.publicKey).getPublicSSH()).toEqual(key.publicKeyBlob);
  });

  it('refuses a short secret', () => {
    expect(() => derivePodKey(Buffer.alloc(31), web)).toThrow(new RangeError('the pod-key secret must hold at least 32 bytes, got 31'));
  });
});

describe('pod identity in the user name', () => {
  it('round-trips through the SSH user name', () => {
    expect(podIdentityOf(parseLabels(podUsername(web)))).toEqual(web);
    expect(podLabels(web)).toEqual({ namespace: 'shop', pod: 'web', uid: web.uid });
  });

  it('carries the ports that are not tunnelled next to the identity, which stays the same', () => {
    const labels = bastionLabels(web, ['8125/UDP', '53/SCTP']);
    expect(labels).toEqual({ ...podLabels(web), 'ignored-ports': '8125/UDP 53/SCTP' });
    expect(podIdentityOf(parseLabels(formatLabels(labels)))).toEqual(web);
    expect(bastionLabels(web)).toEqual(podLabels(web));
  });

  it('is absent when a part is missing or empty', () => {
    expect(podIdentityOf({ namespace: 'shop', pod: 'web' })).toBeUndefined();
    expect(podIdentityOf({ namespace: 'shop', pod: '', uid: 'u' })).toBeUndefined();
    expect(podIdentityOf({})).toBeUndefined();
  });
});

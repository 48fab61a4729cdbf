import { Buffer } from 'node:buffer';
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { derivePodKey } from '@interlink-k8s/contract';
import { KeyMaterialError, parseHostPublicKeys, parsePodKeySecret, parsePrivateKeyText } from './tunnel-keys.js';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const pair = derivePodKey(Buffer.alloc(32, 1), { namespace: 'ns', name: 'gateway', uid: 'u' });
const other = derivePodKey(Buffer.alloc(32, 2), { namespace: 'ns', name: 'gateway', uid: 'u' });
const [type = '', blob = ''] = pair.publicKey.split(' ');
const rsaPem = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
const encryptedPem = generateKeyPairSync('rsa', { modulusLength: 1024 })
  .privateKey.export({ type: 'pkcs1', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' })
  .toString();

/** An `openssh-key-v1` container whose key is encrypted (only the header matters here). */
function encryptedOpenSsh(): string {
  const str = (s: string) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(Buffer.byteLength(s));
    return Buffer.concat([length, Buffer.from(s)]);
  };
  const body = Buffer.concat([Buffer.from('openssh-key-v1\0'), str('aes256-ctr'), str('bcrypt'), str('salt'), Buffer.alloc(64, 9)]);
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${body.toString('base64')}\n-----END OPENSSH PRIVATE KEY-----\n`;
}

describe('parseHostPublicKeys', () => {
  it.each([
    ['one key line with a comment', pair.publicKey, `${type} ${blob}\n`],
    ['two lines, blanks and # comments skipped', `# gateway\n${pair.publicKey}\n\n${other.publicKey}\n`, `${type} ${blob}\n${other.publicKey.split(' ').slice(0, 2).join(' ')}\n`],
    ['the text base64-encoded', b64(`${pair.publicKey}\n`), `${type} ${blob}\n`],
  ])('accepts %s', (_case, value, expected) => {
    expect(parseHostPublicKeys(value)).toBe(expected);
  });

  it.each([
    ['a private key', pair.privateKey, 'not PEM or private key text'],
    ['a blob of another type', `ssh-rsa ${blob}`, 'line 1: expected a public key in OpenSSH form'],
    ['a truncated blob', `${type} ${blob.slice(0, 40)}`, 'line 1'],
    ['an unknown type', `ssh-foo ${blob}`, 'line 1'],
    ['a known_hosts line', `gateway.example ${pair.publicKey}`, 'expected public keys, one per line'],
    ['nothing but comments', '# none\n', 'expected public keys, one per line'],
  ])('refuses %s', (_case, value, message) => {
    expect(() => parseHostPublicKeys(value)).toThrow(KeyMaterialError);
    expect(() => parseHostPublicKeys(value)).toThrow(message);
  });
});

describe('parsePrivateKeyText', () => {
  it.each([
    ['an OpenSSH key, base64-encoded (the reference’s format)', b64(pair.privateKey), pair.privateKey],
    ['an OpenSSH key as text', pair.privateKey, pair.privateKey],
    ['a PEM RSA key, base64-encoded', b64(rsaPem), rsaPem],
  ])('accepts %s', (_case, value, expected) => {
    expect(parsePrivateKeyText(value)).toBe(expected);
  });

  it.each([
    ['an encrypted OpenSSH key', b64(encryptedOpenSsh()), 'encrypted'],
    ['an encrypted PEM key', b64(encryptedPem), 'encrypted'],
    ['a public key', b64(pair.publicKey), 'expected an OpenSSH or PEM (RSA, EC) private key'],
    ['base64 of anything else', b64('not-a-real-key'), 'expected an OpenSSH or PEM (RSA, EC) private key'],
    ['a broken OpenSSH body', '-----BEGIN OPENSSH PRIVATE KEY-----\nc2VjcmV0\n-----END OPENSSH PRIVATE KEY-----', 'not a readable OpenSSH private key'],
    ['a broken PEM body', '-----BEGIN RSA PRIVATE KEY-----\nc2VjcmV0\n-----END RSA PRIVATE KEY-----', 'not a readable PEM private key'],
  ])('refuses %s without quoting it', (_case, value, message) => {
    let error: unknown;
    try {
      parsePrivateKeyText(value);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(KeyMaterialError);
    expect((error as Error).message).toContain(message);
    expect((error as Error).message).not.toContain('c2VjcmV0');
    expect((error as Error).message).not.toContain(value.slice(0, 20));
  });
});

describe('parsePodKeySecret', () => {
  it('decodes base64 of 32 bytes or more, as the gateway does', () => {
    const secret = Buffer.alloc(48, 0xab);
    expect(parsePodKeySecret(secret.toString('base64'))).toEqual(secret);
    expect(parsePodKeySecret(`${secret.toString('base64')}\n`)).toEqual(secret);
  });

  it.each([
    ['too short', Buffer.alloc(31, 1).toString('base64')],
    ['not base64', `${'x'.repeat(43)}!`],
  ])('refuses a secret %s without quoting it', (_case, value) => {
    expect(() => parsePodKeySecret(value)).toThrow('expected base64 of at least 32 bytes');
    expect(() => parsePodKeySecret(value)).not.toThrow(value);
  });
});

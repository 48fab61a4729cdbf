import { afterAll, describe, expect, it } from '@jest/globals';
import { KeyError } from './errors.js';
import { decodeInlineKey, fingerprintOf, parseAuthorizedKeys, parsePrivateKey, parsePublicKey, parsePublicKeys, publicKeyLine } from './keys.js';
import { keygen, tempDir } from './__tests__/helpers.js';

const dir = tempDir();
const alice = keygen(dir.path, 'alice');
const bob = keygen(dir.path, 'bob');
afterAll(() => { dir.remove(); });

describe('parseAuthorizedKeys', () => {
  it('reads keys, skipping blank lines and comments, with ssh-keygen\'s fingerprints', () => {
    const keys = parseAuthorizedKeys(`# bastions\n\n${alice.publicLine}\r\n   ${bob.publicLine}   \n`);

    expect(keys.map((k) => k.fingerprint)).toEqual([alice.fingerprint, bob.fingerprint]);
    expect(keys.map((k) => k.comment)).toEqual(['alice@test', 'bob@test']);
  });

  it('refuses a line with key options, naming the line', () => {
    expect(() => parseAuthorizedKeys(`${alice.publicLine}\npermitlisten="8080" ${bob.publicLine}`)).toThrow(
      new KeyError('authorized keys line 2: expected a key type (ssh-ed25519, ssh-rsa, ecdsa-sha2-*) first; key options are not supported'),
    );
  });

  it('refuses a malformed key, naming the line', () => {
    expect(() => parseAuthorizedKeys('ssh-ed25519 AAAAnotakey')).toThrow(/authorized keys line 1/);
  });
});

describe('parsePrivateKey / parsePublicKey', () => {
  it('parses an OpenSSH private key whose public half matches the .pub file', () => {
    const key = parsePrivateKey(alice.privateText);

    expect(publicKeyLine(key)).toBe(alice.publicLine.split(' ').slice(0, 2).join(' '));
    expect(fingerprintOf(key)).toBe(alice.fingerprint);
  });

  it('tells a public key from a private one', () => {
    expect(() => parsePrivateKey(alice.publicLine)).toThrow(/expected a private key/);
    expect(() => parsePublicKey(alice.privateText)).toThrow(/expected a public key/);
    expect(parsePublicKey(alice.publicLine).type).toBe('ssh-ed25519');
  });
});

describe('parsePublicKeys', () => {
  it('reads several pinned keys and refuses private key text', () => {
    expect(parsePublicKeys(`# gateway\n${alice.publicLine}\n\n${bob.publicLine}\n`).map((key) => fingerprintOf(key))).toEqual([alice.fingerprint, bob.fingerprint]);
    expect(() => parsePublicKeys(alice.privateText)).toThrow(/expected public keys/);
    expect(() => parsePublicKeys('# none\n')).toThrow(/no key given/);
  });
});

describe('decodeInlineKey', () => {
  it.each([
    ['OpenSSH private key text', alice.privateText, alice.privateText],
    ['a public key line', alice.publicLine, alice.publicLine],
    ['base64 of a private key (the reference plugin\'s format)', Buffer.from(alice.privateText).toString('base64'), alice.privateText],
    ['base64 of public key lines', Buffer.from(`${alice.publicLine}\n${bob.publicLine}\n`).toString('base64'), `${alice.publicLine}\n${bob.publicLine}\n`],
    ['an authorized_keys line with options', `restrict ${alice.publicLine}`, `restrict ${alice.publicLine}`],
    ['a file path', '/etc/keys/host', undefined],
    ['a relative path', 'keys/id_ed25519', undefined],
    ['base64 of something else', Buffer.from('hello').toString('base64'), undefined],
    ['empty', '', undefined],
  ])('%s', (_what, input, expected) => {
    expect(decodeInlineKey(input)).toBe(expected);
  });
});

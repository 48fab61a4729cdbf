import { createHash } from 'node:crypto';
import type { ParsedKey } from 'ssh2';
import { KeyError } from './errors.js';
import { parseKey } from './ssh2-parts.js';

/** One entry of an authorised-keys list. */
export interface AuthorizedKey {
  readonly key: ParsedKey;
  /** OpenSSH-style fingerprint, `SHA256:<base64>`, as `ssh-keygen -l` prints it. */
  readonly fingerprint: string;
  /** The comment after the key on its line (often `user@host`); may be empty. */
  readonly comment: string;
}

/** Key types a line of an `authorized_keys` file may start with. */
const KEY_TYPE = /^(ssh-(rsa|dss|ed25519)|ecdsa-sha2-nistp(256|384|521))$/;

function firstKey(parsed: ParsedKey | ParsedKey[] | Error): ParsedKey | Error {
  // parseKey returns an array for some OpenSSH private-key files; they hold one key.
  if (Array.isArray(parsed)) return parsed[0] ?? new Error('no key found');
  return parsed;
}

/** The OpenSSH fingerprint (`SHA256:<unpadded base64>`) of a key, or of a public key blob. */
export function fingerprintOf(key: ParsedKey | Buffer): string {
  const blob = Buffer.isBuffer(key) ? key : key.getPublicSSH();
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/**
 * Parses one public key in OpenSSH's one-line format (`ssh-ed25519 AAAA... comment`),
 * as found in `known_hosts`-free form or a `.pub` file. Throws {@link KeyError}.
 */
export function parsePublicKey(text: string, what = 'public key'): ParsedKey {
  const parsed = firstKey(parseKey(text.trim()));
  if (parsed instanceof Error) throw new KeyError(`${what}: ${parsed.message}`, { cause: parsed });
  if (parsed.isPrivateKey()) throw new KeyError(`${what}: expected a public key, got a private key`);
  return parsed;
}

/**
 * Parses a list of public keys, one per line (blank lines and `#` comments
 * skipped): the format of `authorized_keys`. A line with options before the
 * key (`from=...`, `permitlisten=...`, `restrict`) is an error rather than
 * silently ignored, because ignoring a restriction would grant more than the
 * file says. Throws {@link KeyError} naming the line.
 */
export function parseAuthorizedKeys(text: string): AuthorizedKey[] {
  const keys: AuthorizedKey[] = [];
  const lines = text.split(/\r?\n/);
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [type = '', data = '', ...rest] = line.split(/\s+/);
    if (!KEY_TYPE.test(type)) {
      throw new KeyError(`authorized keys line ${index + 1}: expected a key type (ssh-ed25519, ssh-rsa, ecdsa-sha2-*) first; key options are not supported`);
    }
    const key = parsePublicKey(`${type} ${data}`, `authorized keys line ${index + 1}`);
    keys.push({ key, fingerprint: fingerprintOf(key), comment: rest.join(' ') });
  }
  return keys;
}

/**
 * Parses public keys given one per line in OpenSSH form (`ssh-ed25519 AAAA...
 * comment`), skipping blank lines and `#` comments: the pinned gateway host
 * keys. Throws {@link KeyError} for anything else, a private key included.
 */
export function parsePublicKeys(text: string, what = 'public key'): ParsedKey[] {
  if (text.includes('-----BEGIN')) throw new KeyError(`${what}: expected public keys, one per line (ssh-ed25519 AAAA...), not PEM or private key text`);
  const keys = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line, i) => parsePublicKey(line, `${what} ${i + 1}`));
  if (keys.length === 0) throw new KeyError(`${what}: no key given`);
  return keys;
}

/** Parses a private key (OpenSSH or PEM); throws {@link KeyError} if it is not one or cannot be decrypted. */
export function parsePrivateKey(text: string | Buffer, passphrase?: string, what = 'private key'): ParsedKey {
  const parsed = firstKey(parseKey(text, passphrase));
  if (parsed instanceof Error) throw new KeyError(`${what}: ${parsed.message}`, { cause: parsed });
  if (!parsed.isPrivateKey()) throw new KeyError(`${what}: expected a private key, got a public key`);
  return parsed;
}

/** The public half of a parsed key in OpenSSH one-line format (`ssh-ed25519 AAAA...`). */
export function publicKeyLine(key: ParsedKey): string {
  return `${key.type} ${key.getPublicSSH().toString('base64')}`;
}

// A PEM armour line, or a public key in OpenSSH one-line form (its base64 blob always starts with AAAA).
const TEXT_MARKER = /-----BEGIN [A-Z ]+-----|(^|\s)(ssh-(rsa|dss|ed25519)|ecdsa-sha2-nistp\d+) AAAA/m;
const BASE64 = /^[A-Za-z0-9+/=\s]+$/;

/**
 * Key material given inline: either the text itself (PEM, OpenSSH private
 * key, or public-key lines) or that text base64-encoded (as the reference
 * plugin's `gateway_ssh_private_key`). Returns the text, or `undefined` when
 * `value` is neither.
 */
export function decodeInlineKey(value: string): string | undefined {
  if (TEXT_MARKER.test(value)) return value;
  const compact = value.trim();
  if (compact === '' || !BASE64.test(compact)) return undefined;
  const decoded = Buffer.from(compact, 'base64').toString('utf8');
  return TEXT_MARKER.test(decoded) ? decoded : undefined;
}

import { Buffer } from 'node:buffer';
import { createPrivateKey } from 'node:crypto';
import { MIN_POD_KEY_SECRET_BYTES } from '@interlink-k8s/contract';

// Checks of the tunnel's key material at start-up, so that a bad key stops
// the plugin instead of every bastion. No SSH library: the plugin only
// passes keys on. Messages never quote the value (it may be a secret).

/** Key material that cannot be used; the message names what is wrong, never the value. */
export class KeyMaterialError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyMaterialError';
  }
}

const BASE64_TEXT = /^[A-Za-z0-9+/=\s]+$/;
const PUBLIC_KEY_TYPES = new Set([
  'ssh-ed25519',
  'ssh-rsa',
  'ssh-dss',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
]);
/** A line that starts like an OpenSSH public key. */
const PUBLIC_KEY_LINE = /^(ssh-[a-z0-9]+|ecdsa-sha2-nistp\d+)\s/m;

/** `text` itself when `isText` says so, else `text` base64-decoded (checked with `isText` again). */
function textOrBase64(text: string, isText: (value: string) => boolean, what: string): string {
  if (isText(text)) return text;
  const compact = text.trim();
  if (compact !== '' && BASE64_TEXT.test(compact)) {
    const decoded = Buffer.from(compact, 'base64').toString('utf8');
    if (isText(decoded)) return decoded;
  }
  throw new KeyMaterialError(`expected ${what}, or that text base64-encoded`);
}

/** Reads an SSH `string` (uint32 length + bytes) at `offset`; undefined past the end. */
function sshString(buffer: Buffer, offset: number): { value: Buffer; next: number } | undefined {
  if (offset + 4 > buffer.length) return undefined;
  const length = buffer.readUInt32BE(offset);
  const next = offset + 4 + length;
  if (next > buffer.length) return undefined;
  return { value: buffer.subarray(offset + 4, next), next };
}

/**
 * The gateway host public key(s) as the bastion reads them: one key per line
 * in OpenSSH form (`ssh-ed25519 AAAA... comment`), normalised to
 * `type base64` lines. Accepts that text or its base64; blank lines and `#`
 * comments are skipped. Each key's blob must name its own type.
 * @throws KeyMaterialError naming the bad line.
 */
export function parseHostPublicKeys(value: string): string {
  if (value.includes('-----BEGIN')) {
    throw new KeyMaterialError('expected public keys (ssh-ed25519 AAAA...), not PEM or private key text');
  }
  const text = textOrBase64(value, (v) => PUBLIC_KEY_LINE.test(v), 'public keys, one per line (ssh-ed25519 AAAA...)');
  const keys: string[] = [];
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [type = '', data = ''] = line.split(/\s+/);
    const blob = Buffer.from(data, 'base64');
    const named = sshString(blob, 0);
    const valid =
      PUBLIC_KEY_TYPES.has(type) &&
      BASE64_TEXT.test(data) &&
      named?.value.toString('latin1') === type &&
      (type !== 'ssh-ed25519' || (sshString(blob, named.next)?.value.length === 32 && blob.length === named.next + 36));
    if (!valid) {
      throw new KeyMaterialError(
        `line ${index + 1}: expected a public key in OpenSSH form (${[...PUBLIC_KEY_TYPES].join(', ')} then its base64 blob)`,
      );
    }
    keys.push(`${type} ${data}`);
  }
  if (keys.length === 0) throw new KeyMaterialError('no public key given');
  return `${keys.join('\n')}\n`;
}

const PRIVATE_KEY_ARMOUR = /-----BEGIN (OPENSSH|RSA|EC|DSA) PRIVATE KEY-----[\s\S]*?-----END \1 PRIVATE KEY-----/;

/**
 * The shared bastion private key: the base64 of an unencrypted OpenSSH
 * (`-----BEGIN OPENSSH PRIVATE KEY-----`) or PEM RSA/EC/DSA key, as the
 * reference plugin took it, or that text itself. Returns the key text.
 * @throws KeyMaterialError for anything else, an encrypted key included.
 */
export function parsePrivateKeyText(value: string): string {
  const text = textOrBase64(value, (v) => PRIVATE_KEY_ARMOUR.test(v), 'an OpenSSH or PEM (RSA, EC) private key');
  const match = PRIVATE_KEY_ARMOUR.exec(text);
  if (match === null) throw new KeyMaterialError('expected an OpenSSH or PEM (RSA, EC) private key');
  const armoured = `${match[0]}\n`;
  if (match[1] === 'OPENSSH') {
    const body = Buffer.from(armoured.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');
    const magic = 'openssh-key-v1\0';
    const cipher = sshString(body, magic.length);
    if (body.subarray(0, magic.length).toString('latin1') !== magic || cipher === undefined) {
      throw new KeyMaterialError('not a readable OpenSSH private key');
    }
    if (cipher.value.toString('latin1') !== 'none') {
      throw new KeyMaterialError('the private key is encrypted; the bastion takes no passphrase: give it unencrypted');
    }
    return armoured;
  }
  if (/Proc-Type:\s*4,ENCRYPTED/.test(armoured)) {
    throw new KeyMaterialError('the private key is encrypted; the bastion takes no passphrase: give it unencrypted');
  }
  try {
    createPrivateKey({ key: armoured, format: 'pem' });
  } catch {
    throw new KeyMaterialError('not a readable PEM private key');
  }
  return armoured;
}

/**
 * The pod-key secret: base64 of at least {@link MIN_POD_KEY_SECRET_BYTES}
 * bytes, decoded as the gateway decodes its `TUNNEL_GATEWAY_POD_KEY_SECRET`
 * (both must hold the same bytes).
 * @throws KeyMaterialError when it is not base64 or too short.
 */
export function parsePodKeySecret(value: string): Buffer {
  const bytes = Buffer.from(value.trim(), 'base64');
  if (!BASE64_TEXT.test(value) || bytes.length < MIN_POD_KEY_SECRET_BYTES) {
    throw new KeyMaterialError(`expected base64 of at least ${MIN_POD_KEY_SECRET_BYTES} bytes (e.g. openssl rand -base64 32)`);
  }
  return bytes;
}

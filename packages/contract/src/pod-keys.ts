import { createHmac, createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { formatLabels, type Labels } from './ssh-user-name.js';

/**
 * Per-pod bastion keys, derived from one secret shared by the plugin and the
 * gateway: the plugin gives each offloaded pod's bastion the key of that
 * pod, and the gateway recomputes the public half from the identity in the
 * SSH user name. A bastion can therefore only speak for its own pod: a key
 * taken from one remote pod opens no other pod's Service, and nobody has to
 * distribute or store keys per pod.
 */

/** The local pod a bastion stands for. */
export interface PodIdentity {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

/** A derived key pair in the formats ssh2 and OpenSSH read. */
export interface PodKey {
  /** `-----BEGIN OPENSSH PRIVATE KEY-----` text, unencrypted. */
  readonly privateKey: string;
  /** `ssh-ed25519 AAAA... <namespace>/<name>` */
  readonly publicKey: string;
  /** The raw SSH public key blob (what a client offers when authenticating). */
  readonly publicKeyBlob: Buffer;
}

/** Shortest pod-key secret accepted, in bytes. */
export const MIN_POD_KEY_SECRET_BYTES = 32;

const DERIVATION_CONTEXT = 'interlink-k8s tunnel pod key v1';
/** DER prefix of a PKCS#8 Ed25519 private key; the 32-byte seed follows. */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** The labels (SSH user name, see {@link formatLabels}) a bastion of `pod` logs in with. */
export function podLabels(pod: PodIdentity): Labels {
  return { namespace: pod.namespace, pod: pod.name, uid: pod.uid };
}

/** The SSH user name a bastion of `pod` logs in with: `namespace=...,pod=...,uid=...`. */
export function podUsername(pod: PodIdentity): string {
  return formatLabels(podLabels(pod));
}

/** Label naming the container ports the tunnel does not carry, space-separated (`8125/UDP 53/UDP`). */
export const IGNORED_PORTS_LABEL = 'ignored-ports';

/**
 * The labels of a bastion of `pod` (its `TUNNEL_BASTION_LABELS`): the pod's
 * identity, plus {@link IGNORED_PORTS_LABEL} when some of its ports are not
 * tunnelled, for the gateway to record a Warning event on the local pod.
 * Only the identity is bound to a derived key.
 */
export function bastionLabels(pod: PodIdentity, ignoredPorts: readonly string[] = []): Labels {
  return { ...podLabels(pod), ...(ignoredPorts.length === 0 ? {} : { [IGNORED_PORTS_LABEL]: ignoredPorts.join(' ') }) };
}

/** The pod named by labels carrying `namespace`, `pod` and `uid` (see {@link podLabels}), or undefined. */
export function podIdentityOf(labels: Labels): PodIdentity | undefined {
  const { namespace, pod, uid } = labels;
  if (namespace === undefined || pod === undefined || uid === undefined) return undefined;
  if (namespace === '' || pod === '' || uid === '') return undefined;
  return { namespace, name: pod, uid };
}

/**
 * The key pair of `pod` under `secret`: an Ed25519 key whose seed is
 * HMAC-SHA256(secret, context ‖ namespace ‖ name ‖ uid), the parts separated
 * by NUL bytes (which names and UIDs cannot hold). The UID makes a re-created
 * pod of the same name get a new key. Deterministic and pure.
 *
 * @throws RangeError when `secret` is shorter than {@link MIN_POD_KEY_SECRET_BYTES}.
 */
export function derivePodKey(secret: Uint8Array, pod: PodIdentity): PodKey {
  if (secret.length < MIN_POD_KEY_SECRET_BYTES) {
    throw new RangeError(`the pod-key secret must hold at least ${MIN_POD_KEY_SECRET_BYTES} bytes, got ${secret.length}`);
  }
  const seed = createHmac('sha256', secret).update([DERIVATION_CONTEXT, pod.namespace, pod.name, pod.uid].join('\0')).digest();
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  if (jwk.x === undefined) throw new Error('node:crypto returned an Ed25519 public key without x');
  const publicKey = Buffer.from(jwk.x, 'base64url');
  const comment = `${pod.namespace}/${pod.name}`;
  const publicKeyBlob = sshString(Buffer.from('ssh-ed25519'), publicKey);
  return {
    privateKey: openSshPrivateKey(seed, publicKey, publicKeyBlob, comment),
    publicKey: `ssh-ed25519 ${publicKeyBlob.toString('base64')} ${comment}`,
    publicKeyBlob,
  };
}

/** Concatenates SSH `string`s (uint32 length + bytes). */
function sshString(...parts: Buffer[]): Buffer {
  return Buffer.concat(
    parts.flatMap((part) => {
      const length = Buffer.alloc(4);
      length.writeUInt32BE(part.length);
      return [length, part];
    }),
  );
}

function uint32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value);
  return buffer;
}

/** The unencrypted `openssh-key-v1` container (OpenSSH's PROTOCOL.key) for one Ed25519 key. */
function openSshPrivateKey(seed: Buffer, publicKey: Buffer, publicKeyBlob: Buffer, comment: string): string {
  // The two check words only detect a wrong passphrase; any equal pair does. Derive them so the text is deterministic.
  const check = seed.subarray(0, 4);
  let section = Buffer.concat([
    check,
    check,
    sshString(Buffer.from('ssh-ed25519'), publicKey, Buffer.concat([seed, publicKey]), Buffer.from(comment)),
  ]);
  const padding = (8 - (section.length % 8)) % 8;
  section = Buffer.concat([section, Buffer.from(Array.from({ length: padding }, (_, i) => i + 1))]);
  const body = Buffer.concat([
    Buffer.from('openssh-key-v1\0'),
    sshString(Buffer.from('none'), Buffer.from('none'), Buffer.alloc(0)),
    uint32(1),
    sshString(publicKeyBlob, section),
  ]);
  const lines = body.toString('base64').match(/.{1,70}/g) ?? [];
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join('\n')}\n-----END OPENSSH PRIVATE KEY-----\n`;
}

/** A fresh random pod-key secret (for tests and `interlink-tunnel-gateway` set-up scripts). */
export function generatePodKeySecret(): Buffer {
  return randomBytes(MIN_POD_KEY_SECRET_BYTES);
}

import { createHash } from 'node:crypto';
import type { TranslateOptions } from './types.js';

/** Longest valid DNS label (RFC 1123): namespaces, pod names, hostnames. */
export const DNS_LABEL_MAX = 63;
/** Longest valid DNS subdomain (RFC 1123): ConfigMap, Secret and PVC names. */
export const DNS_SUBDOMAIN_MAX = 253;
/** Length of the hash suffix that makes shortened or derived names unique (50 bits). */
export const HASH_LENGTH = 10;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** Whether `name` is a valid RFC 1123 DNS label (lower case, at most 63 characters). */
export function isDnsLabel(name: string): boolean {
  return name.length <= DNS_LABEL_MAX && DNS_LABEL.test(name);
}

/** Whether `name` is a valid RFC 1123 DNS subdomain (lower case, at most 253 characters). */
export function isDnsSubdomain(name: string): boolean {
  return name.length <= DNS_SUBDOMAIN_MAX && DNS_SUBDOMAIN.test(name);
}

/**
 * A short, stable, DNS-safe digest of `input`: the first {@link HASH_LENGTH}
 * characters of the lower-case base32 encoding of its SHA-256.
 */
export function stableHash(input: string, length: number = HASH_LENGTH): string {
  const digest = createHash('sha256').update(input, 'utf8').digest();
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of digest) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += BASE32.charAt((buffer >> (bits - 5)) & 31);
      bits -= 5;
    }
    if (out.length >= length) break;
  }
  return out;
}

/**
 * A readable, DNS-label-safe beginning of `text`, at most `max` characters:
 * lower case, every run of other characters turned into one `-`, no `-` at
 * either end. May be empty.
 */
function readableHead(text: string, max: number): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, max)
    .replace(/-+$/, '');
}

/** `<readable head>-<hash>` within `max` characters; the hash alone when nothing readable is left. */
function headWithHash(text: string, hash: string, max: number): string {
  const head = readableHead(text, max - hash.length - 1);
  return head === '' ? hash : `${head}-${hash}`;
}

/**
 * The remote namespace of a local one: `<prefix>-<localNs>`, or `localNs`
 * itself when the prefix is empty or `localNs` is in the exclusions (the
 * reference plugin's rule, so existing remote namespaces keep their names).
 *
 * The result is always a valid DNS label. When the intended name is not one
 * (too long, or a prefix with characters a label cannot hold), it becomes a
 * readable head plus `-` and a hash of the whole intended name, so two
 * different local namespaces never share a remote one.
 */
export function remoteNamespaceName(
  localNs: string,
  opts: Pick<TranslateOptions, 'namespacePrefix' | 'namespacePrefixExclusions'>,
): string {
  const intended =
    opts.namespacePrefix === '' || opts.namespacePrefixExclusions.includes(localNs)
      ? localNs
      : `${opts.namespacePrefix}-${localNs}`;
  if (isDnsLabel(intended)) return intended;
  return headWithHash(intended, stableHash(`namespace\0${intended}`), DNS_LABEL_MAX);
}

/**
 * The name of the remote pod of a local pod: a readable head of the local
 * name, `-`, and a hash of the local pod UID. A valid DNS label (so that the
 * remote hostname, which is the pod name cut at 63, is the whole name),
 * deterministic, and distinct for distinct local pods even when their names
 * are equal (a pod re-created under the same name gets a new UID).
 */
export function remoteObjectName(localName: string, localUid: string): string {
  return headWithHash(localName, stableHash(`pod\0${localUid}`), DNS_LABEL_MAX);
}

/** What a copied data object was copied from; part of its remote name's hash. */
export type DataKind = 'configmap' | 'secret' | 'projected';

/**
 * The name of the per-pod copy of a data object: a readable head of the
 * source name, `-`, and a hash of (kind, source name, local pod UID). A valid
 * DNS subdomain; deterministic; distinct for distinct source objects, for
 * distinct pods, and between kinds (a Secret `x` and a projected volume `x`
 * both become Secrets remotely and must not meet).
 */
export function remoteDataName(kind: DataKind, sourceName: string, localUid: string): string {
  return headWithHash(sourceName, stableHash(`${kind}\0${sourceName}\0${localUid}`), DNS_SUBDOMAIN_MAX);
}

/** The name of the remote copy of a ConfigMap, for one pod. */
export function remoteConfigMapName(sourceName: string, localUid: string): string {
  return remoteDataName('configmap', sourceName, localUid);
}

/** The name of the remote copy of a Secret, for one pod. */
export function remoteSecretName(sourceName: string, localUid: string): string {
  return remoteDataName('secret', sourceName, localUid);
}

/** The name of the remote Secret holding a projected (or downward API) volume's files, for one pod. */
export function remoteProjectedSecretName(volumeName: string, localUid: string): string {
  return remoteDataName('projected', volumeName, localUid);
}

/**
 * The name of the per-pod Secret holding the TCP tunnel bastion's keys: a
 * readable head of `<local pod name>-tunnel`, `-`, and a hash of the local
 * pod UID. A valid DNS subdomain; deterministic; distinct for distinct pods
 * and from every data copy (whose hashes start with their kind, never with
 * `tunnel`), so a user Secret named `web-tunnel` cannot meet it.
 */
export function remoteTunnelSecretName(localName: string, localUid: string): string {
  return headWithHash(`${localName}-tunnel`, stableHash(`tunnel\0${localUid}`), DNS_SUBDOMAIN_MAX);
}

/**
 * The remote name of a PersistentVolumeClaim opted in with
 * `interlink.io/remote-pvc`: the claim name itself. A claim holds data that
 * outlives any one pod and may be shared by several, so it is not scoped to
 * a pod; users pre-provision it under this name.
 */
export function remotePvcName(claimName: string): string {
  return claimName;
}

const KEY_SAFE = /^[-.a-zA-Z0-9]$/;
const SECRET_KEY_MAX = 253;

/**
 * A valid ConfigMap/Secret data key for a file path of a projected volume
 * (`[-._a-zA-Z0-9]+`, at most 253 characters, not `.` or `..`). Injective:
 * letters, digits, `-` and `.` stay; every other character (including `_`
 * and `/`) becomes `_` and two hex digits per UTF-8 byte, so `token` stays
 * `token` and `..data/token` becomes `..data_2ftoken`. An over-long key keeps
 * its first 240 characters and ends in `_h` plus a hash of the full path (a
 * marker that no plain encoding produces).
 */
export function secretKeyForPath(path: string): string {
  if (path === '.' || path === '..') return path.replace(/\./g, '_2e');
  let key = '';
  for (const char of path) {
    if (KEY_SAFE.test(char)) {
      key += char;
    } else {
      for (const byte of Buffer.from(char, 'utf8')) key += `_${byte.toString(16).padStart(2, '0')}`;
    }
  }
  if (key.length <= SECRET_KEY_MAX) return key;
  return `${key.slice(0, SECRET_KEY_MAX - HASH_LENGTH - 3)}_h${stableHash(`path\0${path}`)}`;
}

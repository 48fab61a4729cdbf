import { describe, expect, it } from '@jest/globals';
import {
  isDnsLabel,
  isDnsSubdomain,
  remoteConfigMapName,
  remoteNamespaceName,
  remoteObjectName,
  remoteProjectedSecretName,
  remotePvcName,
  remoteSecretName,
  remoteTunnelSecretName,
  secretKeyForPath,
  stableHash,
} from './names.js';

const UID_A = '8d3b1c2e-5f6a-4b7c-8d9e-0a1b2c3d4e5f';
const UID_B = '8d3b1c2e-5f6a-4b7c-8d9e-0a1b2c3d4e60';
const prefixed = { namespacePrefix: 'offloading', namespacePrefixExclusions: ['kube-system'] };

describe('remoteNamespaceName', () => {
  it.each([
    ['prefixes the local namespace', 'team-a', prefixed, 'offloading-team-a'],
    ['keeps an excluded namespace', 'kube-system', prefixed, 'kube-system'],
    ['keeps every namespace when the prefix is empty', 'team-a', { namespacePrefix: '', namespacePrefixExclusions: [] }, 'team-a'],
  ])('%s', (_rule, localNs, opts, expected) => {
    expect(remoteNamespaceName(localNs, opts)).toBe(expected);
  });

  it('shortens a name over 63 characters to a valid label ending in a hash, keeping a readable head', () => {
    const localNs = `research-${'x'.repeat(54)}`; // 63 characters: valid locally, too long once prefixed
    const name = remoteNamespaceName(localNs, prefixed);
    expect(isDnsLabel(name)).toBe(true);
    expect(name).toHaveLength(63);
    expect(name).toMatch(/^offloading-research-x+-[a-z2-7]{10}$/);
  });

  it('gives two long namespaces that differ only at the end two different names', () => {
    const a = remoteNamespaceName(`${'a'.repeat(60)}-1`, prefixed);
    const b = remoteNamespaceName(`${'a'.repeat(60)}-2`, prefixed);
    expect(a).not.toBe(b);
    expect([a, b].every(isDnsLabel)).toBe(true);
  });

  it('is deterministic', () => {
    const localNs = 'n'.repeat(63);
    expect(remoteNamespaceName(localNs, prefixed)).toBe(remoteNamespaceName(localNs, prefixed));
  });

  it('turns a prefix a label cannot hold into a valid label with a hash instead of passing it on', () => {
    const name = remoteNamespaceName('team-a', { namespacePrefix: 'Off_Loading', namespacePrefixExclusions: [] });
    expect(isDnsLabel(name)).toBe(true);
    expect(name).toMatch(/^off-loading-team-a-[a-z2-7]{10}$/);
  });
});

describe('remoteObjectName', () => {
  it('is the local name and a hash of the UID', () => {
    expect(remoteObjectName('web', UID_A)).toMatch(/^web-[a-z2-7]{10}$/);
  });

  it('does not contain a truncation of the UID but a hash of it', () => {
    expect(remoteObjectName('web', UID_A)).not.toContain(UID_A.slice(0, 8));
  });

  it('is deterministic', () => {
    expect(remoteObjectName('web', UID_A)).toBe(remoteObjectName('web', UID_A));
  });

  it('differs for two pods of the same name (a re-created pod has a new UID)', () => {
    expect(remoteObjectName('web', UID_A)).not.toBe(remoteObjectName('web', UID_B));
  });

  it.each([
    ['a 253-character name', 'p'.repeat(253)],
    ['a name with dots', 'web.v2.example'],
    ['a name of 60 characters', `job-${'z'.repeat(56)}`],
  ])('is a valid DNS label of at most 63 characters for %s (the remote hostname is the whole name)', (_case, name) => {
    const remote = remoteObjectName(name, UID_A);
    expect(isDnsLabel(remote)).toBe(true);
    expect(remote.length).toBeLessThanOrEqual(63);
  });

  it('keeps two long names that share their first 63 characters apart', () => {
    const head = 'w'.repeat(70);
    expect(remoteObjectName(`${head}-a`, UID_A)).not.toBe(remoteObjectName(`${head}-b`, UID_B));
  });
});

describe('copied data object names', () => {
  it.each([
    ['ConfigMap', remoteConfigMapName],
    ['Secret', remoteSecretName],
    ['projected volume', remoteProjectedSecretName],
  ])('a %s copy has a valid DNS subdomain name of at most 253 characters', (_kind, name) => {
    for (const source of ['app-config', 'nginx.conf', 'c'.repeat(253)]) {
      const remote = name(source, UID_A);
      expect(isDnsSubdomain(remote)).toBe(true);
      expect(remote.length).toBeLessThanOrEqual(253);
    }
  });

  it('keeps the source name readable', () => {
    expect(remoteConfigMapName('app-config', UID_A)).toMatch(/^app-config-[a-z2-7]{10}$/);
  });

  it('never gives a ConfigMap copy, a Secret copy and a projected-volume Secret the same name', () => {
    const names = new Set([
      remoteConfigMapName('shared', UID_A),
      remoteSecretName('shared', UID_A),
      remoteProjectedSecretName('shared', UID_A),
    ]);
    expect(names.size).toBe(3);
  });

  it('differs between source objects and between pods, and is deterministic', () => {
    expect(remoteSecretName('a', UID_A)).not.toBe(remoteSecretName('b', UID_A));
    expect(remoteSecretName('a', UID_A)).not.toBe(remoteSecretName('a', UID_B));
    expect(remoteSecretName('a', UID_A)).toBe(remoteSecretName('a', UID_A));
  });

  it('names a remote claim like the local one, so a pre-provisioned claim is found', () => {
    expect(remotePvcName('data-web-0')).toBe('data-web-0');
  });
});

describe('remoteTunnelSecretName', () => {
  it('is a readable, valid, stable name per pod UID', () => {
    const name = remoteTunnelSecretName('web', UID_A);
    expect(name).toMatch(/^web-tunnel-[a-z2-7]{10}$/);
    expect(remoteTunnelSecretName('web', UID_A)).toBe(name);
    expect(remoteTunnelSecretName('web', UID_B)).not.toBe(name);
  });

  it('never meets the copy of a user Secret or projected volume called <pod>-tunnel', () => {
    const name = remoteTunnelSecretName('web', UID_A);
    expect(remoteSecretName('web-tunnel', UID_A)).not.toBe(name);
    expect(remoteProjectedSecretName('web-tunnel', UID_A)).not.toBe(name);
  });

  it('stays a valid subdomain for the longest pod name', () => {
    const name = remoteTunnelSecretName(`a${'.b'.repeat(126)}`, UID_A);
    expect(isDnsSubdomain(name)).toBe(true);
  });
});

describe('secretKeyForPath', () => {
  it.each([
    ['token', 'token'],
    ['ca.crt', 'ca.crt'],
    ['..data/token', '..data_2ftoken'],
    ['config/app.yaml', 'config_2fapp.yaml'],
    ['a_b', 'a_5fb'],
    ['café', 'caf_c3_a9'],
    ['.', '_2e'],
    ['..', '_2e_2e'],
  ])('encodes %j as the valid key %j', (path, key) => {
    expect(secretKeyForPath(path)).toBe(key);
  });

  it('never maps two paths to one key', () => {
    const paths = ['a/b', 'a_2fb', 'a_b', 'a.b', 'a-b', '_2e', '.', 'a//b', 'a/_b'];
    expect(new Set(paths.map(secretKeyForPath)).size).toBe(paths.length);
  });

  it('keeps over-long keys within 253 characters and apart', () => {
    const a = secretKeyForPath(`${'d/'.repeat(100)}a`);
    const b = secretKeyForPath(`${'d/'.repeat(100)}b`);
    expect(a.length).toBeLessThanOrEqual(253);
    expect(a).toMatch(/^[-._a-zA-Z0-9]+$/);
    expect(a).not.toBe(b);
  });
});

describe('stableHash', () => {
  it('is 10 lower-case base32 characters, stable across calls', () => {
    expect(stableHash('x')).toMatch(/^[a-z2-7]{10}$/);
    expect(stableHash('x')).toBe(stableHash('x'));
    expect(stableHash('x')).not.toBe(stableHash('y'));
  });
});

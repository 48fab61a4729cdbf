import { describe, expect, it } from '@jest/globals';
import { OPTIONS, TOKEN_MAP, TOKEN_VOLUME, UID, createRequest, localPod } from './__tests__/fixtures.js';
import { copyDataObjects, rewriteEnvReferences, rewriteVolumes } from './data.js';
import { translatePod } from './pod.js';
import type { DataCopies } from './data.js';
import { remoteConfigMapName, remoteProjectedSecretName, remoteSecretName } from './names.js';

const TARGET = { namespace: 'offloading-team-a', localNamespace: 'team-a', localUid: UID };

const appConfig = {
  metadata: { name: 'app-config', namespace: 'team-a', uid: 'cm-uid', labels: { app: 'web' } },
  data: { 'app.yaml': 'mode: prod\n' },
  binaryData: { 'logo.png': 'iVBORw0KGgo=' },
  immutable: true,
};
const tls = {
  metadata: { name: 'tls', namespace: 'team-a', uid: 'secret-uid' },
  data: { 'tls.key': 'AAECAwQF/w==', 'tls.crt': 'LS0tLS1CRUdJTg==' },
  type: 'kubernetes.io/tls',
};

function copiesOf(container: Record<string, unknown>[]): DataCopies {
  return copyDataObjects(createRequest({}, container), TARGET);
}

describe('copyDataObjects', () => {
  it('copies a ConfigMap mounted by two containers once (the reference failed the create with 409)', () => {
    const copies = copiesOf([
      { name: 'init', configMaps: [appConfig] },
      { name: 'app', configMaps: [appConfig] },
      { name: 'sidecar', configMaps: [appConfig] },
    ]);
    expect(copies.configMaps).toHaveLength(1);
  });

  it('keeps ConfigMap data, binaryData and immutable byte for byte', () => {
    const [copy] = copiesOf([{ name: 'app', configMaps: [appConfig] }]).configMaps;
    expect(copy).toMatchObject({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      data: appConfig.data,
      binaryData: appConfig.binaryData,
      immutable: true,
    });
  });

  it('keeps Secret data (base64 untouched) and type', () => {
    const [copy] = copiesOf([{ name: 'app', secrets: [tls] }]).secrets;
    expect(copy).toMatchObject({ apiVersion: 'v1', kind: 'Secret', data: tls.data, type: 'kubernetes.io/tls' });
  });

  it('turns a service-account-token Secret into an Opaque one, so no remote controller empties it', () => {
    const legacy = { metadata: { name: 'builder-token' }, data: { token: 'dG9r' }, type: 'kubernetes.io/service-account-token' };
    const [copy] = copiesOf([{ name: 'app', secrets: [legacy] }]).secrets;
    expect(copy).toMatchObject({ type: 'Opaque', data: { token: 'dG9r' } });
  });

  it('names the copies per pod, in the remote namespace, with the managed labels and the source annotations', () => {
    const copies = copiesOf([{ name: 'app', configMaps: [appConfig] }]);
    expect(copies.configMaps[0]?.metadata).toEqual({
      name: remoteConfigMapName('app-config', UID),
      namespace: 'offloading-team-a',
      labels: {
        app: 'web',
        'interlink.io': 'offloading',
        'interlink.io/source.pod_uid': UID,
        'app.kubernetes.io/managed-by': 'interlink-k8s',
      },
      annotations: {
        'interlink.io/source.uid': 'cm-uid',
        'interlink.io/source.name': 'app-config',
        'interlink.io/source.namespace': 'team-a',
      },
    });
    expect(copies.configMaps[0]?.metadata).not.toHaveProperty('ownerReferences');
  });

  it('turns a projected-volume map into a Secret (it holds a token) with valid keys and base64 values', () => {
    const map = { metadata: { name: 'creds' }, data: { token: 'abc', 'nested/dir/file': 'x' } };
    const copies = copiesOf([{ name: 'app', projectedvolumemaps: [map] }]);
    expect(copies.configMaps).toEqual([]);
    expect(copies.secrets[0]).toMatchObject({
      kind: 'Secret',
      type: 'Opaque',
      metadata: { name: remoteProjectedSecretName('creds', UID) },
      data: { token: 'YWJj', nested_2fdir_2ffile: 'eA==' },
    });
    expect(copies.projected.get('creds')?.items).toEqual([
      { key: 'nested_2fdir_2ffile', path: 'nested/dir/file' },
      { key: 'token', path: 'token' },
    ]);
  });

  it('copies a projected map sent for several containers once', () => {
    const copies = copiesOf([
      { name: 'init', projectedvolumemaps: [TOKEN_MAP] },
      { name: 'app', projectedvolumemaps: [TOKEN_MAP] },
    ]);
    expect(copies.secrets).toHaveLength(1);
  });
});

describe('rewriteVolumes', () => {
  const copies = copiesOf([
    { name: 'app', configMaps: [appConfig], secrets: [tls], projectedvolumemaps: [TOKEN_MAP] },
  ]);

  it.each([
    [
      'a configMap volume points at the copy',
      { name: 'cfg', configMap: { name: 'app-config', defaultMode: 0o644 } },
      { name: 'cfg', configMap: { name: remoteConfigMapName('app-config', UID), defaultMode: 0o644 } },
    ],
    [
      'a secret volume points at the copy',
      { name: 'certs', secret: { secretName: 'tls', items: [{ key: 'tls.key', path: 'key.pem' }] } },
      { name: 'certs', secret: { secretName: remoteSecretName('tls', UID), items: [{ key: 'tls.key', path: 'key.pem' }] } },
    ],
    [
      'an optional configMap volume InterLink did not send keeps its name',
      { name: 'extra', configMap: { name: 'maybe', optional: true } },
      { name: 'extra', configMap: { name: 'maybe', optional: true } },
    ],
    [
      'an emptyDir volume is kept as it is',
      { name: 'scratch', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
      { name: 'scratch', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
    ],
    [
      'a generic ephemeral volume is kept (the remote cluster creates its claim)',
      { name: 'tmp', ephemeral: { volumeClaimTemplate: { spec: { accessModes: ['ReadWriteOnce'] } } } },
      { name: 'tmp', ephemeral: { volumeClaimTemplate: { spec: { accessModes: ['ReadWriteOnce'] } } } },
    ],
  ])('%s', (_rule, volume, expected) => {
    expect(rewriteVolumes([volume], copies, new Set())).toEqual([expected]);
  });

  it('mounts the copy of the service-account token volume in its place, restoring paths and modes (the reference dropped it)', () => {
    const [volume] = rewriteVolumes([TOKEN_VOLUME], copies, new Set());
    expect(volume).toEqual({
      name: 'kube-api-access-x7k2p',
      secret: {
        secretName: remoteProjectedSecretName('kube-api-access-x7k2p', UID),
        defaultMode: 420,
        items: [
          { key: 'ca.crt', path: 'ca.crt' },
          { key: 'namespace', path: 'namespace' },
          { key: 'token', path: 'token' },
        ],
      },
    });
  });

  it('keeps per-item modes of a projected or downward API volume', () => {
    const map = { metadata: { name: 'info' }, data: { 'meta/labels': 'app="web"' } };
    const withMap = copiesOf([{ name: 'app', projectedvolumemaps: [map] }]);
    const [volume] = rewriteVolumes(
      [{ name: 'info', downwardAPI: { items: [{ path: 'meta/labels', mode: 0o400, fieldRef: { fieldPath: 'metadata.labels' } }] } }],
      withMap,
      new Set(),
    );
    expect(volume?.secret?.items).toEqual([{ key: 'meta_2flabels', path: 'meta/labels', mode: 0o400 }]);
    expect(volume).not.toHaveProperty('downwardAPI');
  });

  it('keeps a projected volume whose map InterLink did not send, for the remote cluster to fill', () => {
    const other = { ...TOKEN_VOLUME, name: 'kube-api-access-other' };
    expect(rewriteVolumes([other], copies, new Set())).toEqual([other]);
  });

  it.each([
    ['configMap', { name: 'cfg', configMap: { name: 'never-sent' } }, 'pod.spec.volumes[0].configMap.name', /ConfigMap "never-sent"/],
    ['secret', { name: 'sec', secret: { secretName: 'never-sent' } }, 'pod.spec.volumes[0].secret.secretName', /Secret "never-sent"/],
  ])('rejects a %s volume InterLink did not send, naming the field', (_kind, volume, field, message) => {
    expect(() => rewriteVolumes([volume], copies, new Set())).toThrow(expect.objectContaining({ name: 'InputError', field }));
    expect(() => rewriteVolumes([volume], copies, new Set())).toThrow(message);
  });

  it('keeps a claim opted in with interlink.io/remote-pvc, pointing at the remote claim of the same name', () => {
    const volume = { name: 'data', persistentVolumeClaim: { claimName: 'results', readOnly: false } };
    expect(rewriteVolumes([volume], copies, new Set(['results']))).toEqual([volume]);
  });

  it('rejects a claim not opted in, naming the volume and the annotation (the remote pod could never start)', () => {
    const volume = { name: 'data', persistentVolumeClaim: { claimName: 'results' } };
    const attempt = () => rewriteVolumes([{ name: 'scratch', emptyDir: {} }, volume], copies, new Set(['other']));
    expect(attempt).toThrow(
      expect.objectContaining({ name: 'InputError', field: 'pod.spec.volumes[1].persistentVolumeClaim.claimName' }),
    );
    expect(attempt).toThrow(/volume "data".*"results".*interlink\.io\/remote-pvc/);
  });
});

describe('rewriteEnvReferences', () => {
  const copies = copiesOf([{ name: 'app', configMaps: [appConfig], secrets: [tls] }]);

  it('points valueFrom and envFrom references at the copies', () => {
    const container = rewriteEnvReferences(
      {
        name: 'app',
        env: [
          { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'app-config', key: 'mode' } } },
          { name: 'KEY', valueFrom: { secretKeyRef: { name: 'tls', key: 'tls.key' } } },
          { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'PLAIN', value: 'x' },
        ],
        envFrom: [{ configMapRef: { name: 'app-config' } }, { prefix: 'TLS_', secretRef: { name: 'tls' } }],
      },
      copies,
    );
    expect(container.env).toEqual([
      { name: 'MODE', valueFrom: { configMapKeyRef: { name: remoteConfigMapName('app-config', UID), key: 'mode' } } },
      { name: 'KEY', valueFrom: { secretKeyRef: { name: remoteSecretName('tls', UID), key: 'tls.key' } } },
      { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'PLAIN', value: 'x' },
    ]);
    expect(container.envFrom).toEqual([
      { configMapRef: { name: remoteConfigMapName('app-config', UID) } },
      { prefix: 'TLS_', secretRef: { name: remoteSecretName('tls', UID) } },
    ]);
  });

  it.each([
    ['an optional reference', { name: 'A', valueFrom: { secretKeyRef: { name: 'elsewhere', key: 'k', optional: true } } }],
    ['a required reference (the VK did not resolve it: dropping it would lose configuration)', { name: 'B', valueFrom: { configMapKeyRef: { name: 'elsewhere', key: 'k' } } }],
  ])('keeps %s to an object InterLink did not send, by name', (_case, variable) => {
    expect(rewriteEnvReferences({ name: 'app', env: [variable] }, copies).env).toEqual([variable]);
  });
});

describe('image pull secrets', () => {
  it('keep their names (they must exist remotely) unless InterLink sent the Secret, then use the copy', () => {
    const copies = copiesOf([{ name: 'app', secrets: [tls] }]);
    const pod = translatePod(localPod({ imagePullSecrets: [{ name: 'registry' }, { name: 'tls' }] }), {
      namespace: TARGET.namespace,
      options: OPTIONS,
      copies,
    });
    expect(pod.spec?.imagePullSecrets).toEqual([{ name: 'registry' }, { name: remoteSecretName('tls', UID) }]);
  });
});

import { Buffer } from 'node:buffer';
import { describe, expect, it } from '@jest/globals';
import { derivePodKey } from '@interlink-k8s/contract';
import { OPTIONS, TOKEN_MAP, TOKEN_VOLUME, UID, createRequest } from './__tests__/fixtures.js';
import { isDnsLabel, isDnsSubdomain, remoteTunnelSecretName } from './names.js';
import type { TunnelOptions } from './types.js';
import { planRemoteObjects } from './planner.js';
import { BASTION_CONTAINER_NAME, TUNNEL_SECRET_PRIVATE_KEY } from './tunnel.js';

const appConfig = { metadata: { name: 'app-config', namespace: 'team-a', uid: 'cm-uid' }, data: { 'app.yaml': 'a: 1' } };
const tls = { metadata: { name: 'tls', namespace: 'team-a', uid: 's-uid' }, data: { 'tls.key': 'AAEC' }, type: 'kubernetes.io/tls' };

/** A create body as InterLink sends it: one entry per (init) container, each with what it mounts. */
const request = createRequest(
  {
    serviceAccountName: 'builder',
    volumes: [
      TOKEN_VOLUME,
      { name: 'cfg', configMap: { name: 'app-config' } },
      { name: 'certs', secret: { secretName: 'tls' } },
      { name: 'results', persistentVolumeClaim: { claimName: 'results' } },
    ],
    initContainers: [
      {
        name: 'migrate',
        image: 'migrate:1',
        volumeMounts: [
          { name: 'cfg', mountPath: '/etc/app' },
          { name: TOKEN_VOLUME.name, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true },
        ],
      },
    ],
    containers: [
      {
        name: 'app',
        image: 'app:2',
        volumeMounts: [
          { name: 'cfg', mountPath: '/etc/app' },
          { name: 'certs', mountPath: '/etc/tls' },
          { name: 'results', mountPath: '/results' },
          { name: TOKEN_VOLUME.name, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true },
        ],
      },
    ],
  },
  [
    { name: 'migrate', configMaps: [appConfig], projectedvolumemaps: [TOKEN_MAP], secrets: null, emptyDirs: null },
    { name: 'app', configMaps: [appConfig], projectedvolumemaps: [TOKEN_MAP], secrets: [tls], emptyDirs: null },
  ],
  { annotations: { 'interlink.io/remote-pvc': 'results' } },
);

describe('planRemoteObjects', () => {
  const plan = planRemoteObjects(request, OPTIONS);

  it('plans the prefixed namespace, labelled as managed', () => {
    expect(plan.namespace).toBe('offloading-team-a');
    expect(plan.namespaceManifest).toEqual({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: 'offloading-team-a',
        labels: { 'interlink.io': 'offloading', 'app.kubernetes.io/managed-by': 'interlink-k8s' },
        annotations: { 'interlink.io/source.namespace': 'team-a' },
      },
    });
  });

  it('copies each data object once, the projected token volume as a Secret', () => {
    expect(plan.configMaps).toHaveLength(1);
    expect(plan.secrets).toHaveLength(2);
  });

  it('labels every per-pod object with the local pod UID and puts it in the remote namespace', () => {
    for (const object of [plan.pod, ...plan.configMaps, ...plan.secrets]) {
      expect(object.metadata?.labels?.['interlink.io/source.pod_uid']).toBe(UID);
      expect(object.metadata?.namespace).toBe('offloading-team-a');
    }
  });

  it('gives every object a valid name', () => {
    expect(isDnsLabel(plan.pod.metadata?.name ?? '')).toBe(true);
    for (const object of [...plan.configMaps, ...plan.secrets]) expect(isDnsSubdomain(object.metadata?.name ?? '')).toBe(true);
  });

  it('mounts exactly the planned copies', () => {
    const volumes = plan.pod.spec?.volumes ?? [];
    const mountedConfigMaps = volumes.flatMap((v) => (v.configMap?.name ? [v.configMap.name] : []));
    const mountedSecrets = volumes.flatMap((v) => (v.secret?.secretName ? [v.secret.secretName] : []));
    expect(mountedConfigMaps).toEqual(plan.configMaps.map((c) => c.metadata?.name));
    expect(mountedSecrets.sort()).toEqual(plan.secrets.map((s) => s.metadata?.name).sort());
  });

  it('keeps the token mount where the local one was, so the workload finds the local token', () => {
    const mounts = plan.pod.spec?.containers[0]?.volumeMounts ?? [];
    expect(mounts).toContainEqual({
      name: TOKEN_VOLUME.name,
      mountPath: '/var/run/secrets/kubernetes.io/serviceaccount',
      readOnly: true,
    });
    expect(plan.pod.spec?.automountServiceAccountToken).toBe(false);
  });

  it('keeps the serviceAccountName for the reconciler to check', () => {
    expect(plan.pod.spec?.serviceAccountName).toBe('builder');
  });

  it('lists the opted-in claims the pod needs, without a manifest when InterLink sent no definition', () => {
    expect(plan.persistentVolumeClaimNames).toEqual(['results']);
    expect(plan.persistentVolumeClaims).toEqual([]);
  });

  it('is the same plan for the same request (create twice = one set of objects)', () => {
    expect(planRemoteObjects(request, OPTIONS)).toEqual(plan);
  });

  it('keeps the remote namespace a valid label for a long local namespace', () => {
    const long = createRequest({}, [], { namespace: `project-${'n'.repeat(55)}` });
    const result = planRemoteObjects(long, OPTIONS);
    expect(isDnsLabel(result.namespace)).toBe(true);
    expect(result.pod.metadata?.namespace).toBe(result.namespace);
  });

  it('rejects a pod UID that cannot be a label value, naming the field', () => {
    const bad = createRequest({}, [], { uid: 'not a uid!' });
    expect(() => planRemoteObjects(bad, OPTIONS)).toThrow(
      expect.objectContaining({ name: 'InputError', field: 'pod.metadata.uid' }),
    );
  });

  it('rejects a volume whose ConfigMap InterLink did not send', () => {
    const bad = createRequest({ volumes: [{ name: 'cfg', configMap: { name: 'app-config' } }] }, []);
    expect(() => planRemoteObjects(bad, OPTIONS)).toThrow(
      expect.objectContaining({ name: 'InputError', field: 'pod.spec.volumes[0].configMap.name' }),
    );
  });
});

describe('planRemoteObjects with claim definitions (newer InterLink)', () => {
  const withClaim = createRequest(
    { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'results' } }] },
    [
      {
        name: 'app',
        persistentVolumeClaims: [
          {
            metadata: {
              name: 'results',
              uid: 'pvc-uid',
              labels: { team: 'a' },
              annotations: {
                'interlink.io/pvc-retention-policy': 'delete',
                'pv.kubernetes.io/bind-completed': 'yes',
                'volume.kubernetes.io/selected-node': 'interlink-node',
              },
            },
            spec: {
              accessModes: ['ReadWriteOnce'],
              resources: { requests: { storage: '10Gi' } },
              storageClassName: 'standard',
              volumeMode: 'Filesystem',
              volumeName: 'pvc-0a1b2c',
            },
            status: { phase: 'Bound' },
          },
        ],
      },
    ],
    { annotations: { 'interlink.io/remote-pvc': 'results' } },
  );

  it('plans the claim under its own name, without what ties it to local objects', () => {
    const [claim] = planRemoteObjects(withClaim, OPTIONS).persistentVolumeClaims;
    expect(claim).toEqual({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {
        name: 'results',
        namespace: 'offloading-team-a',
        labels: { team: 'a', 'interlink.io': 'offloading', 'app.kubernetes.io/managed-by': 'interlink-k8s' },
        annotations: {
          'interlink.io/pvc-retention-policy': 'delete',
          'interlink.io/source.uid': 'pvc-uid',
          'interlink.io/source.name': 'results',
          'interlink.io/source.namespace': 'team-a',
        },
      },
      spec: {
        accessModes: ['ReadWriteOnce'],
        resources: { requests: { storage: '10Gi' } },
        storageClassName: 'standard',
        volumeMode: 'Filesystem',
      },
    });
  });

  it('does not plan a claim that is sent but not opted in', () => {
    const notOptedIn = createRequest({}, withClaim.container.map((c) => ({ ...c })));
    expect(planRemoteObjects(notOptedIn, OPTIONS).persistentVolumeClaims).toEqual([]);
  });
});

describe('planRemoteObjects with the TCP tunnel', () => {
  const secret = Buffer.alloc(32, 3);
  const tunnel: TunnelOptions = {
    gatewayHost: 'gateway.example',
    gatewayPort: 2222,
    gatewayHostKeys: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostHostHostHostHostHostHostHostHostHostHost\n',
    bastionKey: { kind: 'per-pod', secret },
    image: 'ghcr.io/interlink-k8s/tcp-tunnel:0.1.0',
  };
  const options = { ...OPTIONS, tunnel };
  const served = createRequest({
    initContainers: [{ name: 'migrate', image: 'migrate:1' }],
    containers: [{ name: 'app', image: 'app:2', ports: [{ containerPort: 8080 }, { containerPort: 8125, protocol: 'UDP' }] }],
  });

  it('appends the bastion sidecar after the pod’s own init containers and plans its Secret with the copies', () => {
    const plan = planRemoteObjects(served, options);
    expect(plan.pod.spec?.initContainers?.map((c) => c.name)).toEqual(['migrate', BASTION_CONTAINER_NAME]);
    const secretName = remoteTunnelSecretName('web', UID);
    const tunnelSecret = plan.secrets.find((s) => s.metadata?.name === secretName);
    expect(tunnelSecret?.metadata?.labels?.['interlink.io/source.pod_uid']).toBe(UID);
    expect(Buffer.from(tunnelSecret?.data?.[TUNNEL_SECRET_PRIVATE_KEY] ?? '', 'base64').toString('utf8')).toBe(
      derivePodKey(secret, { namespace: 'team-a', name: 'web', uid: UID }).privateKey,
    );
  });

  it('reports the UDP port as a warning and in the remote pod’s annotations, keeping the local annotations', () => {
    const plan = planRemoteObjects(served, options);
    expect(plan.warnings).toEqual(['pod team-a/web: port 8125/UDP of container "app" is not tunnelled (the TCP tunnel carries TCP only)']);
    expect(plan.pod.metadata?.annotations).toMatchObject({
      'example.com/owner': 'team-a',
      'interlink.io/tcp-tunnel-ignored-ports': '8125/UDP',
    });
  });

  it('is the same plan for the same request', () => {
    expect(planRemoteObjects(served, options)).toEqual(planRemoteObjects(served, options));
  });

  it('adds nothing without tunnel settings, nor for a pod that opted out', () => {
    const without = planRemoteObjects(served, OPTIONS);
    const optedOut = planRemoteObjects(
      createRequest(served.pod.spec, [], { annotations: { 'interlink.io/tcp-tunnel': 'false' } }),
      options,
    );
    for (const plan of [without, optedOut]) {
      expect(plan.pod.spec?.initContainers?.map((c) => c.name)).toEqual(['migrate']);
      expect(plan.secrets).toEqual([]);
      expect(plan.warnings).toEqual([]);
      expect(plan.pod.metadata?.annotations).not.toHaveProperty('interlink.io/tcp-tunnel-ignored-ports');
    }
  });

  it('rejects a pod with a container named like the sidecar, naming the field', () => {
    const clash = createRequest({ containers: [{ name: BASTION_CONTAINER_NAME, image: 'x', ports: [{ containerPort: 80 }] }] });
    expect(() => planRemoteObjects(clash, options)).toThrow(
      expect.objectContaining({ name: 'InputError', field: 'pod.spec.containers[0].name' }),
    );
    expect(() => planRemoteObjects(clash, OPTIONS)).not.toThrow();
  });
});

import { Buffer } from 'node:buffer';
import { describe, expect, it } from '@jest/globals';
import type { V1PodSpec } from '@kubernetes/client-node';
import { InputError } from '@interlink-k8s/protocol';
import { derivePodKey, podUsername } from '@interlink-k8s/contract';
import { UID, localPod } from './__tests__/fixtures.js';
import { TCP_TUNNEL_IGNORED_PORTS_ANNOTATION, podObjectLabels } from './labels.js';
import { isDnsSubdomain, remoteTunnelSecretName } from './names.js';
import type { Manifest, TunnelOptions } from './types.js';
import {
  BASTION_CONTAINER_NAME,
  TUNNEL_SECRET_HOST_KEY,
  TUNNEL_SECRET_PRIVATE_KEY,
  isGuaranteed,
  planTunnel,
  servedPorts,
  tunnelOptedOut,
} from './tunnel.js';

const SECRET = Buffer.alloc(32, 7);
const HOST_KEYS = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeFakeFakeFakeFakeFakeFakeFakeFakeFakeFake\n';
const SHARED_KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nc2hhcmVk\n-----END OPENSSH PRIVATE KEY-----\n';

const perPod: TunnelOptions = {
  gatewayHost: 'gateway.local.example',
  gatewayPort: 30222,
  gatewayHostKeys: HOST_KEYS,
  bastionKey: { kind: 'per-pod', secret: SECRET },
  image: 'ghcr.io/interlink-k8s/tcp-tunnel:0.1.0',
};
const shared: TunnelOptions = { ...perPod, bastionKey: { kind: 'shared', privateKey: SHARED_KEY }, ciphers: 'aes128-gcm@openssh.com' };

const specOf = (spec: Record<string, unknown>): Manifest<V1PodSpec> => localPod(spec).spec as Manifest<V1PodSpec>;
const env = (plan: ReturnType<typeof planTunnel>): Record<string, unknown> =>
  Object.fromEntries((plan.sidecar?.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom]));
const decode = (base64: string | undefined): string => Buffer.from(base64 ?? '', 'base64').toString('utf8');

function plan(spec: Record<string, unknown>, options: TunnelOptions = perPod, annotations?: Record<string, string>) {
  const pod = localPod(spec, annotations === undefined ? {} : { annotations });
  return planTunnel(pod, pod.spec as Manifest<V1PodSpec>, { namespace: 'offloading-team-a', options });
}

const web = { containers: [{ name: 'app', image: 'app:1', ports: [{ containerPort: 8080 }] }] };

describe('servedPorts', () => {
  it.each([
    ['a port without protocol is TCP', [{ name: 'a', ports: [{ containerPort: 80 }] }], [], [80], []],
    ['TCP ports sorted, each once across containers', [
      { name: 'a', ports: [{ containerPort: 9090, protocol: 'TCP' }, { containerPort: 80 }] },
      { name: 'b', ports: [{ containerPort: 80, protocol: 'TCP' }] },
    ], [], [80, 9090], []],
    ['UDP and SCTP are ignored, each once, TCP of the same number kept', [
      { name: 'dns', ports: [{ containerPort: 53, protocol: 'UDP' }, { containerPort: 53 }, { containerPort: 5060, protocol: 'SCTP' }] },
      { name: 'dns2', ports: [{ containerPort: 53, protocol: 'UDP' }] },
    ], [], [53], ['53/UDP', '5060/SCTP']],
    ['native sidecars count', [{ name: 'a' }], [{ name: 'proxy', restartPolicy: 'Always', ports: [{ containerPort: 15001 }] }], [15001], []],
    ['plain init containers do not (they end before anyone connects)', [{ name: 'a' }], [{ name: 'migrate', ports: [{ containerPort: 5432 }] }], [], []],
  ])('%s', (_case, containers, initContainers, tcp, ignored) => {
    const spec = specOf({
      containers: containers.map((c) => ({ image: 'x', ...c })),
      initContainers: initContainers.map((c) => ({ image: 'x', ...c })),
    });
    const ports = servedPorts(spec);
    expect(ports.tcp).toEqual(tcp);
    expect(ports.ignored.map((p) => `${p.port}/${p.protocol}`)).toEqual(ignored);
  });
});

describe('tunnelOptedOut', () => {
  it.each([
    [{ 'interlink.io/tcp-tunnel': 'false' }, true],
    [{ 'interlink.io/tcp-tunnel': ' FALSE ' }, true],
    [{ 'interlink.io/tcp-tunnel': 'true' }, false],
    [{ 'interlink.io/tcp-tunnel': 'no' }, false],
    [{}, false],
    [undefined, false],
  ])('%j → %s', (annotations, expected) => {
    expect(tunnelOptedOut(annotations)).toBe(expected);
  });
});

describe('planTunnel', () => {
  it('adds a restricted native sidecar running the bastion against the gateway, forwarding the TCP ports to 127.0.0.1', () => {
    const result = plan({ containers: [{ name: 'app', image: 'app:1', ports: [{ containerPort: 8080 }, { containerPort: 80 }] }] });
    const secretName = remoteTunnelSecretName('web', UID);
    expect(result.sidecar).toEqual({
      name: BASTION_CONTAINER_NAME,
      image: 'ghcr.io/interlink-k8s/tcp-tunnel:0.1.0',
      imagePullPolicy: 'IfNotPresent',
      args: ['dist/bin/bastion.js'],
      restartPolicy: 'Always',
      env: [
        { name: 'TUNNEL_BASTION_GATEWAY_HOST', value: 'gateway.local.example' },
        { name: 'TUNNEL_BASTION_GATEWAY_PORT', value: '30222' },
        { name: 'TUNNEL_BASTION_GATEWAY_HOST_KEY', valueFrom: { secretKeyRef: { name: secretName, key: TUNNEL_SECRET_HOST_KEY } } },
        { name: 'TUNNEL_BASTION_PRIVATE_KEY', valueFrom: { secretKeyRef: { name: secretName, key: TUNNEL_SECRET_PRIVATE_KEY } } },
        { name: 'TUNNEL_BASTION_LABELS', value: `namespace=team-a,pod=web,uid=${UID}` },
        { name: 'TUNNEL_BASTION_FORWARDS', value: '80,8080' },
        { name: 'TUNNEL_BASTION_TARGET_HOST', value: '127.0.0.1' },
      ],
      resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '256Mi' } },
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 65532,
        runAsGroup: 65532,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      },
    });
    expect(env(result).TUNNEL_BASTION_LABELS).toBe(podUsername({ namespace: 'team-a', name: 'web', uid: UID }));
  });

  it('puts the key derived for the local pod and the gateway host key in a per-pod Secret', () => {
    const { secret } = plan(web);
    expect(secret?.metadata).toMatchObject({
      name: remoteTunnelSecretName('web', UID),
      namespace: 'offloading-team-a',
      labels: podObjectLabels(UID),
      annotations: { 'interlink.io/source.name': 'web', 'interlink.io/source.namespace': 'team-a', 'interlink.io/source.uid': UID },
    });
    expect(secret?.type).toBe('Opaque');
    expect(Object.keys(secret?.data ?? {}).sort()).toEqual([TUNNEL_SECRET_PRIVATE_KEY, TUNNEL_SECRET_HOST_KEY].sort());
    expect(decode(secret?.data?.[TUNNEL_SECRET_PRIVATE_KEY])).toBe(derivePodKey(SECRET, { namespace: 'team-a', name: 'web', uid: UID }).privateKey);
    expect(decode(secret?.data?.[TUNNEL_SECRET_HOST_KEY])).toBe(HOST_KEYS);
    expect(isDnsSubdomain(secret?.metadata?.name ?? '')).toBe(true);
  });

  it('gives another pod (or the same name re-created with a new UID) another key', () => {
    const a = plan(web).secret?.data?.[TUNNEL_SECRET_PRIVATE_KEY];
    const other = localPod(web, { uid: '11111111-2222-3333-4444-555555555555' });
    const b = planTunnel(other, other.spec as Manifest<V1PodSpec>, { namespace: 'offloading-team-a', options: perPod }).secret?.data?.[
      TUNNEL_SECRET_PRIVATE_KEY
    ];
    expect(b).toBeDefined();
    expect(b).not.toBe(a);
  });

  it('uses the shared key as given when no pod-key secret is set, and passes the ciphers on', () => {
    const result = plan(web, shared);
    expect(decode(result.secret?.data?.[TUNNEL_SECRET_PRIVATE_KEY])).toBe(SHARED_KEY);
    expect(env(result).TUNNEL_CIPHERS).toBe('aes128-gcm@openssh.com');
  });

  it('is deterministic', () => {
    expect(plan(web)).toEqual(plan(web));
  });

  it.each([
    ['opted out with interlink.io/tcp-tunnel: "false"', web, { 'interlink.io/tcp-tunnel': 'false' }],
    ['without container ports', { containers: [{ name: 'app', image: 'app:1' }] }, undefined],
  ])('adds nothing to a pod %s', (_case, spec, annotations) => {
    expect(plan(spec, perPod, annotations)).toEqual({ sidecar: undefined, secret: undefined, annotations: {}, warnings: [] });
  });

  it('warns about UDP and SCTP ports and lists them in a remote pod annotation; no sidecar without a TCP port', () => {
    const result = plan({
      containers: [{ name: 'dns', image: 'coredns', ports: [{ containerPort: 53, protocol: 'UDP' }, { containerPort: 5060, protocol: 'SCTP' }] }],
    });
    expect(result.sidecar).toBeUndefined();
    expect(result.secret).toBeUndefined();
    expect(result.annotations).toEqual({ [TCP_TUNNEL_IGNORED_PORTS_ANNOTATION]: '53/UDP,5060/SCTP' });
    expect(result.warnings).toEqual([
      'pod team-a/web: port 53/UDP of container "dns" is not tunnelled (the TCP tunnel carries TCP only)',
      'pod team-a/web: port 5060/SCTP of container "dns" is not tunnelled (the TCP tunnel carries TCP only)',
    ]);
  });

  it('tells the bastion which ports are not tunnelled, so that the gateway can warn on the local pod', () => {
    const result = plan({
      containers: [{ name: 'app', image: 'app:1', ports: [{ containerPort: 8080 }, { containerPort: 8125, protocol: 'UDP' }] }],
    });
    expect(env(result).TUNNEL_BASTION_LABELS).toBe(`namespace=team-a,pod=web,uid=${UID},ignored-ports=8125/UDP`);
    expect(env(result).TUNNEL_BASTION_FORWARDS).toBe('8080');
  });

  it('warns that an opt-out value other than "false" keeps the pod tunnelled', () => {
    const result = plan(web, perPod, { 'interlink.io/tcp-tunnel': 'disabled' });
    expect(result.sidecar).toBeDefined();
    expect(result.warnings).toEqual([
      'pod team-a/web: annotation interlink.io/tcp-tunnel is "disabled"; only "false" keeps a pod out of the TCP tunnel, so it is tunnelled',
    ]);
    expect(plan(web, perPod, { 'interlink.io/tcp-tunnel': 'true' }).warnings).toEqual([]);
  });

  it.each([
    ['containers[1]', { containers: [{ name: 'app', image: 'a', ports: [{ containerPort: 80 }] }, { name: BASTION_CONTAINER_NAME, image: 'b' }] }],
    ['initContainers[0]', { ...web, initContainers: [{ name: BASTION_CONTAINER_NAME, image: 'b' }] }],
  ])('refuses a pod whose %s already has the sidecar’s name, naming the field', (field, spec) => {
    expect(() => plan(spec)).toThrow(InputError);
    expect(() => plan(spec)).toThrow(
      expect.objectContaining({ field: `pod.spec.${field}.name`, message: expect.stringContaining('interlink.io/tcp-tunnel') }),
    );
  });

  it('keeps a Guaranteed pod Guaranteed: the sidecar’s requests equal its limits', () => {
    const resources = { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '1000m', memory: '1Gi' } };
    const result = plan({ containers: [{ name: 'app', image: 'a', ports: [{ containerPort: 80 }], resources }] });
    expect(result.sidecar?.resources).toEqual({ requests: { cpu: '10m', memory: '256Mi' }, limits: { cpu: '10m', memory: '256Mi' } });
  });
});

describe('isGuaranteed', () => {
  const container = (resources: Record<string, unknown>) => ({ name: 'a', image: 'a', resources });
  it.each([
    ['limits only (requests default to them)', [container({ limits: { cpu: '2', memory: '1Gi' } })], true],
    ['equal requests in other units', [container({ limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '1000m', memory: '1024Mi' } })], true],
    ['requests below limits', [container({ limits: { cpu: '2', memory: '1Gi' }, requests: { cpu: '1', memory: '1Gi' } })], false],
    ['no memory limit', [container({ limits: { cpu: '2' } })], false],
    ['one container without resources', [container({ limits: { cpu: '2', memory: '1Gi' } }), { name: 'b', image: 'b' }], false],
  ])('%s → %s', (_case, containers, expected) => {
    expect(isGuaranteed(specOf({ containers }))).toBe(expected);
  });
});

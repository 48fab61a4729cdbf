import { describe, expect, it } from '@jest/globals';
import { OPTIONS, UID, localPod } from './__tests__/fixtures.js';
import type { DataCopies } from './data.js';
import type { TranslateOptions } from './types.js';
import { targetsVirtualNode, translatePod } from './pod.js';

const NO_COPIES: DataCopies = {
  configMaps: [],
  secrets: [],
  configMapNames: new Map(),
  secretNames: new Map(),
  projected: new Map(),
};

function translate(
  spec: Record<string, unknown> = {},
  metadata: Record<string, unknown> = {},
  options: Partial<TranslateOptions> = {},
) {
  return translatePod(localPod(spec, metadata), {
    namespace: 'offloading-team-a',
    options: { ...OPTIONS, ...options },
    copies: NO_COPIES,
  });
}

/** The value at `path` inside `value`, or undefined. */
function at(value: unknown, path: readonly (string | number)[]): unknown {
  let current: unknown = value;
  for (const step of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string | number, unknown>)[step];
  }
  return current;
}

/** A pod using every field the reference plugin dropped, and more. */
const RICH_SPEC = {
  serviceAccountName: 'builder',
  imagePullSecrets: [{ name: 'registry' }],
  securityContext: { runAsNonRoot: true, runAsUser: 1000, fsGroup: 2000, seccompProfile: { type: 'RuntimeDefault' } },
  dnsPolicy: 'None',
  dnsConfig: { nameservers: ['1.1.1.1'], searches: ['svc.example'], options: [{ name: 'ndots', value: '2' }] },
  hostAliases: [{ ip: '10.0.0.5', hostnames: ['db.internal'] }],
  restartPolicy: 'OnFailure',
  terminationGracePeriodSeconds: 45,
  activeDeadlineSeconds: 3600,
  shareProcessNamespace: true,
  hostNetwork: true,
  hostname: 'web-0',
  subdomain: 'web',
  runtimeClassName: 'nvidia',
  enableServiceLinks: false,
  topologySpreadConstraints: [
    {
      maxSkew: 1,
      topologyKey: 'topology.kubernetes.io/zone',
      whenUnsatisfiable: 'ScheduleAnyway',
      labelSelector: { matchLabels: { app: 'web' } },
    },
  ],
  affinity: {
    podAntiAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: [
        { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: 'web' } } },
      ],
    },
  },
  volumes: [{ name: 'scratch', emptyDir: { sizeLimit: '1Gi' } }],
  initContainers: [
    { name: 'proxy', image: 'envoy:1.30', restartPolicy: 'Always', ports: [{ containerPort: 15000 }] },
    { name: 'migrate', image: 'migrate:1', command: ['migrate'], args: ['up'] },
  ],
  containers: [
    {
      name: 'app',
      image: 'registry.example/app:2',
      imagePullPolicy: 'Always',
      command: ['/bin/app'],
      args: ['--port', '8080'],
      workingDir: '/srv',
      ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
      env: [{ name: 'MODE', value: 'prod' }],
      envFrom: [{ prefix: 'CFG_', configMapRef: { name: 'app-env', optional: true } }],
      resources: {
        requests: { cpu: '2', memory: '4Gi', 'nvidia.com/gpu': '1' },
        limits: { 'nvidia.com/gpu': '1', 'example.com/fpga': '2' },
      },
      livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10 },
      readinessProbe: { tcpSocket: { port: 8080 } },
      startupProbe: { exec: { command: ['cat', '/tmp/ready'] }, failureThreshold: 30 },
      lifecycle: {
        preStop: { exec: { command: ['sleep', '5'] } },
        postStart: { httpGet: { path: '/warm', port: 8080 } },
      },
      securityContext: {
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] },
      },
      volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }],
      stdin: true,
    },
  ],
};

describe('translatePod keeps what the reference plugin dropped', () => {
  const local = localPod(RICH_SPEC);
  const remote = translate(RICH_SPEC);

  it.each([
    ['serviceAccountName', ['serviceAccountName']],
    ['imagePullSecrets', ['imagePullSecrets']],
    ['the pod securityContext', ['securityContext']],
    ['dnsPolicy', ['dnsPolicy']],
    ['dnsConfig', ['dnsConfig']],
    ['hostAliases', ['hostAliases']],
    ['restartPolicy', ['restartPolicy']],
    ['terminationGracePeriodSeconds', ['terminationGracePeriodSeconds']],
    ['activeDeadlineSeconds', ['activeDeadlineSeconds']],
    ['shareProcessNamespace', ['shareProcessNamespace']],
    ['hostNetwork', ['hostNetwork']],
    ['hostname', ['hostname']],
    ['subdomain', ['subdomain']],
    ['runtimeClassName', ['runtimeClassName']],
    ['enableServiceLinks', ['enableServiceLinks']],
    ['topologySpreadConstraints', ['topologySpreadConstraints']],
    ['pod anti-affinity', ['affinity', 'podAntiAffinity']],
    ['emptyDir volumes', ['volumes']],
    ['a native sidecar (init container with restartPolicy Always)', ['initContainers', 0]],
    ['init containers, in order', ['initContainers', 1]],
    ['imagePullPolicy', ['containers', 0, 'imagePullPolicy']],
    ['command', ['containers', 0, 'command']],
    ['args', ['containers', 0, 'args']],
    ['workingDir', ['containers', 0, 'workingDir']],
    ['ports', ['containers', 0, 'ports']],
    ['env', ['containers', 0, 'env']],
    ['envFrom', ['containers', 0, 'envFrom']],
    ['resources with GPUs and other extended resources', ['containers', 0, 'resources']],
    ['livenessProbe', ['containers', 0, 'livenessProbe']],
    ['readinessProbe', ['containers', 0, 'readinessProbe']],
    ['startupProbe', ['containers', 0, 'startupProbe']],
    ['lifecycle hooks', ['containers', 0, 'lifecycle']],
    ['readOnlyRootFilesystem', ['containers', 0, 'securityContext', 'readOnlyRootFilesystem']],
    ['capabilities', ['containers', 0, 'securityContext', 'capabilities']],
    ['volumeMounts', ['containers', 0, 'volumeMounts']],
    ['stdin', ['containers', 0, 'stdin']],
  ])('keeps %s', (_field, path) => {
    const expected = at(local.spec, path);
    expect(expected).toBeDefined();
    expect(at(remote.spec, path)).toEqual(expected);
  });

  it('passes unknown (future) fields of the spec and of containers through untouched', () => {
    const pod = translate({
      futurePodField: { mode: 'x', list: [1, 2] },
      containers: [{ name: 'app', image: 'nginx', futureContainerField: 'y' }],
    });
    expect(pod.spec).toHaveProperty('futurePodField', { mode: 'x', list: [1, 2] });
    expect(pod.spec?.containers[0]).toHaveProperty('futureContainerField', 'y');
  });

  it('leaves the local pod as it was', () => {
    const pod = localPod(RICH_SPEC);
    const before = structuredClone(pod);
    translatePod(pod, { namespace: 'ns', options: { ...OPTIONS, nodeSelector: { pool: 'x' } }, copies: NO_COPIES });
    expect(pod).toEqual(before);
  });
});

describe('translatePod drops what cannot mean anything remotely', () => {
  const remote = translate({
    priority: 1000,
    priorityClassName: 'high',
    preemptionPolicy: 'Never',
    schedulerName: 'volcano',
    overhead: { cpu: '250m' },
    readinessGates: [{ conditionType: 'example.com/load-balancer' }],
    ephemeralContainers: [{ name: 'debug', image: 'busybox' }],
    serviceAccount: 'builder',
    serviceAccountName: 'builder',
  });

  it.each([
    ['nodeName (the remote scheduler decides)', 'nodeName'],
    ['priority (the remote admission computes it and rejects a different one)', 'priority'],
    ['priorityClassName (the class may not exist remotely)', 'priorityClassName'],
    ['preemptionPolicy (set from the priority class)', 'preemptionPolicy'],
    ['schedulerName (a local scheduler)', 'schedulerName'],
    ['overhead (computed from the remote RuntimeClass)', 'overhead'],
    ['readinessGates (set by local controllers only)', 'readinessGates'],
    ['ephemeralContainers (cannot be set on create)', 'ephemeralContainers'],
    ['the deprecated serviceAccount alias', 'serviceAccount'],
  ])('drops %s', (_why, field) => {
    expect(remote.spec).not.toHaveProperty(field);
  });

  it('carries no status', () => {
    expect(remote).not.toHaveProperty('status');
  });

  it('keeps only name, namespace, labels and annotations of the metadata', () => {
    expect(Object.keys(remote.metadata ?? {}).sort()).toEqual(['annotations', 'labels', 'name', 'namespace']);
  });

  it('turns off the remote service-account token (the local token copy is mounted in its place)', () => {
    expect(remote.spec?.automountServiceAccountToken).toBe(false);
    expect(translate({ automountServiceAccountToken: true }).spec?.automountServiceAccountToken).toBe(false);
  });
});

describe('translatePod metadata', () => {
  const remote = translate();

  it('names the pod after the local one with a hash of its UID, in the remote namespace', () => {
    expect(remote.metadata?.name).toMatch(/^web-[a-z2-7]{10}$/);
    expect(remote.metadata?.namespace).toBe('offloading-team-a');
  });

  it('keeps the local labels and adds the managed ones', () => {
    expect(remote.metadata?.labels).toEqual({
      app: 'web',
      'interlink.io': 'offloading',
      'interlink.io/source.pod_uid': UID,
      'app.kubernetes.io/managed-by': 'interlink-k8s',
    });
  });

  it('keeps the local annotations (the VK’s included) and adds the source ones', () => {
    const pod = translate({}, { annotations: { 'interlink.eu/pod-subnet': '10.1.0.0/24' } });
    expect(pod.metadata?.annotations).toEqual({
      'interlink.eu/pod-subnet': '10.1.0.0/24',
      'interlink.io/source.uid': UID,
      'interlink.io/source.name': 'web',
      'interlink.io/source.namespace': 'team-a',
    });
  });

  it('gives the remote pod the hostname the local pod would have had', () => {
    expect(remote.spec?.hostname).toBe('web');
  });

  it('keeps a hostname the pod sets', () => {
    expect(translate({ hostname: 'db-0' }).spec?.hostname).toBe('db-0');
  });

  it('sets no hostname for a host-network pod (it has its node’s)', () => {
    expect(translate({ hostNetwork: true }).spec).not.toHaveProperty('hostname');
  });

  it('sets no hostname when the local name cannot be one', () => {
    expect(translate({}, { name: 'web.v2' }).spec).not.toHaveProperty('hostname');
  });
});

describe('translatePod scheduling', () => {
  it.each([
    ['virtual-node.interlink/type', 'virtual-kubelet', true],
    ['kubernetes.io/hostname', 'interlink-node', true],
    ['type', 'virtual-kubelet', true],
    ['kubernetes.io/os', 'virtual-kubelet', true],
    ['kubernetes.io/role', 'agent', true],
    ['kubernetes.io/os', 'linux', false],
    ['nvidia.com/gpu.product', 'A100', false],
    ['topology.kubernetes.io/zone', 'eu-1', false],
  ])('targetsVirtualNode(%j, %j) is %j', (key, value, expected) => {
    expect(targetsVirtualNode(key, [value])).toBe(expected);
  });

  it('drops node selector entries that target the virtual node and keeps the others', () => {
    const pod = translate({
      nodeSelector: { 'virtual-node.interlink/type': 'virtual-kubelet', 'kubernetes.io/hostname': 'vk', 'kubernetes.io/os': 'linux' },
    });
    expect(pod.spec?.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
  });

  it('merges the configured node selector, the pod’s own keys winning', () => {
    const pod = translate({ nodeSelector: { pool: 'gpu' } }, {}, { nodeSelector: { pool: 'batch', site: 'infn' } });
    expect(pod.spec?.nodeSelector).toEqual({ pool: 'gpu', site: 'infn' });
  });

  it('leaves out an empty node selector', () => {
    expect(translate({ nodeSelector: { type: 'virtual-kubelet' } }).spec).not.toHaveProperty('nodeSelector');
  });

  it('drops the virtual-node toleration, keeps the others and appends the configured ones once', () => {
    const configured = { key: 'dedicated', operator: 'Equal', value: 'offload', effect: 'NoSchedule' };
    const pod = translate(
      {
        tolerations: [
          { key: 'virtual-node.interlink/no-schedule', operator: 'Exists', effect: 'NoSchedule' },
          { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
          configured,
        ],
      },
      {},
      { tolerations: [configured, { key: 'gpu', operator: 'Exists' }] },
    );
    expect(pod.spec?.tolerations).toEqual([
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      configured,
      { key: 'gpu', operator: 'Exists' },
    ]);
  });

  it('drops a required node affinity that only meant “the virtual node” (it stands for any remote node)', () => {
    const pod = translate({
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: 'virtual-node.interlink/type', operator: 'In', values: ['virtual-kubelet'] }] },
              { matchExpressions: [{ key: 'pool', operator: 'In', values: ['gpu'] }] },
            ],
          },
        },
      },
    });
    expect(pod.spec).not.toHaveProperty('affinity');
  });

  it('keeps the rest of a node affinity term that also targeted the virtual node', () => {
    const pod = translate({
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              {
                matchExpressions: [
                  { key: 'kubernetes.io/hostname', operator: 'In', values: ['interlink-node'] },
                  { key: 'pool', operator: 'In', values: ['gpu'] },
                ],
              },
            ],
          },
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 10, preference: { matchExpressions: [{ key: 'type', operator: 'In', values: ['virtual-kubelet'] }] } },
            { weight: 5, preference: { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] } },
          ],
        },
      },
    });
    expect(pod.spec?.affinity).toEqual({
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: 'pool', operator: 'In', values: ['gpu'] }] }],
        },
        preferredDuringSchedulingIgnoredDuringExecution: [
          { weight: 5, preference: { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] } },
        ],
      },
    });
  });
});

describe('translatePod input errors', () => {
  it('rejects a pod without spec, naming the field', () => {
    const pod = localPod();
    delete pod.spec;
    expect(() => translatePod(pod, { namespace: 'ns', options: OPTIONS, copies: NO_COPIES })).toThrow(
      expect.objectContaining({ name: 'InputError', field: 'pod.spec' }),
    );
  });
});

import { describe, expect, it } from '@jest/globals';
import { computeCapacity, isAcceleratorResource, podRequests, tolerates } from './capacity.js';
import { formatQuantity } from '../shared/quantity.js';
import type { RawNode, RawPod, RawResourceList } from './remote-api.js';

function node(
  name: string,
  allocatable: RawResourceList,
  extra: { ready?: boolean; unschedulable?: boolean; labels?: Record<string, string>; taints?: { key: string; value?: string; effect: string }[] } = {},
): RawNode {
  return {
    metadata: { name, labels: extra.labels ?? {} },
    spec: { unschedulable: extra.unschedulable ?? false, taints: extra.taints ?? [] },
    status: {
      allocatable,
      conditions: [{ type: 'Ready', status: extra.ready === false ? 'False' : 'True' }],
    },
  };
}

function pod(
  nodeName: string | undefined,
  requests: RawResourceList[],
  extra: { phase?: string; init?: { requests: RawResourceList; sidecar?: boolean }[]; overhead?: RawResourceList; offloaded?: boolean } = {},
): RawPod {
  return {
    metadata: { name: 'p', labels: extra.offloaded === true ? { offloaded: 'yes' } : {} },
    spec: {
      ...(nodeName === undefined ? {} : { nodeName }),
      containers: requests.map((r, i) => ({ name: `c${i}`, resources: { requests: r } })),
      initContainers: (extra.init ?? []).map((c, i) => ({
        name: `i${i}`,
        resources: { requests: c.requests },
        ...(c.sidecar === true ? { restartPolicy: 'Always' } : {}),
      })),
      ...(extra.overhead === undefined ? {} : { overhead: extra.overhead }),
    },
    status: { phase: extra.phase ?? 'Running' },
  };
}

const noOptions = { nodeSelector: {}, tolerations: [] };
const isOffloaded = (p: RawPod): boolean => p.metadata?.labels?.offloaded === 'yes';

describe('computeCapacity', () => {
  it('sums allocatable over nodes and subtracts the requests of pods bound to them', () => {
    const nodes = [
      node('a', { cpu: '4', memory: '8Gi', pods: '110', 'nvidia.com/gpu': '2' }),
      node('b', { cpu: '2500m', memory: '4Gi', pods: '110' }),
    ];
    const pods = [
      pod('a', [{ cpu: '500m', memory: '1Gi', 'nvidia.com/gpu': '1' }, { cpu: '250m', memory: '512Mi' }]),
      pod('b', [{ cpu: '1', memory: '1Gi' }]),
    ];
    expect(computeCapacity(nodes, pods, noOptions)).toEqual({
      cpu: '4750m', // 4 - 0.75 + 2.5 - 1
      memory: '9728Mi', // 8Gi - 1.5Gi + 4Gi - 1Gi = 9.5Gi
      pods: '218',
      accelerators: [{ resourceType: 'nvidia.com/gpu', available: '1' }],
    });
  });

  it('ignores terminal pods, unbound pods and pods on other nodes', () => {
    const nodes = [node('a', { cpu: '2', memory: '1Gi', pods: '10' })];
    const pods = [
      pod('a', [{ cpu: '1' }], { phase: 'Succeeded' }),
      pod('a', [{ cpu: '1' }], { phase: 'Failed' }),
      pod(undefined, [{ cpu: '1' }], { phase: 'Pending' }),
      pod('elsewhere', [{ cpu: '1' }]),
      pod('a', [{ cpu: '100m' }], { phase: 'Pending' }),
    ];
    expect(computeCapacity(nodes, pods, noOptions)).toEqual({ cpu: '1900m', memory: '1Gi', pods: '9' });
  });

  it('does not subtract the pods this plugin offloaded: the local scheduler counts them already', () => {
    const nodes = [node('a', { cpu: '4', memory: '4Gi', pods: '10' })];
    const pods = [pod('a', [{ cpu: '1', memory: '1Gi' }], { offloaded: true }), pod('a', [{ cpu: '1' }])];
    expect(computeCapacity(nodes, pods, { ...noOptions, isOffloaded })).toEqual({ cpu: '3', memory: '4Gi', pods: '9' });
  });

  it('counts only Ready, schedulable nodes matching the node selector', () => {
    const nodes = [
      node('ok', { cpu: '1', memory: '1Gi', pods: '5' }, { labels: { pool: 'offload' } }),
      node('other-pool', { cpu: '8', memory: '8Gi', pods: '5' }, { labels: { pool: 'system' } }),
      node('not-ready', { cpu: '8', memory: '8Gi', pods: '5' }, { labels: { pool: 'offload' }, ready: false }),
      node('cordoned', { cpu: '8', memory: '8Gi', pods: '5' }, { labels: { pool: 'offload' }, unschedulable: true }),
    ];
    expect(computeCapacity(nodes, [], { nodeSelector: { pool: 'offload' }, tolerations: [] })).toEqual({
      cpu: '1',
      memory: '1Gi',
      pods: '5',
    });
  });

  it('skips nodes with NoSchedule/NoExecute taints the configured tolerations do not tolerate', () => {
    const gpuTaint = { key: 'gpu', value: 'true', effect: 'NoSchedule' };
    const nodes = [
      node('gpu', { cpu: '8', memory: '8Gi', pods: '5' }, { taints: [gpuTaint] }),
      node('soft', { cpu: '1', memory: '1Gi', pods: '5' }, { taints: [{ key: 'x', effect: 'PreferNoSchedule' }] }),
    ];
    expect(computeCapacity(nodes, [], noOptions)?.cpu).toBe('1');
    const tolerations = [{ key: 'gpu', operator: 'Equal', value: 'true', effect: 'NoSchedule' }];
    expect(computeCapacity(nodes, [], { nodeSelector: {}, tolerations })?.cpu).toBe('9');
  });

  it('floors each node at zero, so an overcommitted node does not eat another node’s room', () => {
    const nodes = [node('a', { cpu: '1', memory: '1Gi', pods: '1' }), node('b', { cpu: '1', memory: '1Gi', pods: '1' })];
    const pods = [pod('a', [{ cpu: '3', memory: '3Gi' }]), pod('a', [{}])];
    expect(computeCapacity(nodes, pods, noOptions)).toEqual({ cpu: '1', memory: '1Gi', pods: '1' });
  });

  it('leaves out a resource no qualifying node reports, rather than reporting 0', () => {
    expect(computeCapacity([node('a', { cpu: '2' })], [], noOptions)).toEqual({ cpu: '2' });
  });

  it('answers undefined when no node qualifies (0 would drain the virtual node)', () => {
    expect(computeCapacity([], [], noOptions)).toBeUndefined();
    expect(computeCapacity([node('x', { cpu: '1' }, { ready: false })], [], noOptions)).toBeUndefined();
  });

  it('reports every accelerator type, sorted, including ones fully in use', () => {
    const nodes = [
      node('a', { cpu: '1', memory: '1Gi', pods: '5', 'nvidia.com/gpu': '1', 'hugepages-2Mi': '1Gi', 'ephemeral-storage': '10Gi' }),
      node('b', { cpu: '1', memory: '1Gi', pods: '5', 'amd.com/gpu': '4' }),
    ];
    const pods = [pod('a', [{ 'nvidia.com/gpu': '1' }])];
    expect(computeCapacity(nodes, pods, noOptions)?.accelerators).toEqual([
      { resourceType: 'amd.com/gpu', available: '4' },
      { resourceType: 'nvidia.com/gpu', available: '0' },
    ]);
  });
});

describe('podRequests', () => {
  const cpuOf = (p: RawPod): string => formatQuantity(podRequests(p).get('cpu') ?? 0n);

  it('takes the larger of the containers and the biggest init container', () => {
    expect(cpuOf(pod('a', [{ cpu: '1' }], { init: [{ requests: { cpu: '2' } }, { requests: { cpu: '500m' } }] }))).toBe('2');
    expect(cpuOf(pod('a', [{ cpu: '3' }], { init: [{ requests: { cpu: '2' } }] }))).toBe('3');
  });

  it('adds native sidecars to the containers and to every later init container', () => {
    // sidecar 1 runs with the containers (1 + 1); the init container after it peaks at 1 + 2.
    const p = pod('a', [{ cpu: '1' }], { init: [{ requests: { cpu: '1' }, sidecar: true }, { requests: { cpu: '2' } }] });
    expect(cpuOf(p)).toBe('3');
  });

  it('adds the pod overhead', () => {
    expect(cpuOf(pod('a', [{ cpu: '1' }], { overhead: { cpu: '250m' } }))).toBe('1250m');
  });
});

describe('tolerates', () => {
  const taint = { key: 'k', value: 'v', effect: 'NoSchedule' };
  it.each([
    [{ key: 'k', operator: 'Equal', value: 'v', effect: 'NoSchedule' }, true],
    [{ key: 'k', value: 'v' }, true],
    [{ key: 'k', operator: 'Exists' }, true],
    [{ operator: 'Exists' }, true],
    [{ key: 'k', value: 'other' }, false],
    [{ key: 'other', operator: 'Exists' }, false],
    [{ key: 'k', operator: 'Exists', effect: 'NoExecute' }, false],
    [{ key: '' }, false],
  ])('%j → %p', (toleration, expected) => {
    expect(tolerates(toleration, taint)).toBe(expected);
  });
});

describe('isAcceleratorResource', () => {
  it.each([
    ['nvidia.com/gpu', true],
    ['amd.com/gpu', true],
    ['cpu', false],
    ['memory', false],
    ['hugepages-1Gi', false],
    ['ephemeral-storage', false],
  ])('%s → %p', (name, expected) => {
    expect(isAcceleratorResource(name)).toBe(expected);
  });
});

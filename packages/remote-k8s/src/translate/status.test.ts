import { describe, expect, it } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { PodStatusSchema } from '@interlink-k8s/protocol';
import { UID, localPod } from './__tests__/fixtures.js';
import { missingPodStatus, toPodStatus, toRfc3339 } from './status.js';
import type { RemoteContainerStatus, RemotePodView } from './status.js';

const REMOTE_UID = 'remote-0000-1111';

const pod = localPod({
  initContainers: [
    { name: 'migrate', image: 'migrate:1' },
    { name: 'proxy', image: 'envoy:1.30', restartPolicy: 'Always' },
  ],
  containers: [
    { name: 'app', image: 'app:2' },
    { name: 'worker', image: 'worker:2' },
  ],
});

function remotePod(status: NonNullable<RemotePodView['status']>): RemotePodView {
  return { metadata: { uid: REMOTE_UID }, status };
}

function containerStatus(name: string, state: RemoteContainerStatus['state'], extra: Partial<RemoteContainerStatus> = {}): RemoteContainerStatus {
  return { name, state, ready: false, restartCount: 0, image: `${name}:remote`, imageID: `sha256:${name}`, ...extra };
}

const names = (list: { name: string }[]) => list.map((c) => c.name);

describe('toPodStatus identity', () => {
  it('reports the local name, namespace and UID, and the remote pod UID as JID', () => {
    const status = toPodStatus(pod, remotePod({ phase: 'Pending' }));
    expect(status).toMatchObject({ name: 'web', namespace: 'team-a', UID, JID: REMOTE_UID });
  });

  it('reports an empty JID while the remote pod is unknown', () => {
    expect(toPodStatus(pod, undefined).JID).toBe('');
  });

  it('accepts a client-node V1Pod as the remote pod', () => {
    const fromModel = (model: V1Pod): RemotePodView => model;
    expect(typeof fromModel).toBe('function');
  });
});

describe('toPodStatus reports every container of the local spec, in order', () => {
  it.each([
    ['while the remote pod is unknown', undefined],
    ['while the remote pod has no container statuses', remotePod({ phase: 'Pending' })],
    [
      'when the remote pod reports only some of them',
      remotePod({ phase: 'Running', containerStatuses: [containerStatus('worker', { running: {} })] }),
    ],
  ])('%s (never an empty list, which the VK would take for “all terminated”)', (_case, remote) => {
    const status = toPodStatus(pod, remote);
    expect(names(status.initContainers)).toEqual(['migrate', 'proxy']);
    expect(names(status.containers)).toEqual(['app', 'worker']);
    expect(PodStatusSchema.safeParse(status).success).toBe(true);
  });

  it('reports init containers in initContainers (the reference left them out)', () => {
    const status = toPodStatus(
      pod,
      remotePod({
        phase: 'Pending',
        initContainerStatuses: [
          containerStatus('migrate', { terminated: { exitCode: 0, reason: 'Completed' } }),
          containerStatus('proxy', { running: { startedAt: '2026-07-01T10:00:05Z' } }, { started: true }),
        ],
      }),
    );
    expect(status.initContainers.map((c) => c.state)).toEqual([
      { terminated: { exitCode: 0, reason: 'Completed' } },
      { running: { startedAt: '2026-07-01T10:00:05Z' } },
    ]);
  });
});

describe('toPodStatus for containers without a remote status', () => {
  it.each([
    ['the remote pod is unknown', undefined, 'ContainerCreating', undefined],
    [
      'the remote pod cannot be scheduled (the scheduler’s reason and message)',
      remotePod({
        phase: 'Pending',
        conditions: [
          { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient nvidia.com/gpu.' },
        ],
      }),
      'Unschedulable',
      '0/3 nodes are available: 3 Insufficient nvidia.com/gpu.',
    ],
    ['the remote pod is scheduled', remotePod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }] }), 'ContainerCreating', undefined],
  ])('waits while %s', (_case, remote, reason, message) => {
    const status = toPodStatus(localPod(), remote);
    expect(status.containers).toHaveLength(1);
    for (const c of status.containers) {
      expect(c.state).toEqual({ waiting: message === undefined ? { reason } : { reason, message } });
      expect(c).toMatchObject({ ready: false, restartCount: 0 });
    }
  });

  it('reports the local image for a container the remote pod does not report yet', () => {
    expect(toPodStatus(pod, undefined).containers[0]?.image).toBe('app:2');
  });

  it('says PodInitializing for app containers while init containers run', () => {
    const status = toPodStatus(
      pod,
      remotePod({ phase: 'Pending', initContainerStatuses: [containerStatus('migrate', { running: {} })] }),
    );
    expect(status.containers.map((c) => c.state.waiting?.reason)).toEqual(['PodInitializing', 'PodInitializing']);
  });

  it('never reports the tunnel’s bastion sidecar, nor waits for it (the local pod has no such container)', () => {
    const bastion = containerStatus('interlink-tunnel-bastion', { waiting: { reason: 'CreateContainerConfigError' } });
    const remote = remotePod({
      phase: 'Pending',
      initContainerStatuses: [
        containerStatus('migrate', { terminated: { exitCode: 0 } }),
        containerStatus('proxy', { running: {} }),
        bastion,
      ],
    });
    const status = toPodStatus(pod, remote);
    expect(names(status.initContainers)).toEqual(['migrate', 'proxy']);
    expect(status.containers.map((c) => c.state.waiting?.reason)).toEqual(['ContainerCreating', 'ContainerCreating']);

    const withoutSpec = localPod();
    delete withoutSpec.spec;
    expect(names(toPodStatus(withoutSpec, remote).initContainers)).toEqual(['migrate', 'proxy']);
  });

  it('uses the caller’s reason while the remote pod is not known', () => {
    const status = toPodStatus(pod, undefined, { pendingReason: 'Offloading', pendingMessage: 'creating the remote pod' });
    expect(status.containers[0]?.state).toEqual({ waiting: { reason: 'Offloading', message: 'creating the remote pod' } });
  });
});

describe('toPodStatus carries remote container statuses over', () => {
  it('keeps state, last state, readiness, restarts, images and IDs', () => {
    const remote = remotePod({
      phase: 'Running',
      containerStatuses: [
        containerStatus(
          'app',
          { running: { startedAt: new Date('2026-07-01T10:01:00.123Z') } },
          {
            ready: true,
            restartCount: 2,
            started: true,
            containerID: 'containerd://abc',
            lastState: {
              terminated: {
                exitCode: 137,
                reason: 'OOMKilled',
                startedAt: '2026-07-01T10:00:00Z',
                finishedAt: '2026-07-01T10:00:59+00:00',
                containerID: 'containerd://old',
              },
            },
          },
        ),
      ],
    });
    expect(toPodStatus(pod, remote).containers[0]).toEqual({
      name: 'app',
      state: { running: { startedAt: '2026-07-01T10:01:00Z' } },
      lastState: {
        terminated: {
          exitCode: 137,
          reason: 'OOMKilled',
          startedAt: '2026-07-01T10:00:00Z',
          finishedAt: '2026-07-01T10:00:59Z',
          containerID: 'containerd://old',
        },
      },
      ready: true,
      restartCount: 2,
      image: 'app:remote',
      imageID: 'sha256:app',
      containerID: 'containerd://abc',
      started: true,
    });
  });

  it('passes the remote kubelet’s waiting reason and message on (e.g. a missing image)', () => {
    const remote = remotePod({
      phase: 'Pending',
      containerStatuses: [containerStatus('app', { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "app:2"' } })],
    });
    expect(toPodStatus(pod, remote).containers[0]?.state).toEqual({
      waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "app:2"' },
    });
  });
});

describe('toPodStatus for a remote pod that has ended', () => {
  it('reports an evicted pod’s containers terminated with the pod’s reason and message', () => {
    const status = toPodStatus(
      pod,
      remotePod({ phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' }),
    );
    for (const c of [...status.initContainers, ...status.containers]) {
      expect(c.state.terminated).toEqual({ exitCode: 137, reason: 'Evicted', message: 'The node was low on resource: memory.' });
    }
  });

  it('reports containers of a Succeeded pod without statuses as completed with exit code 0', () => {
    const status = toPodStatus(pod, remotePod({ phase: 'Succeeded' }));
    expect(status.containers.map((c) => c.state.terminated?.exitCode)).toEqual([0, 0]);
  });

  it('ends app containers that never started when an init container failed', () => {
    const status = toPodStatus(
      pod,
      remotePod({
        phase: 'Failed',
        initContainerStatuses: [containerStatus('migrate', { terminated: { exitCode: 3, reason: 'Error' } })],
        containerStatuses: [
          containerStatus('app', { waiting: { reason: 'PodInitializing' } }),
          containerStatus('worker', { waiting: { reason: 'PodInitializing' } }),
        ],
      }),
    );
    expect(status.initContainers[0]?.state.terminated).toEqual({ exitCode: 3, reason: 'Error' });
    expect(status.containers.every((c) => c.state.terminated !== undefined && c.state.terminated.exitCode !== 0)).toBe(true);
  });

  it('keeps a Failed pod failed locally even if its containers exited 0 (e.g. deadline exceeded)', () => {
    const status = toPodStatus(
      pod,
      remotePod({
        phase: 'Failed',
        reason: 'DeadlineExceeded',
        message: 'Pod was active on the node longer than the specified deadline',
        containerStatuses: [
          containerStatus('app', { terminated: { exitCode: 0, reason: 'Completed' } }),
          containerStatus('worker', { terminated: { exitCode: 0, reason: 'Completed' } }),
        ],
      }),
    );
    expect(status.containers.map((c) => c.state.terminated?.exitCode)).toEqual([137, 137]);
    expect(status.containers[0]?.state.terminated?.reason).toBe('DeadlineExceeded');
  });
});

describe('missingPodStatus', () => {
  it('reports every container terminated as lost, so the VK marks the pod Failed instead of waiting', () => {
    const status = missingPodStatus(pod, REMOTE_UID);
    expect(status).toMatchObject({ name: 'web', namespace: 'team-a', UID, JID: REMOTE_UID });
    expect(names(status.containers)).toEqual(['app', 'worker']);
    expect(names(status.initContainers)).toEqual(['migrate', 'proxy']);
    for (const c of [...status.initContainers, ...status.containers]) {
      expect(c.state.terminated).toMatchObject({ exitCode: 137, reason: 'RemotePodLost' });
      expect(c.state.terminated?.message).toMatch(/no longer exists on the remote cluster/);
    }
    expect(PodStatusSchema.safeParse(status).success).toBe(true);
  });
});

describe('toRfc3339', () => {
  it.each([
    [new Date('2026-07-01T10:00:00.000Z'), '2026-07-01T10:00:00Z'],
    ['2026-07-01T12:00:00+02:00', '2026-07-01T10:00:00Z'],
    ['2026-07-01T10:00:00Z', '2026-07-01T10:00:00Z'],
    ['', undefined],
    ['0001-01-01T00:00:00Z', undefined],
    ['not a time', undefined],
    [null, undefined],
    [undefined, undefined],
    [new Date(Number.NaN), undefined],
  ])('turns %p into %p (never an empty string)', (value, expected) => {
    expect(toRfc3339(value)).toBe(expected);
  });
});

import { describe, expect, it } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { PodStatusSchema } from '@interlink-k8s/protocol';
import type { Pod, PodStatus } from '@interlink-k8s/protocol';
import { UID, localPod } from './__tests__/fixtures.js';
import { NOT_STARTED_REASON, SIDECAR_STARTED_REASON, missingPodStatus, toPodStatus, toRfc3339 } from './status.js';
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

/** What InterLink's Virtual Kubelet keeps of the local pod's status: its phase and reason. */
interface VkView {
  phase: string;
  reason: string;
}

/**
 * The local phase and reason InterLink 0.6.2's Virtual Kubelet derives from
 * one status answer. Mirrors `checkPodsStatus`, with the two functions it
 * calls, `handleInitContainersUpdate` and `handleContainersUpdate`
 * (pkg/virtualkubelet/execute.go); `statusLoop` (virtualkubelet.go) never
 * asks about a pod that is already Succeeded or Failed.
 */
function vkDerive(answer: PodStatus, before: VkView = { phase: 'Pending', reason: '' }): VkView {
  if (before.phase === 'Succeeded' || before.phase === 'Failed') return before;
  // handleInitContainersUpdate: only when the answer has init containers; `terminated` is tested first.
  let waitingForInit = false;
  let initRunning = false;
  let initErrored = false;
  let initReason = '';
  if (answer.initContainers.length > 0) {
    let terminated = 0;
    for (const { state } of answer.initContainers) {
      if (state.terminated) {
        terminated += 1;
        if (state.terminated.exitCode !== 0) {
          initErrored = true;
          initReason = `Error: ${state.terminated.exitCode}`;
        }
      } else if (state.waiting) waitingForInit = true;
      else if (state.running) initRunning = true;
    }
    if (terminated === answer.initContainers.length) waitingForInit = false;
  }
  // handleContainersUpdate: app containers count only once no init container waits or runs.
  let terminated = 0;
  let errored = false;
  let reason = '';
  let running = false;
  for (const { state } of answer.containers) {
    if (waitingForInit || initRunning) continue;
    if (state.terminated) {
      terminated += 1;
      if (state.terminated.exitCode !== 0) {
        errored = true;
        reason = `Error: ${state.terminated.exitCode}`;
      }
    } else if (state.waiting) continue;
    else if (state.running) running = true;
  }
  // checkPodsStatus: "completed" when every app container of the answer is terminated (an empty list too).
  if (terminated === answer.containers.length) {
    if (errored || initErrored) return { phase: 'Failed', reason: errored ? reason : initReason };
    return { phase: 'Succeeded', reason: 'Completed' };
  }
  let after = before;
  if (initRunning) after = { phase: 'Pending', reason: 'Init' };
  if (waitingForInit) after = { phase: 'Pending', reason: 'Waiting for init containers' };
  if (running) after = { phase: 'Running', reason: 'Running' };
  return after;
}

/** The local phases after each answer in turn, from a pod the VK just created. */
function vkPhases(answers: PodStatus[]): string[] {
  let view: VkView = { phase: 'Pending', reason: '' };
  return answers.map((answer) => {
    view = vkDerive(answer, view);
    return view.phase;
  });
}

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
    // Terminated (the VK ends the pod only then) with exit code 0, not an invented 137: the local reason is the init container's code.
    for (const c of status.containers) expect(c.state.terminated).toMatchObject({ exitCode: 0, reason: NOT_STARTED_REASON });
    expect(vkDerive(status)).toEqual({ phase: 'Failed', reason: 'Error: 3' });
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

// --- The local phase equals the remote phase (InterLink's VK derives it from the answer) ---------------

const STARTED = '2026-07-01T10:00:05Z';
const done = (name: string, extra: Partial<RemoteContainerStatus> = {}) =>
  containerStatus(name, { terminated: { exitCode: 0, reason: 'Completed', startedAt: STARTED, finishedAt: STARTED } }, extra);
const running = (name: string, extra: Partial<RemoteContainerStatus> = {}) =>
  containerStatus(name, { running: { startedAt: STARTED } }, { ready: true, started: true, ...extra });
const exited = (name: string, exitCode: number, reason = 'Error', extra: Partial<RemoteContainerStatus> = {}) =>
  containerStatus(name, { terminated: { exitCode, reason, startedAt: STARTED, finishedAt: STARTED } }, extra);
const waitingFor = (name: string, reason: string, extra: Partial<RemoteContainerStatus> = {}) =>
  containerStatus(name, { waiting: { reason } }, extra);
const crashLooping = (name: string, lastExitCode: number, lastReason = 'Error') =>
  containerStatus(
    name,
    { waiting: { reason: 'CrashLoopBackOff', message: `back-off 40s restarting failed container=${name}` } },
    { restartCount: 3, lastState: { terminated: { exitCode: lastExitCode, reason: lastReason, startedAt: STARTED, finishedAt: STARTED } } },
  );

/** A pod with one app container, under a restart policy. */
const single = (restartPolicy: string): Pod => localPod({ restartPolicy, containers: [{ name: 'app', image: 'app:2' }] });
/** A pod whose native sidecar comes before a regular init container. */
const sidecarFirst = localPod({
  initContainers: [
    { name: 'proxy', image: 'envoy:1.30', restartPolicy: 'Always' },
    { name: 'migrate', image: 'migrate:1' },
  ],
  containers: [{ name: 'app', image: 'app:2' }],
});
const neverPod = localPod({ ...pod.spec, restartPolicy: 'Never' });

const byNameIn = (list: PodStatus['containers'], name: string) => list.find((c) => c.name === name);

type Check = (answer: PodStatus) => void;
type Row = [title: string, local: Pod, remote: NonNullable<RemotePodView['status']>, vkReason: string | undefined, check: Check];

/**
 * Each row: the remote pod's status, the reason the VK gives the local pod
 * (where InterLink lets a reason through), and what the answer must say.
 * The local phase the VK derives must be the remote phase: from a local pod
 * that was Pending for remote Pending pods, Running for the others.
 */
const phaseRows: Row[] = [
  // 1. Native sidecars
  [
    'a running sidecar of a running pod counts as initialised, its real state kept beside it',
    pod,
    {
      phase: 'Running',
      initContainerStatuses: [done('migrate'), running('proxy')],
      containerStatuses: [running('app'), running('worker')],
    },
    'Running',
    (answer) => {
      const proxy = byNameIn(answer.initContainers, 'proxy');
      expect(proxy?.state.running).toEqual({ startedAt: STARTED });
      expect(proxy?.state.terminated).toMatchObject({ exitCode: 0, reason: SIDECAR_STARTED_REASON, startedAt: STARTED });
      expect(proxy).toMatchObject({ ready: true, started: true });
    },
  ],
  [
    'a sidecar waiting to restart in a running pod still counts as initialised',
    pod,
    {
      phase: 'Running',
      initContainerStatuses: [done('migrate'), crashLooping('proxy', 1)],
      containerStatuses: [running('app'), running('worker')],
    },
    'Running',
    (answer) => {
      const proxy = byNameIn(answer.initContainers, 'proxy');
      expect(proxy?.state.waiting?.reason).toBe('CrashLoopBackOff');
      expect(proxy?.state.terminated).toMatchObject({ exitCode: 0, reason: SIDECAR_STARTED_REASON });
      expect(proxy).toMatchObject({ restartCount: 3, lastState: { terminated: { exitCode: 1 } } });
    },
  ],
  ...[137, 143].map(
    (code): Row => [
      `a sidecar stopped with ${code} when its pod Succeeded does not fail the pod`,
      neverPod,
      {
        phase: 'Succeeded',
        initContainerStatuses: [done('migrate'), exited('proxy', code)],
        containerStatuses: [done('app'), done('worker')],
      },
      'Completed',
      (answer) => {
        const proxy = byNameIn(answer.initContainers, 'proxy')?.state.terminated;
        expect(proxy).toMatchObject({ exitCode: 0, reason: 'Error', startedAt: STARTED, finishedAt: STARTED });
        expect(proxy?.message).toContain(`exited with code ${code}`);
      },
    ],
  ),
  [
    'a sidecar still reported running when its pod Succeeded',
    neverPod,
    { phase: 'Succeeded', initContainerStatuses: [done('migrate'), running('proxy')], containerStatuses: [done('app'), done('worker')] },
    'Completed',
    (answer) => {
      expect(byNameIn(answer.initContainers, 'proxy')?.state.terminated?.exitCode).toBe(0);
    },
  ],
  [
    'a running sidecar while a later init container runs: the pod is still initialising',
    sidecarFirst,
    { phase: 'Pending', initContainerStatuses: [running('proxy'), running('migrate', { ready: false })] },
    'Init',
    (answer) => {
      expect(answer.initContainers.map((c) => Object.keys(c.state))).toEqual([['running'], ['running']]);
      expect(answer.containers[0]?.state.waiting?.reason).toBe('PodInitializing');
    },
  ],
  [
    'a pod evicted while its sidecar ran: the sidecar is no failure, the pod’s reason is',
    sidecarFirst,
    {
      phase: 'Failed',
      reason: 'Evicted',
      message: 'The node was low on resource: memory.',
      initContainerStatuses: [running('proxy'), waitingFor('migrate', 'PodInitializing')],
      containerStatuses: [waitingFor('app', 'PodInitializing')],
    },
    'Error: 137',
    (answer) => {
      expect(byNameIn(answer.initContainers, 'proxy')?.state.terminated).toMatchObject({ exitCode: 0, reason: SIDECAR_STARTED_REASON });
      for (const c of [byNameIn(answer.initContainers, 'migrate'), byNameIn(answer.containers, 'app')]) {
        expect(c?.state.terminated).toEqual({ exitCode: 137, reason: 'Evicted', message: 'The node was low on resource: memory.' });
      }
    },
  ],

  // 2. An init container fails
  [
    'an init container exits 7: the pod fails, and its reason is the init container’s code',
    neverPod,
    {
      phase: 'Failed',
      initContainerStatuses: [exited('migrate', 7), waitingFor('proxy', 'PodInitializing')],
      containerStatuses: [waitingFor('app', 'PodInitializing'), waitingFor('worker', 'PodInitializing')],
    },
    'Error: 7',
    (answer) => {
      expect(byNameIn(answer.initContainers, 'migrate')?.state.terminated).toEqual({
        exitCode: 7,
        reason: 'Error',
        startedAt: STARTED,
        finishedAt: STARTED,
      });
      for (const c of [byNameIn(answer.initContainers, 'proxy'), ...answer.containers]) {
        expect(c?.state.terminated).toEqual({
          exitCode: 0,
          reason: NOT_STARTED_REASON,
          message: 'never started (PodInitializing): the remote pod failed first (init container "migrate" exited with code 7)',
        });
      }
    },
  ],
  [
    'an init container crash-looping under restartPolicy OnFailure: the pod stays Pending',
    localPod({ ...pod.spec, restartPolicy: 'OnFailure' }),
    {
      phase: 'Pending',
      initContainerStatuses: [crashLooping('migrate', 7), waitingFor('proxy', 'PodInitializing')],
      containerStatuses: [waitingFor('app', 'PodInitializing'), waitingFor('worker', 'PodInitializing')],
    },
    'Waiting for init containers',
    (answer) => {
      expect(byNameIn(answer.initContainers, 'migrate')).toMatchObject({
        state: { waiting: { reason: 'CrashLoopBackOff' } },
        lastState: { terminated: { exitCode: 7 } },
        restartCount: 3,
      });
    },
  ],

  // 3. Containers that never started in a failed pod
  [
    'a container that never started next to one that failed: what the remote says, and exit code 0',
    neverPod,
    {
      phase: 'Failed',
      initContainerStatuses: [done('migrate'), done('proxy')],
      containerStatuses: [exited('app', 1), waitingFor('worker', 'ImagePullBackOff')],
    },
    'Error: 1',
    (answer) => {
      expect(byNameIn(answer.containers, 'app')?.state.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
      expect(byNameIn(answer.containers, 'worker')?.state.terminated).toEqual({
        exitCode: 0,
        reason: NOT_STARTED_REASON,
        message: 'never started (ImagePullBackOff): the remote pod failed first (container "app" exited with code 1)',
      });
    },
  ],
  [
    'a pod failed before any container ran (deadline exceeded while pulling): non-zero, with the pod’s reason',
    neverPod,
    {
      phase: 'Failed',
      reason: 'DeadlineExceeded',
      message: 'Pod was active on the node longer than the specified deadline',
      initContainerStatuses: [done('migrate'), done('proxy')],
      containerStatuses: [waitingFor('app', 'ErrImagePull'), waitingFor('worker', 'ErrImagePull')],
    },
    'Error: 137',
    (answer) => {
      for (const c of answer.containers) {
        expect(c.state.terminated).toEqual({
          exitCode: 137,
          reason: 'DeadlineExceeded',
          message: 'Pod was active on the node longer than the specified deadline',
        });
      }
    },
  ],

  // 4. OOM kills
  [
    'an OOM kill under restartPolicy Never: reason OOMKilled and exit code 137 unchanged',
    neverPod,
    {
      phase: 'Failed',
      initContainerStatuses: [done('migrate'), exited('proxy', 143)],
      containerStatuses: [exited('app', 137, 'OOMKilled'), done('worker')],
    },
    // The VK rewrites every terminated reason to `Error: <code>`: locally the code is what tells.
    'Error: 137',
    (answer) => {
      expect(byNameIn(answer.containers, 'app')?.state.terminated).toEqual({
        exitCode: 137,
        reason: 'OOMKilled',
        startedAt: STARTED,
        finishedAt: STARTED,
      });
    },
  ],
  [
    'an OOM kill the kubelet is about to restart (restartPolicy Always): waiting, the kill as last state',
    localPod({ ...pod.spec, restartPolicy: 'Always' }),
    {
      phase: 'Running',
      initContainerStatuses: [done('migrate'), running('proxy')],
      containerStatuses: [exited('app', 137, 'OOMKilled', { restartCount: 1 }), running('worker')],
    },
    'Running',
    (answer) => {
      expect(byNameIn(answer.containers, 'app')).toMatchObject({
        state: { waiting: { reason: 'OOMKilled' } },
        lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', startedAt: STARTED, finishedAt: STARTED } },
        restartCount: 1,
        ready: false,
      });
    },
  ],
  [
    'an OOM-killed container in CrashLoopBackOff: its last state carries OOMKilled and 137',
    localPod({ ...pod.spec, restartPolicy: 'Always' }),
    {
      phase: 'Running',
      initContainerStatuses: [done('migrate'), running('proxy')],
      containerStatuses: [crashLooping('app', 137, 'OOMKilled'), running('worker')],
    },
    'Running',
    (answer) => {
      expect(byNameIn(answer.containers, 'app')?.lastState?.terminated).toMatchObject({ exitCode: 137, reason: 'OOMKilled' });
    },
  ],

  // 5. Restarts
  ...['Always', 'OnFailure'].map(
    (policy): Row => [
      `restartPolicy ${policy}: a container in CrashLoopBackOff stays waiting, restarts and last state kept`,
      single(policy),
      { phase: 'Running', containerStatuses: [crashLooping('app', 2)] },
      'Running',
      (answer) => {
        expect(answer.containers[0]).toMatchObject({
          state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container=app' } },
          lastState: { terminated: { exitCode: 2, reason: 'Error', startedAt: STARTED, finishedAt: STARTED } },
          restartCount: 3,
        });
      },
    ],
  ),
  ...['Always', 'OnFailure'].map(
    (policy): Row => [
      `restartPolicy ${policy}: a container that just failed, before the kubelet restarts it, is not the pod’s end`,
      single(policy),
      { phase: 'Running', containerStatuses: [exited('app', 2, 'Error', { restartCount: 3 })] },
      'Running',
      (answer) => {
        expect(answer.containers[0]).toMatchObject({
          state: { waiting: { reason: 'Error', message: `exited with code 2; the remote kubelet restarts it (restartPolicy ${policy})` } },
          lastState: { terminated: { exitCode: 2, reason: 'Error' } },
          restartCount: 3,
        });
      },
    ],
  ),
  [
    'restartPolicy Always: a container that exited 0 is restarted too',
    single('Always'),
    { phase: 'Running', containerStatuses: [done('app', { restartCount: 1 })] },
    'Running',
    (answer) => {
      expect(answer.containers[0]?.state).toEqual({
        waiting: { reason: 'Completed', message: 'exited with code 0; the remote kubelet restarts it (restartPolicy Always)' },
      });
    },
  ],
  [
    'restartPolicy OnFailure: a container that exited 0 is done',
    single('OnFailure'),
    { phase: 'Succeeded', containerStatuses: [done('app', { restartCount: 2 })] },
    'Completed',
    (answer) => {
      expect(answer.containers[0]).toMatchObject({ state: { terminated: { exitCode: 0 } }, restartCount: 2 });
    },
  ],
  [
    'restartPolicy Never: a failed container is the pod’s end, its state unchanged',
    single('Never'),
    { phase: 'Failed', containerStatuses: [exited('app', 2)] },
    'Error: 2',
    (answer) => {
      expect(answer.containers[0]?.state.terminated).toEqual({ exitCode: 2, reason: 'Error', startedAt: STARTED, finishedAt: STARTED });
    },
  ],
];

describe('toPodStatus: the phase InterLink’s VK derives from the answer is the remote phase', () => {
  it.each(phaseRows)('%s', (_title, local, remoteStatus, vkReason, check) => {
    const answer = toPodStatus(local, remotePod(remoteStatus));
    expect(PodStatusSchema.safeParse(answer).success).toBe(true);
    check(answer);
    const before: VkView = remoteStatus.phase === 'Pending' ? { phase: 'Pending', reason: '' } : { phase: 'Running', reason: 'Running' };
    const derived = vkDerive(answer, before);
    expect(derived.phase).toBe(remoteStatus.phase);
    if (vkReason !== undefined) expect(derived.reason).toBe(vkReason);
  });

  it('follows a pod with a native sidecar through its life: Pending, Running, Succeeded', () => {
    const remotes: NonNullable<RemotePodView['status']>[] = [
      { phase: 'Pending' },
      { phase: 'Pending', initContainerStatuses: [running('migrate', { ready: false }), waitingFor('proxy', 'PodInitializing')] },
      { phase: 'Pending', initContainerStatuses: [done('migrate'), running('proxy')] },
      { phase: 'Running', initContainerStatuses: [done('migrate'), running('proxy')], containerStatuses: [running('app'), running('worker')] },
      { phase: 'Running', initContainerStatuses: [done('migrate'), running('proxy')], containerStatuses: [done('app'), running('worker')] },
      { phase: 'Succeeded', initContainerStatuses: [done('migrate'), exited('proxy', 143)], containerStatuses: [done('app'), done('worker')] },
    ];
    const answers = remotes.map((r) => toPodStatus(neverPod, remotePod(r)));
    expect(vkPhases(answers)).toEqual(remotes.map((r) => r.phase));
  });

  it('keeps a crash-looping pod Running through its restarts (restartPolicy Always)', () => {
    const remotes: NonNullable<RemotePodView['status']>[] = [
      { phase: 'Running', containerStatuses: [running('app')] },
      { phase: 'Running', containerStatuses: [exited('app', 1)] },
      { phase: 'Running', containerStatuses: [crashLooping('app', 1)] },
      { phase: 'Running', containerStatuses: [running('app', { restartCount: 4 })] },
      { phase: 'Running', containerStatuses: [exited('app', 137, 'OOMKilled', { restartCount: 4 })] },
    ];
    const answers = remotes.map((r) => toPodStatus(single('Always'), remotePod(r)));
    expect(vkPhases(answers)).toEqual(remotes.map((r) => r.phase));
  });

  it('reports a lost remote pod so that the VK marks the local pod Failed', () => {
    expect(vkDerive(missingPodStatus(pod, REMOTE_UID), { phase: 'Running', reason: 'Running' })).toEqual({
      phase: 'Failed',
      reason: 'Error: 137',
    });
  });
});

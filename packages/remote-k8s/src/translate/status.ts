import type { ContainerStatus, Pod, PodStatus } from '@interlink-k8s/protocol';
import { BASTION_CONTAINER_NAME } from './tunnel.js';

/** A time as a cache may hold it: a `Date` (client-node models) or an RFC 3339 string (raw JSON). */
export type TimeValue = Date | string | null;

/** The part of a remote container state that status reads. */
export interface RemoteContainerState {
  waiting?: { reason?: string; message?: string } | null;
  running?: { startedAt?: TimeValue } | null;
  terminated?: {
    exitCode: number;
    signal?: number;
    reason?: string;
    message?: string;
    startedAt?: TimeValue;
    finishedAt?: TimeValue;
    containerID?: string;
  } | null;
}

/** The part of a remote container status that status reads. */
export interface RemoteContainerStatus {
  name: string;
  state?: RemoteContainerState | null;
  lastState?: RemoteContainerState | null;
  ready: boolean;
  restartCount: number;
  image: string;
  imageID: string;
  containerID?: string;
  started?: boolean;
}

/**
 * The part of a remote pod that status reads. A client-node `V1Pod` and the
 * raw JSON of a pod both fit.
 */
export interface RemotePodView {
  metadata?: { uid?: string } | null;
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    conditions?: readonly { type: string; status: string; reason?: string; message?: string }[] | null;
    containerStatuses?: readonly RemoteContainerStatus[] | null;
    initContainerStatuses?: readonly RemoteContainerStatus[] | null;
  } | null;
}

/** A container state as the status answer carries it. */
type ContainerState = ContainerStatus['state'];

/**
 * Exit code reported for a container that must be reported terminated
 * without a real exit code when nothing else in the answer says that the pod
 * failed (remote pod lost or evicted): 137, as the kubelet's
 * `ContainerStatusUnknown`. Non-zero, so the VK marks the pod Failed.
 */
export const UNKNOWN_EXIT_CODE = 137;
/**
 * Reason of the `terminated` state beside the real one of a native sidecar
 * that runs (or waits to restart): InterLink counts an init container as
 * initialised only when it is terminated.
 */
export const SIDECAR_STARTED_REASON = 'SidecarStarted';
/**
 * Reason of a container that never started in a remote pod that failed
 * because of another container: reported terminated with exit code 0, so
 * that the local pod's reason names the other container's exit code.
 */
export const NOT_STARTED_REASON = 'NotStarted';
/** Reason of every container of a pod whose remote pod was confirmed gone. */
export const REMOTE_POD_LOST_REASON = 'RemotePodLost';
/** Message of every container of a pod whose remote pod was confirmed gone. */
export const REMOTE_POD_LOST_MESSAGE =
  'The remote pod no longer exists on the remote cluster (deleted there, or lost with its node); ' +
  'what became of this container is unknown.';
/** Waiting reason of a container without a status, by default. */
export const CONTAINER_CREATING = 'ContainerCreating';
/** Waiting reason of an app container without a status while init containers run. */
export const POD_INITIALIZING = 'PodInitializing';

/** Options of {@link toPodStatus}. */
export interface StatusOptions {
  /** Waiting reason while the remote pod is not known yet (default `ContainerCreating`). */
  pendingReason?: string;
  /** Waiting message while the remote pod is not known yet. */
  pendingMessage?: string;
}

/**
 * An RFC 3339 time string (UTC, whole seconds, as Kubernetes writes them)
 * for a `Date` or a time string; `undefined` for anything else, for an
 * empty string and for Go's zero time, so that no empty string ever reaches
 * the Go decoder.
 */
export function toRfc3339(value: unknown): string | undefined {
  let date: Date;
  if (value instanceof Date) date = value;
  else if (typeof value === 'string' && value !== '') date = new Date(value);
  else return undefined;
  if (Number.isNaN(date.getTime()) || date.getUTCFullYear() <= 1) return undefined;
  return date.toISOString().replace(/\.\d+Z$/, 'Z');
}

const text = (value: string | undefined): string | undefined => (value === undefined || value === '' ? undefined : value);

/** Converts a remote container state; `undefined` when none of its three parts is set. */
function convertState(state: RemoteContainerState | null | undefined): ContainerState | undefined {
  const terminated = state?.terminated;
  if (terminated) {
    const startedAt = toRfc3339(terminated.startedAt);
    const finishedAt = toRfc3339(terminated.finishedAt);
    const reason = text(terminated.reason);
    const message = text(terminated.message);
    const containerID = text(terminated.containerID);
    return {
      terminated: {
        exitCode: terminated.exitCode,
        ...(terminated.signal === undefined ? {} : { signal: terminated.signal }),
        ...(reason === undefined ? {} : { reason }),
        ...(message === undefined ? {} : { message }),
        ...(startedAt === undefined ? {} : { startedAt }),
        ...(finishedAt === undefined ? {} : { finishedAt }),
        ...(containerID === undefined ? {} : { containerID }),
      },
    };
  }
  if (state?.running) {
    const startedAt = toRfc3339(state.running.startedAt);
    return { running: startedAt === undefined ? {} : { startedAt } };
  }
  if (state?.waiting) return { waiting: waiting(state.waiting.reason, state.waiting.message) };
  return undefined;
}

function waiting(reason: string | undefined, message: string | undefined): NonNullable<ContainerState['waiting']> {
  const r = text(reason);
  const m = text(message);
  return { ...(r === undefined ? {} : { reason: r }), ...(m === undefined ? {} : { message: m }) };
}

function convertStatus(remote: RemoteContainerStatus, fallback: ContainerState): ContainerStatus {
  const lastState = convertState(remote.lastState);
  const containerID = text(remote.containerID);
  return {
    name: remote.name,
    state: convertState(remote.state) ?? fallback,
    ...(lastState === undefined ? {} : { lastState }),
    ready: remote.ready,
    restartCount: remote.restartCount,
    image: remote.image,
    imageID: remote.imageID,
    ...(containerID === undefined ? {} : { containerID }),
    ...(remote.started === undefined ? {} : { started: remote.started }),
  };
}

/** A local container as far as status needs it. */
interface LocalContainer {
  name: string;
  image: string;
  /** A native sidecar: an init container with `restartPolicy: Always`. */
  sidecar: boolean;
  /** The container's own `restartPolicy`, if it sets one. */
  restartPolicy: string | undefined;
}

function localContainers(list: readonly { name: string; [key: string]: unknown }[] | null | undefined): LocalContainer[] {
  return (list ?? []).map((c) => ({
    name: c.name,
    image: typeof c.image === 'string' ? c.image : '',
    sidecar: c.restartPolicy === 'Always',
    restartPolicy: typeof c.restartPolicy === 'string' ? c.restartPolicy : undefined,
  }));
}

function synthesized(container: LocalContainer, state: ContainerState): ContainerStatus {
  return { name: container.name, state, ready: false, restartCount: 0, image: container.image, imageID: '' };
}

const byName = (statuses: readonly RemoteContainerStatus[] | null | undefined): Map<string, RemoteContainerStatus> =>
  new Map((statuses ?? []).map((s) => [s.name, s]));

/** Whether the remote kubelet ever started this container (a synthesized status never did). */
const hasRun = (s: ContainerStatus): boolean =>
  s.state.running !== undefined ||
  s.state.terminated !== undefined ||
  s.lastState?.terminated !== undefined ||
  s.restartCount > 0 ||
  s.started === true;

/** Whether the kubelet restarts a container that exited with `exitCode` under `policy`. */
const restarts = (policy: string, exitCode: number): boolean => policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);

/**
 * A container the remote kubelet is about to restart (its pod not ended):
 * `waiting`, with the termination as its last state, which is what the
 * kubelet reports a moment later. Reported `terminated`, it could be the
 * last container not terminated, and the VK would end the local pod for good
 * while the remote one restarts it.
 */
function restartPending(s: ContainerStatus, policy: string): ContainerStatus {
  const terminated = s.state.terminated;
  if (terminated === undefined || !restarts(policy, terminated.exitCode)) return s;
  return {
    ...s,
    ready: false,
    state: {
      waiting: {
        // The reason the kubelet shows for the terminated container (Error, OOMKilled, ...), so kubectl reads the same.
        reason: terminated.reason ?? (terminated.exitCode === 0 ? 'Completed' : 'Error'),
        message: `exited with code ${String(terminated.exitCode)}; the remote kubelet restarts it (restartPolicy ${policy})`,
      },
    },
    lastState: { terminated },
  };
}

const SIDECAR_NOTE = 'a native sidecar counts as initialised once started, and its exit code never decides the pod’s phase';

/**
 * A native sidecar of a remote pod that runs or has ended, as the VK must
 * see it: done initialising, with exit code 0. The VK counts an init
 * container as done only when its state has `terminated`, and takes any
 * non-zero exit code of one for the pod's failure; it reads `terminated`
 * before `running` and `waiting`. So a sidecar that runs (or waits to
 * restart) keeps its real state and gets a `terminated` state beside it,
 * and a sidecar that exited (killed with 137 or 143 when its pod ended)
 * reports exit code 0, its real code in the message.
 */
function sidecarInitialised(s: ContainerStatus): ContainerStatus {
  const { terminated, running, waiting } = s.state;
  if (terminated !== undefined) {
    if (terminated.exitCode === 0) return s;
    const detail = [terminated.reason, terminated.message].filter((t) => t !== undefined && t !== '').join(': ');
    return {
      ...s,
      state: {
        terminated: {
          ...terminated,
          exitCode: 0,
          message: `exited with code ${String(terminated.exitCode)}${detail === '' ? '' : ` (${detail})`}; ${SIDECAR_NOTE}`,
        },
      },
    };
  }
  const now =
    running !== undefined
      ? 'running on the remote cluster'
      : `waiting on the remote cluster${waiting?.reason === undefined ? '' : ` (${waiting.reason})`}`;
  const startedAt = running?.startedAt ?? undefined;
  return {
    ...s,
    state: {
      ...s.state,
      terminated: {
        exitCode: 0,
        reason: SIDECAR_STARTED_REASON,
        message: `${now}; ${SIDECAR_NOTE}`,
        ...(startedAt === undefined ? {} : { startedAt }),
      },
    },
  };
}

/**
 * The status answer for one local pod from its remote pod (from the cache;
 * `undefined` while it is not known). Name, namespace and `UID` are the
 * local pod's; `JID` is the remote pod's UID, or `''` while unknown.
 *
 * Every container and init container of the local spec is reported, in
 * spec order, so the VK never sees an empty list (which it would take for
 * "all terminated"):
 * - with a remote status: that status, times as RFC 3339 strings;
 * - without one: `waiting`, with the remote scheduler's reason and message
 *   when the remote pod is unschedulable, `PodInitializing` for app
 *   containers while init containers run, `ContainerCreating` otherwise
 *   (or `opts.pendingReason` while the remote pod is not known).
 *
 * Then the answer is shaped so that the phase InterLink's VK derives from it
 * (see TRANSLATION.md, "Status") equals the remote pod's phase:
 * - while the remote pod has not ended, an app container the kubelet is
 *   about to restart (restart policy `Always`, or `OnFailure` after a
 *   non-zero exit) is reported `waiting` with that termination as last state;
 * - once the remote pod runs or has ended, native sidecars count as
 *   initialised with exit code 0 (see `sidecarInitialised`);
 * - once it has ended, every container not terminated is reported
 *   terminated: exit code 0 if it Succeeded; if it Failed, exit code 0
 *   (reason {@link NOT_STARTED_REASON} for one that never ran) when another
 *   container's non-zero exit code already says why, so the VK's reason
 *   names that code, else {@link UNKNOWN_EXIT_CODE} with the pod's reason;
 *   and if a Failed pod's app containers all exited 0 (e.g.
 *   `DeadlineExceeded`), their exit codes become {@link UNKNOWN_EXIT_CODE}.
 *
 * Without a local spec, the containers reported are the remote statuses'
 * (none known as a native sidecar, the restart policy taken as `Always`).
 * Either way the TCP tunnel's bastion sidecar, which the local pod does not
 * have, is never reported and never counts (e.g. towards "init containers
 * done").
 */
export function toPodStatus(local: Pod, remote: RemotePodView | undefined, opts: StatusOptions = {}): PodStatus {
  const status = remote?.status;
  const remoteInit = byName(status?.initContainerStatuses);
  const remoteApp = byName(status?.containerStatuses);
  const inits = local.spec ? localContainers(local.spec.initContainers) : fromRemote(status?.initContainerStatuses);
  const apps = local.spec ? localContainers(local.spec.containers) : fromRemote(status?.containerStatuses);

  let pending: ContainerState;
  if (remote === undefined) {
    pending = { waiting: waiting(opts.pendingReason ?? CONTAINER_CREATING, opts.pendingMessage) };
  } else {
    const unschedulable = status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
    pending = unschedulable
      ? { waiting: waiting(text(unschedulable.reason) ?? 'Unschedulable', unschedulable.message) }
      : { waiting: { reason: CONTAINER_CREATING } };
  }
  const initsDone = inits.every((c) => {
    const state = remoteInit.get(c.name)?.state;
    return state?.terminated !== undefined || (c.sidecar && state?.running !== undefined);
  });
  const appPending: ContainerState =
    remote !== undefined && pending.waiting?.reason === CONTAINER_CREATING && !initsDone
      ? { waiting: { reason: POD_INITIALIZING } }
      : pending;

  const report = (containers: LocalContainer[], statuses: Map<string, RemoteContainerStatus>, fallback: ContainerState) =>
    containers.map((c) => {
      const found = statuses.get(c.name);
      return found ? convertStatus(found, fallback) : synthesized(c, fallback);
    });
  let initContainers = report(inits, remoteInit, pending);
  let containers = report(apps, remoteApp, appPending);

  const phase = status?.phase;
  const ended = phase === 'Succeeded' || phase === 'Failed';
  if (remote !== undefined && !ended) {
    const podPolicy = typeof local.spec?.restartPolicy === 'string' ? local.spec.restartPolicy : 'Always';
    containers = containers.map((s, i) => restartPending(s, apps[i]?.restartPolicy ?? podPolicy));
  }
  if (phase === 'Running' || ended) {
    // A running pod is past initialisation by definition; an ended one only for the sidecars that ever ran.
    initContainers = initContainers.map((s, i) =>
      inits[i]?.sidecar === true && (phase === 'Running' || hasRun(s)) ? sidecarInitialised(s) : s,
    );
  }
  if (phase === 'Succeeded') {
    const reason = text(status?.reason) ?? 'Completed';
    const message = text(status?.message) ?? 'the remote pod succeeded';
    const end = (s: ContainerStatus): ContainerStatus =>
      s.state.terminated ? s : { ...s, ready: false, state: { terminated: { exitCode: 0, reason, message } } };
    initContainers = initContainers.map(end);
    containers = containers.map(end);
  } else if (phase === 'Failed') {
    ({ initContainers, containers } = failed(status, initContainers, containers));
  }

  return {
    name: local.metadata.name,
    UID: local.metadata.uid,
    namespace: local.metadata.namespace,
    JID: remote?.metadata?.uid ?? '',
    containers,
    initContainers,
  };
}

const failedExit = (s: ContainerStatus): boolean => s.state.terminated !== undefined && s.state.terminated.exitCode !== 0;

/**
 * The containers of a Failed remote pod, every one terminated, so that the
 * VK marks the local pod Failed with a reason (`Error: <code>`) that names
 * the real failure. The VK takes the last non-zero exit code of the app
 * containers, or if they have none, of the init containers: a container
 * that never ran must not bring a code of its own.
 */
function failed(
  status: RemotePodView['status'],
  initContainers: ContainerStatus[],
  containers: ContainerStatus[],
): { initContainers: ContainerStatus[]; containers: ContainerStatus[] } {
  const podReason = text(status?.reason);
  const podMessage = text(status?.message);
  if (!initContainers.some(failedExit) && containers.every((s) => s.state.terminated?.exitCode === 0)) {
    // Every container exited 0, yet the pod failed: the VK would call it Succeeded.
    const reason = podReason ?? 'Error';
    const message = `exited 0, but the remote pod failed: ${podMessage ?? 'the remote pod failed'}`;
    containers = containers.map((s) => ({
      ...s,
      state: { terminated: { ...s.state.terminated, exitCode: UNKNOWN_EXIT_CODE, reason, message } },
    }));
  }
  // Init containers first: when one failed, no app container ran.
  const culprit = initContainers.find(failedExit) ?? containers.find(failedExit);
  let end: (s: ContainerStatus) => NonNullable<ContainerState['terminated']>;
  if (culprit === undefined) {
    // Nothing says why (evicted, lost, deadline while waiting): a non-zero code so the VK marks the pod Failed.
    const reason = podReason ?? 'Error';
    const message = podMessage ?? 'the remote pod failed';
    end = () => ({ exitCode: UNKNOWN_EXIT_CODE, reason, message });
  } else {
    const kind = initContainers.includes(culprit) ? 'init container' : 'container';
    const why =
      podReason !== undefined || podMessage !== undefined
        ? [podReason, podMessage].filter((t) => t !== undefined).join(': ')
        : `${kind} "${culprit.name}" exited with code ${String(culprit.state.terminated?.exitCode)}`;
    end = (s) => {
      if (hasRun(s)) {
        const was = s.state.running !== undefined ? 'running' : 'waiting to restart';
        return { exitCode: 0, reason: podReason ?? 'Error', message: `was ${was} when the remote pod failed (${why})` };
      }
      const w = s.state.waiting?.reason;
      return {
        exitCode: 0,
        reason: NOT_STARTED_REASON,
        message: `never started${w === undefined ? '' : ` (${w})`}: the remote pod failed first (${why})`,
      };
    };
  }
  const finish = (s: ContainerStatus): ContainerStatus =>
    s.state.terminated ? s : { ...s, ready: false, state: { terminated: end(s) } };
  return { initContainers: initContainers.map(finish), containers: containers.map(finish) };
}

/** The remote statuses as containers to report; the tunnel's bastion is the plugin's, not the pod's, and is left out. */
function fromRemote(statuses: readonly RemoteContainerStatus[] | null | undefined): LocalContainer[] {
  return (statuses ?? []).filter((s) => s.name !== BASTION_CONTAINER_NAME).map((s) => ({ name: s.name, image: s.image, sidecar: false, restartPolicy: undefined }));
}

/**
 * The status answer for a local pod whose remote pod was confirmed gone:
 * every container and init container terminated with exit code
 * {@link UNKNOWN_EXIT_CODE}, reason {@link REMOTE_POD_LOST_REASON} and a
 * message saying so, so the VK marks the pod Failed instead of waiting for
 * ever. `jid` is the remote pod's UID if it is still known.
 */
export function missingPodStatus(local: Pod, jid = ''): PodStatus {
  const state: ContainerState = {
    terminated: { exitCode: UNKNOWN_EXIT_CODE, reason: REMOTE_POD_LOST_REASON, message: REMOTE_POD_LOST_MESSAGE },
  };
  return {
    name: local.metadata.name,
    UID: local.metadata.uid,
    namespace: local.metadata.namespace,
    JID: jid,
    containers: localContainers(local.spec?.containers).map((c) => synthesized(c, state)),
    initContainers: localContainers(local.spec?.initContainers).map((c) => synthesized(c, state)),
  };
}

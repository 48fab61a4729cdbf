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
 * without a real exit code (remote pod lost, or failed before the container
 * ran): 137, as the kubelet's `ContainerStatusUnknown`. Non-zero, so the VK
 * marks the pod Failed.
 */
export const UNKNOWN_EXIT_CODE = 137;
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
  /** A native sidecar: an init container with `restartPolicy: Always`, done once running. */
  sidecar: boolean;
}

function localContainers(list: readonly { name: string; [key: string]: unknown }[] | null | undefined): LocalContainer[] {
  return (list ?? []).map((c) => ({
    name: c.name,
    image: typeof c.image === 'string' ? c.image : '',
    sidecar: c.restartPolicy === 'Always',
  }));
}

function synthesized(container: LocalContainer, state: ContainerState): ContainerStatus {
  return { name: container.name, state, ready: false, restartCount: 0, image: container.image, imageID: '' };
}

const byName = (statuses: readonly RemoteContainerStatus[] | null | undefined): Map<string, RemoteContainerStatus> =>
  new Map((statuses ?? []).map((s) => [s.name, s]));

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
 *   (or `opts.pendingReason` while the remote pod is not known);
 * - when the remote pod has ended (Succeeded or Failed), every container not
 *   terminated is reported terminated with the pod's reason and message
 *   (e.g. `Evicted`), exit code 0 if it Succeeded, {@link UNKNOWN_EXIT_CODE}
 *   if it Failed; and if a Failed pod's app containers all exited 0, their
 *   exit codes become {@link UNKNOWN_EXIT_CODE} so the local pod is Failed too.
 *
 * Without a local spec, the remote statuses are reported as they are.
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
  if (phase === 'Succeeded' || phase === 'Failed') {
    const reason = text(status?.reason) ?? (phase === 'Succeeded' ? 'Completed' : 'Error');
    const message = text(status?.message) ?? `the remote pod ${phase === 'Succeeded' ? 'succeeded' : 'failed'}`;
    const end = (s: ContainerStatus): ContainerStatus =>
      s.state.terminated
        ? s
        : {
            ...s,
            ready: false,
            state: {
              terminated: { exitCode: phase === 'Succeeded' ? 0 : UNKNOWN_EXIT_CODE, reason, message },
            },
          };
    initContainers = initContainers.map(end);
    containers = containers.map(end);
    if (phase === 'Failed' && containers.every((s) => s.state.terminated?.exitCode === 0)) {
      containers = containers.map((s) => ({
        ...s,
        state: {
          terminated: {
            ...s.state.terminated,
            exitCode: UNKNOWN_EXIT_CODE,
            reason,
            message: `exited 0, but the remote pod failed: ${message}`,
          },
        },
      }));
    }
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

/** The remote statuses as containers to report; the tunnel's bastion is the plugin's, not the pod's, and is left out. */
function fromRemote(statuses: readonly RemoteContainerStatus[] | null | undefined): LocalContainer[] {
  return (statuses ?? []).filter((s) => s.name !== BASTION_CONTAINER_NAME).map((s) => ({ name: s.name, image: s.image, sidecar: false }));
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

import type { LogStruct, Pod } from '@interlink-k8s/protocol';

/**
 * What the plugin reads off a local pod (or InterLink's request about one)
 * to decide how to act on the remote cluster: the log query, the deletion
 * grace period, whether InterLink acknowledged the create.
 */

/** Query parameters of a log request, named as the Kubernetes API names them. */
export interface LogQuery {
  container: string;
  follow?: boolean;
  previous?: boolean;
  timestamps?: boolean;
  tailLines?: number;
  limitBytes?: number;
  sinceSeconds?: number;
  sinceTime?: string;
}

/** InterLink's log options as the Kubernetes log API's query. */
export function toLogQuery(request: LogStruct): LogQuery {
  const opts = request.Opts;
  const query: LogQuery = { container: request.ContainerName };
  if (opts.Follow) query.follow = true;
  if (opts.Previous) query.previous = true;
  if (opts.Timestamps) query.timestamps = true;
  if (opts.Tail > 0) query.tailLines = opts.Tail;
  if (opts.Bytes > 0) query.limitBytes = opts.Bytes;
  // The API takes one of the two; a relative window wins, as in kubectl.
  if (opts.SinceSeconds > 0) query.sinceSeconds = opts.SinceSeconds;
  else if (opts.SinceTime !== undefined) query.sinceTime = opts.SinceTime;
  return query;
}

/**
 * The local pod's `metadata.deletionGracePeriodSeconds` (set once it is
 * being deleted: `kubectl delete --grace-period=1` gives 1), when it is a
 * whole number of seconds, 0 or more.
 */
export function deletionGracePeriodOf(pod: Pod): number | undefined {
  const value = pod.metadata.deletionGracePeriodSeconds;
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;
}

/**
 * The annotation InterLink's Virtual Kubelet sets on the local pod, to the
 * `PodJID` of the create answer, once the plugin acknowledged the create.
 */
export const VK_JOB_ID_ANNOTATION = 'JobID';

/** Whether InterLink has recorded a successful create for this pod. */
export function createAcknowledged(pod: Pod): boolean {
  const jid = pod.metadata.annotations?.[VK_JOB_ID_ANNOTATION];
  return jid !== undefined && jid !== '';
}

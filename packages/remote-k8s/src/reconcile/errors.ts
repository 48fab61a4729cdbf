import {
  ConflictError,
  NotFoundError,
  PluginError,
  RemoteError,
  RemoteUnavailableError,
  UnprocessableError,
} from '@interlink-k8s/protocol';
import { KubeApiError, type RemoteRequest, type StatusCause } from '@interlink-k8s/contract';

// The error of a failed Kubernetes API call is shared with the tunnel's REST client (one class, in the contract).
export { KubeApiError };
export type { RemoteRequest, StatusCause };

/** True when `err` is a remote answer with HTTP status `status`. */
export function hasStatus(err: unknown, status: number): err is KubeApiError {
  return err instanceof KubeApiError && err.status === status;
}

/** Describes a request for a message: `create pods in namespace "x"`. */
export function describeRequest(request: RemoteRequest): string {
  const where = request.namespace === undefined ? '' : ` in namespace "${request.namespace}"`;
  return `${request.verb} ${request.resource}${where}`;
}

// RBAC denials read `... is forbidden: User "u" cannot create resource "pods" ...`;
// other 403s come from admission (quota, PodSecurity, terminating namespace)
// and their own message is what a user needs to see.
const RBAC_DENIAL = /cannot ([a-z]+) resource/;

// Server-side apply of a field the remote API server's schema lacks (a local
// cluster newer than the remote one) is answered 500, but it is the content
// that is refused, not the server that failed.
const APPLY_SCHEMA_MISMATCH = /field not declared in schema|failed to create typed patch object/;

/**
 * Converts any error from a remote call into one of the project's named
 * errors, keeping the original as `cause`. Messages are short: InterLink
 * shows them to users as the pod's failure message.
 *
 * | remote answer | error |
 * |---|---|
 * | 404 | `NotFoundError` |
 * | 409 | `ConflictError` |
 * | 400, 422 | `UnprocessableError` (remote message kept) |
 * | 500 "field not declared in schema" (apply) | `UnprocessableError` |
 * | 401, 403 (RBAC) | `RemoteError`: the plugin's credentials lack permission |
 * | 403 (admission) | `RemoteError` with the remote message |
 * | 429, 5xx, no answer | `RemoteUnavailableError` |
 * | anything else | `RemoteError` |
 */
export function toPluginError(err: unknown, fallback?: RemoteRequest): PluginError {
  if (err instanceof PluginError) return err;
  if (!(err instanceof KubeApiError)) {
    const raw = typeof err === 'object' && err !== null ? (err as { message?: unknown }).message : err;
    const message = typeof raw === 'string' ? raw : 'unknown error';
    const what = fallback === undefined ? 'remote call' : describeRequest(fallback);
    return new RemoteError(`remote cluster: ${what} failed: ${message}`, { cause: err });
  }
  const { status, request } = err;
  const remoteMessage = err.message;
  const options = { cause: err };
  if (status === undefined) {
    return new RemoteUnavailableError(`remote cluster unreachable (${describeRequest(request)}): ${remoteMessage}`, options);
  }
  switch (status) {
    case 404:
      return new NotFoundError(`remote cluster: ${remoteMessage}`, options);
    case 409:
      return new ConflictError(`remote cluster: ${remoteMessage}`, options);
    case 400:
    case 422:
      return new UnprocessableError(`remote cluster refused to ${describeRequest(request)}: ${remoteMessage}`, options);
    case 401:
      return new RemoteError(
        `the plugin's remote credentials were rejected (401) for ${describeRequest(request)}`,
        { ...options, status },
      );
    case 403:
      if (RBAC_DENIAL.test(remoteMessage)) {
        // Name the verb RBAC denied, which is not always the request's: a
        // server-side apply (patch) that would create the object needs `create`.
        const denied = { ...request, verb: RBAC_DENIAL.exec(remoteMessage)?.[1] ?? request.verb };
        return new RemoteError(`the plugin's remote credentials lack permission to ${describeRequest(denied)}`, {
          ...options,
          status,
        });
      }
      return new RemoteError(`remote cluster refused to ${describeRequest(request)}: ${remoteMessage}`, {
        ...options,
        status,
      });
    case 429:
      return new RemoteUnavailableError(`remote cluster is throttling requests (429): ${remoteMessage}`, options);
    default:
      if (status === 500 && APPLY_SCHEMA_MISMATCH.test(remoteMessage)) {
        return new UnprocessableError(`remote cluster refused to ${describeRequest(request)}: ${remoteMessage}`, options);
      }
      if (status >= 500) {
        return new RemoteUnavailableError(`remote cluster unavailable (${status}): ${remoteMessage}`, options);
      }
      return new RemoteError(`remote cluster answered ${status} to ${describeRequest(request)}: ${remoteMessage}`, {
        ...options,
        status,
      });
  }
}

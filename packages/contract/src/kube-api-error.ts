/** What a Kubernetes API request was doing, in RBAC terms (for messages). */
export interface RemoteRequest {
  /** The RBAC verb: `get`, `list`, `watch`, `create`, `patch`, `delete`. */
  verb: string;
  /** The resource, plural (`pods`, `configmaps`, `pods/log`, ...). */
  resource: string;
  namespace?: string | undefined;
  name?: string | undefined;
}

/** One entry of a Kubernetes `Status.details.causes`. */
export interface StatusCause {
  type?: string;
  message?: string;
  field?: string;
}

/**
 * A failed call to a Kubernetes API (the plugin's remote cluster, the
 * gateway's local one): the HTTP status and the API's `Status` reason when
 * the server answered, `status: undefined` when it did not (connection
 * refused, reset, timeout). The plugin converts it into the project's named
 * errors at the boundary of `remote-k8s`.
 */
export class KubeApiError extends Error {
  /** HTTP status of the answer; `undefined` when no answer came. */
  readonly status: number | undefined;
  /** `Status.reason` of the answer (`NotFound`, `AlreadyExists`, `Expired`, ...). */
  readonly reason: string | undefined;
  /** The request that failed. */
  readonly request: RemoteRequest;
  /** `Status.details.causes` of the answer. */
  readonly causes: readonly StatusCause[];

  constructor(
    message: string,
    init: {
      status?: number | undefined;
      reason?: string | undefined;
      request: RemoteRequest;
      causes?: readonly StatusCause[];
      cause?: unknown;
    },
  ) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'KubeApiError';
    this.status = init.status;
    this.reason = init.reason;
    this.request = init.request;
    this.causes = init.causes ?? [];
  }
}

/**
 * The project's named errors. Every layer throws one of these (keeping the
 * original error as `cause`); the server maps `name` to an HTTP status.
 */
export class PluginError extends Error {
  /** Dotted path of the offending field, when one is to blame. */
  readonly field: string | undefined;

  constructor(message: string, options?: { cause?: unknown; field?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.field = options?.field;
  }
}

/** The request is malformed (HTTP 400). */
export class InputError extends PluginError {}

/** The thing asked about does not exist (HTTP 404). */
export class NotFoundError extends PluginError {}

/** The request conflicts with what exists, e.g. a name held by another pod (HTTP 409). */
export class ConflictError extends PluginError {}

/** The remote cluster refused the objects as invalid (HTTP 422). */
export class UnprocessableError extends PluginError {}

/** The remote cluster's API cannot be reached or is not ready (HTTP 503). */
export class RemoteUnavailableError extends PluginError {}

/** The remote cluster answered with an error that fits none of the above (HTTP 502). */
export class RemoteError extends PluginError {
  /** The remote API's status code, when it answered. */
  readonly status: number | undefined;

  constructor(message: string, options?: { cause?: unknown; field?: string; status?: number }) {
    super(message, options);
    this.status = options?.status;
  }
}

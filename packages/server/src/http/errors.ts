import type { ErrorBody } from '@interlink-k8s/protocol';
import { NotFoundError } from '@interlink-k8s/protocol';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from '../logger.js';
import { contextOf } from './context.js';
import { isErrorLike } from '../cross-realm-errors.js';

/** An error as the API answers it. */
export interface HttpError {
  status: number;
  code: string;
  message: string;
  field?: string;
}

/** The project's named errors (matched by `name`, so copies of the class from another build match too). */
const BY_NAME = new Map<string, { status: number; code: string }>([
  ['InputError', { status: 400, code: 'bad_request' }],
  ['NotFoundError', { status: 404, code: 'not_found' }],
  ['ConflictError', { status: 409, code: 'conflict' }],
  ['UnprocessableError', { status: 422, code: 'unprocessable' }],
  ['RemoteUnavailableError', { status: 503, code: 'remote_unavailable' }],
  ['RemoteError', { status: 502, code: 'remote_error' }],
]);

const CODE_BY_STATUS = new Map<number, string>([
  [413, 'payload_too_large'],
  [415, 'unsupported_media_type'],
]);

/** The message of every answer the server did not foresee; details go to the log, never to the client. */
export const INTERNAL_ERROR_MESSAGE = "internal error in the plugin; its log has the details (search for the request id)";

const property = (error: Error, key: string): unknown => (error as unknown as Record<string, unknown>)[key];

/**
 * Maps an error to its HTTP answer: the named errors by name, body-reading
 * errors (too large, aborted) by their status, everything else to a 500 with
 * a generic message.
 */
export function toHttpError(error: unknown, bodyLimitBytes?: number): HttpError {
  if (!isErrorLike(error)) return { status: 500, code: 'internal_error', message: INTERNAL_ERROR_MESSAGE };
  const named = BY_NAME.get(error.name);
  if (named !== undefined) {
    const field = property(error, 'field');
    return {
      ...named,
      message: error.message === '' ? error.name : error.message,
      ...(typeof field === 'string' && field !== '' ? { field } : {}),
    };
  }
  // body-parser's errors carry `type` and `status`, and `expose` when the message is fit for clients.
  if (property(error, 'type') === 'entity.too.large') {
    const limit = bodyLimitBytes === undefined ? '' : ` of ${Math.round(bodyLimitBytes / 1024 / 1024)} MiB (app.max_body_mib)`;
    return { status: 413, code: 'payload_too_large', message: `the request body is larger than the limit${limit}`, field: 'body' };
  }
  const status = property(error, 'status');
  if (typeof status === 'number' && status >= 400 && status < 500 && property(error, 'expose') === true) {
    return { status, code: CODE_BY_STATUS.get(status) ?? 'bad_request', message: error.message };
  }
  return { status: 500, code: 'internal_error', message: INTERNAL_ERROR_MESSAGE };
}

/** Options of {@link errorHandler}. */
export interface ErrorHandlerOptions {
  /** Used when the failing request has no context of its own. */
  logger: Logger;
  bodyLimitBytes?: number;
}

/**
 * The one error middleware: maps the error with {@link toHttpError}, logs it
 * (with the stack only for unforeseen errors) and answers the one error body
 * shape `{ error: { code, message, field?, requestId } }`. When the answer
 * has already started, the connection is closed instead.
 */
export function errorHandler(options: ErrorHandlerOptions): ErrorRequestHandler {
  // Express recognises an error handler by its four parameters.
  return (error: unknown, req, res, next) => {
    let requestId: string | undefined;
    let log = options.logger;
    try {
      ({ id: requestId, log } = contextOf(req));
    } catch {
      // no context: the root logger and no id
    }
    const http = toHttpError(error, options.bodyLimitBytes);
    if (http.code === 'internal_error') log.error({ err: error }, 'unexpected error');
    else log.warn({ status: http.status, code: http.code, reason: http.message }, 'request answered with an error');
    if (res.headersSent) {
      // Too late for an error body; a cut connection tells the client the answer is incomplete.
      req.socket.destroy();
      return;
    }
    const body: ErrorBody = {
      error: {
        code: http.code,
        message: http.message,
        ...(http.field === undefined ? {} : { field: http.field }),
        ...(requestId === undefined ? {} : { requestId }),
      },
    };
    try {
      res.status(http.status).json(body);
    } catch (writeError) {
      // Could not even answer: express's last-resort handler closes the exchange.
      next(writeError);
    }
  };
}

/** The last ordinary middleware: any request no route took is a 404 in the one error shape. */
export const notFound: RequestHandler = (req, _res, next) => {
  next(new NotFoundError(`no route for ${req.method} ${req.path}`));
};

import { InputError } from '@interlink-k8s/protocol';
import express, { type RequestHandler } from 'express';
import { contextOf } from './context.js';
import { redactSecrets } from './redact.js';
import { messageOf } from '../cross-realm-errors.js';

/** Options of {@link jsonBody}. */
export interface JsonBodyOptions {
  /** Largest body accepted; a larger one is answered 413. */
  limitBytes: number;
  /** Log the (redacted) body at debug level. */
  logBodies: boolean;
}

/**
 * Reads a JSON body on any method (InterLink sends GET with a body) and
 * whatever the `Content-Type` (clients differ; the body must be JSON anyway).
 * No body or an empty one leaves `req.body` undefined; malformed JSON is an
 * {@link InputError} naming `body`.
 */
export function jsonBody(options: JsonBodyOptions): RequestHandler[] {
  const read = express.raw({ type: () => true, limit: options.limitBytes });
  const parse: RequestHandler = (req, _res, next) => {
    const raw: unknown = req.body;
    let body: unknown = undefined;
    if (Buffer.isBuffer(raw)) {
      const text = raw.toString('utf8').replace(/^\uFEFF/, '');
      if (text.trim() !== '') {
        try {
          body = JSON.parse(text);
        } catch (error) {
          next(new InputError(`body: not valid JSON (${messageOf(error)})`, { field: 'body', cause: error }));
          return;
        }
      }
    }
    req.body = body;
    if (options.logBodies) contextOf(req).log.debug({ body: redactSecrets(body) }, 'request body');
    next();
  };
  return [read, parse];
}

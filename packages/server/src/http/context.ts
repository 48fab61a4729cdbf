import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';

/** What every handler knows about its request: its id and a logger that stamps it. */
export interface RequestContext {
  readonly id: string;
  readonly log: Logger;
}

/** The header InterLink sends on every call; its value is the request id. */
export const SESSION_HEADER = 'InterLink-Http-Session';
/** The response header that echoes the request id. */
export const REQUEST_ID_HEADER = 'X-Request-Id';

/** Printable ASCII, bounded: anything else is replaced by a generated id. */
const ACCEPTABLE_ID = /^[\x21-\x7e]{1,128}$/;

const contexts = new WeakMap<Request, RequestContext>();

/**
 * The context {@link requestContext} attached to the request.
 * @throws Error when that middleware did not run (a wiring mistake).
 */
export function contextOf(req: Request): RequestContext {
  const context = contexts.get(req);
  if (context === undefined) throw new Error('requestContext middleware is not installed');
  return context;
}

/** Options of {@link requestContext}. */
export interface RequestContextOptions {
  logger: Logger;
  metrics: Metrics;
  /** The paths the app serves, for the metrics' `route` label; anything else is `other`. */
  routes: readonly string[];
  /** Routes whose successful answers are logged at debug level (probes, scrapes, polling). */
  quietRoutes: readonly string[];
}

/**
 * First middleware: takes the request id from `InterLink-Http-Session` (or
 * makes one), echoes it in `X-Request-Id`, gives the request a child logger
 * carrying it, and when the answer is over logs one line and records metrics.
 */
export function requestContext(options: RequestContextOptions): RequestHandler {
  const routes = new Map(options.routes.map((r) => [normalise(r), r]));
  const quiet = new Set(options.quietRoutes);
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const header = req.get(SESSION_HEADER);
    const id = header !== undefined && ACCEPTABLE_ID.test(header) ? header : randomUUID();
    const log = options.logger.child({ requestId: id });
    contexts.set(req, { id, log });
    res.setHeader(REQUEST_ID_HEADER, id);
    const route = routes.get(normalise(req.path)) ?? 'other';
    const method = req.method;
    const url = req.originalUrl;
    res.once('close', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const status = res.statusCode;
      options.metrics.observeRequest({ method, route, status }, seconds);
      const entry = {
        method,
        url,
        route,
        status,
        durationMs: Math.round(seconds * 10_000) / 10,
        ...(res.writableFinished ? {} : { aborted: true }),
      };
      if (status >= 500) log.error(entry, 'request failed');
      else if (status >= 400) log.warn(entry, 'request refused');
      else if (quiet.has(route)) log.debug(entry, 'request');
      else log.info(entry, 'request');
    });
    next();
  };
}

/** Express matches paths case-insensitively and ignores a trailing slash; so does the route label. */
function normalise(path: string): string {
  const lower = path.toLowerCase();
  return lower.length > 1 ? lower.replace(/\/+$/, '') : lower;
}

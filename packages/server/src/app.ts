import {
  CreateRequestSchema,
  DeleteRequestSchema,
  LogStructSchema,
  StatusRequestSchema,
} from '@interlink-k8s/protocol';
import type { OffloadProvider, ReadinessCheck } from '@interlink-k8s/remote-k8s';
import express, { type Express, type Request, type RequestHandler, type Response } from 'express';
import type { z } from 'zod';
import { messageOf } from './cross-realm-errors.js';
import { buildApiDocument, type ReadinessSchema } from './http/api-doc.js';
import { jsonBody } from './http/body.js';
import { contextOf, requestContext } from './http/context.js';
import { DOCS_PAGE_CSP, renderDocsPage } from './http/docs-page.js';
import { errorHandler, notFound } from './http/errors.js';
import { streamLogs } from './http/logs.js';
import { ROUTES, ROUTE_PATHS, type RoutePath } from './http/routes.js';
import { parseInput } from './http/validate.js';
import type { Logger } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';

/** What {@link createApp} needs. */
export interface AppOptions {
  provider: OffloadProvider;
  logger: Logger;
  /** Defaults to a fresh set (with default process metrics). */
  metrics?: Metrics;
  /** Serve `/metrics`; default true. */
  metricsEnabled?: boolean;
  /** Path of the HTML API docs; default `/docs`. */
  docsPath?: string;
  /** Largest request body; default 64 MiB. */
  bodyLimitBytes?: number;
  /** Log request bodies (redacted) at debug level; default false. */
  logRequestBodies?: boolean;
  /** Version stated in the OpenAPI document. */
  version?: string;
  /** Aborted when the server starts shutting down: `/readyz` turns 503 and log streams end. */
  shutdown?: AbortSignal;
  /** How long a quiet log stream may hold back the 200 (an early error is still JSON); default 10 s. */
  logsHeaderDeadlineMs?: number;
  /** How long `/readyz` waits for the provider's checks before calling it not ready; default 5 s. */
  readinessTimeoutMs?: number;
}

/** Default for {@link AppOptions.bodyLimitBytes}. */
export const DEFAULT_BODY_LIMIT_BYTES = 64 * 1024 * 1024;

type Readiness = z.output<typeof ReadinessSchema>;

/**
 * Builds the plugin's express app: InterLink's endpoints (`/create`,
 * `/delete`, `/status`, `/getLogs`) answered by the provider, plus health,
 * readiness, metrics and the API docs. Every body is parsed with its zod
 * schema at the edge; every error leaves through one error middleware in one
 * body shape; success is always exactly 200.
 */
export function createApp(options: AppOptions): Express {
  const { provider, logger, shutdown } = options;
  const metrics = options.metrics ?? createMetrics();
  const docsPath = options.docsPath ?? '/docs';
  const bodyLimitBytes = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const metricsEnabled = options.metricsEnabled ?? true;
  const headerDeadlineMs = options.logsHeaderDeadlineMs ?? 10_000;
  const readinessTimeoutMs = options.readinessTimeoutMs ?? 5000;
  metrics.trackOffloadedPods(() => provider.offloadedPods());

  const apiDocument = buildApiDocument(options.version ?? '0.0.0');
  const docsPage = renderDocsPage(apiDocument);
  const body = jsonBody({ limitBytes: bodyLimitBytes, logBodies: options.logRequestBodies ?? false });

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use(
    requestContext({
      logger,
      metrics,
      routes: [...ROUTE_PATHS, docsPath],
      quietRoutes: ROUTE_PATHS.filter((path) => ROUTES[path].quiet),
    }),
  );

  // The handlers of every route of the table (null: not served), each answering all of its route's methods.
  const handlers: Record<RoutePath, readonly RequestHandler[] | null> = {
    // --- InterLink's API ----------------------------------------------------
    '/create': [
      ...body,
      async (req: Request, res: Response) => {
        const data = parseInput(CreateRequestSchema, req.body);
        res.status(200).json(await provider.create(data));
      },
    ],
    '/delete': [
      ...body,
      async (req: Request, res: Response) => {
        const pod = parseInput(DeleteRequestSchema, req.body);
        await provider.delete(pod);
        res.status(200).end();
      },
    ],
    '/status': [
      ...body,
      async (req: Request, res: Response) => {
        // No body, `null` and `[]` are all InterLink's ping.
        const pods = parseInput(StatusRequestSchema, req.body);
        if (pods.length === 0) res.status(200).json(await provider.ping());
        else res.status(200).json(await provider.status(pods));
      },
    ],
    '/getLogs': [
      ...body,
      async (req: Request, res: Response) => {
        const request = parseInput(LogStructSchema, req.body);
        await streamLogs(provider, request, res, { shutdown, headerDeadlineMs, log: contextOf(req).log });
      },
    ],

    // --- operations -----------------------------------------------------------
    '/healthz': [
      (_req, res) => {
        res.status(200).json({ status: 'ok' });
      },
    ],
    '/readyz': [
      async (_req, res) => {
        const checks = await readinessChecks(provider, shutdown, readinessTimeoutMs);
        const ready = checks.every((c) => c.ok);
        const answer: Readiness = { status: ready ? 'ready' : 'not ready', checks };
        res.status(ready ? 200 : 503).json(answer);
      },
    ],
    '/metrics': metricsEnabled
      ? [
          async (_req, res) => {
            const text = await metrics.registry.metrics();
            res.status(200).type(metrics.registry.contentType).send(text);
          },
        ]
      : null,
    '/openapi.json': [
      (_req, res) => {
        res.status(200).json(apiDocument);
      },
    ],
  };
  for (const path of ROUTE_PATHS) {
    const chain = handlers[path];
    if (chain === null) continue;
    for (const method of ROUTES[path].methods) app[method](path, ...chain);
  }

  app.get(docsPath, (_req, res) => {
    res.status(200).set('Content-Security-Policy', DOCS_PAGE_CSP).type('html').send(docsPage);
  });

  app.use(notFound);
  app.use(errorHandler({ logger, bodyLimitBytes }));
  return app;
}

/**
 * The provider's checks, plus a failing one while shutting down; a provider
 * that throws or does not answer in time is a failed check.
 */
async function readinessChecks(
  provider: OffloadProvider,
  shutdown: AbortSignal | undefined,
  timeoutMs: number,
): Promise<ReadinessCheck[]> {
  let checks: ReadinessCheck[];
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    checks = await Promise.race([provider.readiness(), timeout]);
  } catch (error) {
    checks = [{ name: 'provider', ok: false, message: messageOf(error) }];
  } finally {
    clearTimeout(timer);
  }
  if (shutdown?.aborted === true) checks = [...checks, { name: 'shutdown', ok: false, message: 'the server is shutting down' }];
  return checks;
}

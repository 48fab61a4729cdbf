import { buildOpenApiDocument } from '@interlink-k8s/protocol';
import { z } from 'zod';
import { ROUTE_PATHS, isOperationsPath, type OperationsPath } from './routes.js';

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const json = (schema: Record<string, unknown>) => ({ 'application/json': { schema } });

/** The operational endpoints the plugin serves besides InterLink's API. */
const operationalPaths: Record<OperationsPath, Record<string, unknown>> = {
  '/healthz': {
    get: {
      operationId: 'healthz',
      summary: 'Liveness: the process is up and serving.',
      responses: { '200': { description: 'Alive.', content: json({ $ref: '#/components/schemas/Health' }) } },
    },
  },
  '/readyz': {
    get: {
      operationId: 'readyz',
      summary: 'Readiness: every check of the provider passes (remote API reachable, caches synced).',
      responses: {
        '200': { description: 'Ready.', content: json({ $ref: '#/components/schemas/Readiness' }) },
        '503': { description: 'Not ready; the failing checks say why.', content: json({ $ref: '#/components/schemas/Readiness' }) },
      },
    },
  },
  '/metrics': {
    get: {
      operationId: 'metrics',
      summary: 'Prometheus metrics (when app.metrics_enabled).',
      responses: { '200': { description: 'Text exposition format.', content: { 'text/plain': { schema: { type: 'string' } } } } },
    },
  },
  '/openapi.json': {
    get: {
      operationId: 'openapi',
      summary: 'This document.',
      responses: { '200': { description: 'OpenAPI 3.1.', content: json({ type: 'object' }) } },
    },
  },
};

/** The body of `/healthz`. */
export const HealthSchema = z.object({ status: z.literal('ok') });

/** The body of `/readyz`. */
export const ReadinessSchema = z.object({
  status: z.enum(['ready', 'not ready']),
  checks: z.array(z.object({ name: z.string(), ok: z.boolean(), message: z.string().optional() })),
});

/**
 * The OpenAPI document the server publishes: InterLink's plugin API from
 * `@interlink-k8s/protocol` plus the operational endpoints.
 */
export function buildApiDocument(version: string): Record<string, unknown> {
  const base = buildOpenApiDocument({
    title: 'interlink-k8s plugin API',
    version,
    description:
      'The InterLink plugin API served by interlink-k8s, which offloads pods to a remote Kubernetes cluster. Every non-200 answer carries an ErrorBody.',
  });
  const interlinkPaths = isRecord(base.paths) ? base.paths : {};
  // In the order of the route table; InterLink's operations as the protocol package documents them.
  const paths = Object.fromEntries(
    ROUTE_PATHS.map((path) => [path, isOperationsPath(path) ? operationalPaths[path] : interlinkPaths[path]]),
  );
  const components = isRecord(base.components) ? base.components : {};
  const schemas = isRecord(components.schemas) ? components.schemas : {};
  return {
    ...base,
    paths,
    components: {
      ...components,
      schemas: {
        ...schemas,
        Health: z.toJSONSchema(HealthSchema),
        Readiness: z.toJSONSchema(ReadinessSchema),
      },
    },
  };
}

import { z } from 'zod';
import {
  ContainerLogOptsSchema,
  CreateRequestSchema,
  CreateStructSchema,
  DeleteRequestSchema,
  ErrorBodySchema,
  LogStructSchema,
  PingResponseSchema,
  PodStatusSchema,
  StatusRequestSchema,
} from './schemas.js';

/** Facts about the serving application that the document states. */
export interface OpenApiInfo {
  title: string;
  version: string;
  description?: string;
}

type JsonSchema = Record<string, unknown>;

const input = (schema: z.ZodType): JsonSchema =>
  z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
const output = (schema: z.ZodType): JsonSchema =>
  z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' });

const json = (schema: JsonSchema) => ({ 'application/json': { schema } });
const ok = (description: string, schema: JsonSchema) => ({ description, content: json(schema) });
const errorRef = { $ref: '#/components/schemas/ErrorBody' };
const errors = {
  '400': { description: 'The body is invalid; the message names the field.', content: json(errorRef) },
  '503': { description: 'The remote cluster is unreachable.', content: json(errorRef) },
  default: { description: 'Any other failure, with the remote reason.', content: json(errorRef) },
};

/**
 * Builds the OpenAPI 3.1 document of the InterLink plugin API from the zod
 * schemas, so the document can never drift from what the server validates.
 */
export function buildOpenApiDocument(info: OpenApiInfo): Record<string, unknown> {
  const schemas = {
    CreateRequest: input(CreateRequestSchema),
    CreateStruct: output(CreateStructSchema),
    Pod: input(DeleteRequestSchema),
    StatusRequest: input(StatusRequestSchema),
    PodStatus: output(PodStatusSchema),
    LogStruct: input(LogStructSchema),
    ContainerLogOpts: input(ContainerLogOptsSchema),
    PingResponse: output(PingResponseSchema),
    ErrorBody: output(ErrorBodySchema),
  };
  const ref = (name: keyof typeof schemas) => ({ $ref: `#/components/schemas/${name}` });
  const statusOp = (method: string) => ({
    operationId: `status${method}`,
    summary: 'Status of the given pods; an empty list is a ping and answers a PingResponse.',
    requestBody: { required: false, content: json(ref('StatusRequest')) },
    responses: {
      '200': ok('One PodStatus per known pod, or a PingResponse for an empty list.', {
        oneOf: [{ type: 'array', items: ref('PodStatus') }, ref('PingResponse')],
      }),
      ...errors,
    },
  });
  const logsOp = (method: string) => ({
    operationId: `getLogs${method}`,
    summary: 'Logs of one container, streamed as text; with Opts.Follow until the container ends.',
    requestBody: { required: true, content: json(ref('LogStruct')) },
    responses: {
      '200': { description: 'The log text.', content: { 'text/plain': { schema: { type: 'string' } } } },
      '404': { description: 'No such pod or container on the remote cluster.', content: json(errorRef) },
      ...errors,
    },
  });
  const deleteOp = (method: string) => ({
    operationId: `delete${method}`,
    summary: 'Removes the pod and everything created for it; 200 also when it never existed.',
    requestBody: { required: true, content: json(ref('Pod')) },
    responses: { '200': { description: 'Deleted (or nothing to delete).' }, ...errors },
  });
  return {
    openapi: '3.1.0',
    info,
    paths: {
      '/create': {
        post: {
          operationId: 'create',
          summary: 'Offloads a pod (idempotent: the same pod twice is one remote pod).',
          requestBody: { required: true, content: json(ref('CreateRequest')) },
          responses: {
            '200': ok('Created, or already there.', ref('CreateStruct')),
            '409': { description: 'The remote objects exist and belong to another pod.', content: json(errorRef) },
            '422': { description: 'The remote cluster refused the objects.', content: json(errorRef) },
            ...errors,
          },
        },
      },
      '/delete': { post: deleteOp('Post'), delete: deleteOp('Delete') },
      '/status': { get: statusOp('Get'), post: statusOp('Post') },
      '/getLogs': { get: logsOp('Get'), post: logsOp('Post') },
    },
    components: { schemas },
  };
}

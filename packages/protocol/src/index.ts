// Wire schemas (zod): parse what InterLink sends, validate what we answer
export {
  AcceleratorSchema,
  ConfigMapSchema,
  ContainerLogOptsSchema,
  ContainerStateSchema,
  ContainerStatusSchema,
  CreateRequestSchema,
  CreateStructSchema,
  DeleteRequestSchema,
  ErrorBodySchema,
  GO_ZERO_TIME,
  LogStructSchema,
  ObjectMetaSchema,
  PingResponseSchema,
  PodMetaSchema,
  PodSchema,
  PodStatusSchema,
  RetrievedContainerSchema,
  RetrievedPodDataSchema,
  SecretSchema,
  StatusRequestSchema,
  TaintSchema,
} from './schemas.js';

// Inferred types
export type {
  Accelerator,
  ConfigMap,
  ContainerLogOpts,
  ContainerStatus,
  CreateStruct,
  ErrorBody,
  LogStruct,
  PingResponse,
  Pod,
  PodStatus,
  RetrievedContainer,
  RetrievedPodData,
  Secret,
  Taint,
} from './types.js';

// OpenAPI document built from the schemas
export { buildOpenApiDocument } from './openapi.js';
export type { OpenApiInfo } from './openapi.js';

// Named errors shared by every layer
export {
  ConflictError,
  InputError,
  NotFoundError,
  PluginError,
  RemoteError,
  RemoteUnavailableError,
  UnprocessableError,
} from './errors.js';

// A client that calls a plugin as InterLink does (tests, benchmarks, tools)
export { exchange, openExchange, PluginCallError, PluginClient } from './client.js';
export type { ExchangeOptions, PluginAnswer, PluginTarget } from './client.js';

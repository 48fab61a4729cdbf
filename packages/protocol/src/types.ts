import type { z } from 'zod';
import type {
  ConfigMapSchema,
  ContainerLogOptsSchema,
  ContainerStatusSchema,
  CreateStructSchema,
  ErrorBodySchema,
  LogStructSchema,
  PingResponseSchema,
  PodSchema,
  PodStatusSchema,
  RetrievedContainerSchema,
  RetrievedPodDataSchema,
  SecretSchema,
  TaintSchema,
  AcceleratorSchema,
} from './schemas.js';

/** A pod as received from InterLink, after parsing. */
export type Pod = z.output<typeof PodSchema>;
/** A ConfigMap (or projected-volume map) as received from InterLink. */
export type ConfigMap = z.output<typeof ConfigMapSchema>;
/** A Secret as received from InterLink. */
export type Secret = z.output<typeof SecretSchema>;
/** The data objects of one container, after parsing (`null` slices are empty arrays). */
export type RetrievedContainer = z.output<typeof RetrievedContainerSchema>;
/** The create body, after parsing. */
export type RetrievedPodData = z.output<typeof RetrievedPodDataSchema>;
/** The create answer. */
export type CreateStruct = z.output<typeof CreateStructSchema>;
/** `v1.ContainerStatus` as this API answers it. */
export type ContainerStatus = z.output<typeof ContainerStatusSchema>;
/** One element of the status answer. */
export type PodStatus = z.output<typeof PodStatusSchema>;
/** Log options after parsing: defaults filled in, an unset `SinceTime` is `undefined`. */
export type ContainerLogOpts = z.output<typeof ContainerLogOptsSchema>;
/** The logs request after parsing. */
export type LogStruct = z.output<typeof LogStructSchema>;
/** The ping answer. */
export type PingResponse = z.output<typeof PingResponseSchema>;
/** An accelerator entry of the ping answer. */
export type Accelerator = z.output<typeof AcceleratorSchema>;
/** A taint entry of the ping answer. */
export type Taint = z.output<typeof TaintSchema>;
/** The error body of every non-200 answer. */
export type ErrorBody = z.output<typeof ErrorBodySchema>;

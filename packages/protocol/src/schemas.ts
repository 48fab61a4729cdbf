import { z } from 'zod';

/**
 * Go encodes a nil slice as `null`; InterLink sends both `null` and `[]`, and
 * older versions omit the field. All three mean "empty".
 */
const goSlice = <T extends z.ZodType>(item: T) =>
  z
    .array(item)
    .nullish()
    .transform((v): z.output<T>[] => v ?? []);

/** A Kubernetes object's metadata as far as this API needs it; other fields pass through. */
export const ObjectMetaSchema = z.looseObject({
  name: z.string().min(1),
  namespace: z.string().optional(),
  uid: z.string().optional(),
  labels: z.record(z.string(), z.string()).nullish(),
  annotations: z.record(z.string(), z.string()).nullish(),
});

/** The metadata of a pod: name, namespace and UID are what every call is keyed on. */
export const PodMetaSchema = ObjectMetaSchema.extend({
  namespace: z.string().min(1),
  uid: z.string().min(1),
});

/**
 * A `v1.Pod` as InterLink sends it. Only the identity is checked here; the
 * spec and status are carried over as they are (unknown fields kept).
 */
export const PodSchema = z.looseObject({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: PodMetaSchema,
  spec: z
    .looseObject({
      containers: z.array(z.looseObject({ name: z.string().min(1) })).min(1),
      initContainers: z.array(z.looseObject({ name: z.string().min(1) })).nullish(),
    })
    .optional(),
  status: z.looseObject({}).nullish(),
});

/** A `v1.ConfigMap`; also the shape of projected-volume maps. `binaryData` values are base64. */
export const ConfigMapSchema = z.looseObject({
  metadata: ObjectMetaSchema,
  data: z.record(z.string(), z.string()).nullish(),
  binaryData: z.record(z.string(), z.string()).nullish(),
  immutable: z.boolean().nullish(),
});

/** A `v1.Secret`; `data` values are base64, `stringData` plain. */
export const SecretSchema = z.looseObject({
  metadata: ObjectMetaSchema,
  data: z.record(z.string(), z.string()).nullish(),
  stringData: z.record(z.string(), z.string()).nullish(),
  type: z.string().nullish(),
  immutable: z.boolean().nullish(),
});

/** What InterLink gathered for one (init) container: the data objects it mounts. */
export const RetrievedContainerSchema = z.looseObject({
  name: z.string().min(1),
  configMaps: goSlice(ConfigMapSchema),
  projectedvolumemaps: goSlice(ConfigMapSchema),
  secrets: goSlice(SecretSchema),
  /** Deprecated by InterLink and always null; kept for completeness. */
  emptyDirs: goSlice(z.string()),
});

/** The create body (InterLink 0.5.0 and later). `jobConfig` and `jobScript` are for batch plugins and ignored. */
export const RetrievedPodDataSchema = z.looseObject({
  pod: PodSchema,
  container: goSlice(RetrievedContainerSchema),
  jobConfig: z.unknown().optional(),
  jobScript: z.string().nullish(),
});

/**
 * `POST /create` accepts one `RetrievedPodData` (0.5.0+) or the pre-0.5.0
 * array holding exactly one; both parse to the object.
 */
export const CreateRequestSchema = z.preprocess((body, ctx) => {
  if (!Array.isArray(body)) return body;
  // Unwrapping (rather than a union) keeps error paths such as
  // `pod.metadata.uid` pointing at the field, whichever form was sent.
  if (body.length !== 1) {
    ctx.addIssue({ code: 'custom', message: `a create array must hold exactly one pod, got ${body.length}` });
    return z.NEVER;
  }
  return body[0] as unknown;
}, RetrievedPodDataSchema);

/** The create answer: the local pod UID and the remote identity (the remote pod's UID). */
export const CreateStructSchema = z.object({
  PodUID: z.string(),
  PodJID: z.string(),
});

/** `v1.ContainerStateWaiting` */
export const ContainerStateWaitingSchema = z.looseObject({
  reason: z.string().optional(),
  message: z.string().optional(),
});

/** `v1.ContainerStateRunning`; `startedAt` RFC 3339 or absent, never an empty string. */
export const ContainerStateRunningSchema = z.looseObject({
  startedAt: z.iso.datetime({ offset: true }).nullish(),
});

/** `v1.ContainerStateTerminated` */
export const ContainerStateTerminatedSchema = z.looseObject({
  exitCode: z.number().int(),
  signal: z.number().int().optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
  startedAt: z.iso.datetime({ offset: true }).nullish(),
  finishedAt: z.iso.datetime({ offset: true }).nullish(),
  containerID: z.string().optional(),
});

/** `v1.ContainerState`: at most one of the three is set. */
export const ContainerStateSchema = z.looseObject({
  waiting: ContainerStateWaitingSchema.optional(),
  running: ContainerStateRunningSchema.optional(),
  terminated: ContainerStateTerminatedSchema.optional(),
});

/** `v1.ContainerStatus` */
export const ContainerStatusSchema = z.looseObject({
  name: z.string(),
  state: ContainerStateSchema,
  lastState: ContainerStateSchema.optional(),
  ready: z.boolean(),
  restartCount: z.number().int(),
  image: z.string(),
  imageID: z.string(),
  containerID: z.string().optional(),
  started: z.boolean().optional(),
});

/** One element of the status answer. `UID` is the local pod UID, `JID` the remote identity. */
export const PodStatusSchema = z.object({
  name: z.string(),
  UID: z.string(),
  namespace: z.string(),
  JID: z.string(),
  containers: z.array(ContainerStatusSchema),
  initContainers: z.array(ContainerStatusSchema),
});

/** `GET|POST /status` body: whole pods. An empty list is InterLink's ping. */
export const StatusRequestSchema = goSlice(PodSchema);

/**
 * `POST|DELETE /delete` body: the pod to remove. A pod deleted through the
 * local API carries `deletionGracePeriodSeconds` (e.g. 1 after `kubectl
 * delete --grace-period=1`), which the remote delete takes over.
 */
export const DeleteRequestSchema = PodSchema.extend({
  metadata: PodMetaSchema.extend({
    deletionGracePeriodSeconds: z
      .number({ error: 'expected a whole number of seconds' })
      .int({ error: 'expected a whole number of seconds' })
      .min(0, { error: 'expected 0 or more seconds' })
      .nullish(),
  }),
});

/** Go's zero `time.Time`, which InterLink sends for an unset `SinceTime`. */
export const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

/** Log options. `Bytes` is InterLink's name for the byte limit (not `LimitBytes`). */
export const ContainerLogOptsSchema = z.looseObject({
  Tail: z.number().int().min(0).optional().default(0),
  Bytes: z.number().int().min(0).optional().default(0),
  Timestamps: z.boolean().optional().default(false),
  Follow: z.boolean().optional().default(false),
  Previous: z.boolean().optional().default(false),
  SinceSeconds: z.number().int().min(0).optional().default(0),
  SinceTime: z
    .union([z.iso.datetime({ offset: true }), z.literal(''), z.null()])
    .optional()
    .transform((v) => (v === undefined || v === null || v === '' || v.startsWith('0001-01-01') ? undefined : v)),
});

/** `GET|POST /getLogs` body. */
export const LogStructSchema = z.looseObject({
  Namespace: z.string().min(1),
  PodUID: z.string().min(1),
  PodName: z.string().min(1),
  ContainerName: z.string().min(1),
  Opts: ContainerLogOptsSchema.optional().default({
    Tail: 0,
    Bytes: 0,
    Timestamps: false,
    Follow: false,
    Previous: false,
    SinceSeconds: 0,
    SinceTime: undefined,
  }),
});

/** An extended resource the remote cluster offers, such as `nvidia.com/gpu`. */
export const AcceleratorSchema = z.object({
  resourceType: z.string(),
  available: z.string(),
});

/** A taint the virtual node should carry. */
export const TaintSchema = z.object({
  key: z.string(),
  value: z.string().optional(),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']),
});

/** The ping answer (understood by InterLink 0.6.2 and later). Quantities are Kubernetes quantity strings. */
export const PingResponseSchema = z.object({
  status: z.string(),
  resources: z
    .object({
      cpu: z.string().optional(),
      memory: z.string().optional(),
      pods: z.string().optional(),
      accelerators: z.array(AcceleratorSchema).optional(),
    })
    .optional(),
  taints: z.array(TaintSchema).optional(),
});

/** The one error body every non-200 answer carries. */
export const ErrorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    field: z.string().optional(),
    requestId: z.string().optional(),
  }),
});

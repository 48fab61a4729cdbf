import { parse } from 'yaml';
import { z } from 'zod';

/** A pod phase, what `check_pods[].status` names. */
export const PodPhaseSchema = z.enum(['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown']);
/** How `check_logs[]` compares the matches of its regex. */
export const LogOperatorSchema = z.enum(['Exists', 'CountAtLeast', 'CountAtMost', 'CountExactly', 'Is']);
/** What `clean_configs[]` can delete. */
export const CleanableSchema = z.enum(['pod', 'namespace', 'service', 'config_map', 'secret']);
/** When `clean_configs[]` deletes. */
export const CleanConditionSchema = z.enum(['always', 'never', 'onSuccess', 'onFailure']);

/** `check_pods[]`: the pod (or, for a name ending in `-`, the pods with that prefix) must reach `status`. */
export const CheckPodSchema = z.strictObject({
  name: z.string().min(1),
  namespace: z.string().min(1),
  status: PodPhaseSchema.default('Succeeded'),
});

/** `check_logs[]`: a regex applied to a container's log, its matches compared by `operator`. */
export const CheckLogsSchema = z
  .strictObject({
    name: z.string().min(1),
    namespace: z.string().min(1),
    regex: z.string(),
    operator: LogOperatorSchema.default('Exists'),
    container: z.string().nullish(),
    value: z.union([z.string(), z.number()]).nullish(),
  })
  .superRefine((check, ctx) => {
    // Upstream would crash on `int(None)` at the first try; say it up front.
    const counting = check.operator !== 'Exists' && check.operator !== 'Is';
    if (check.operator === 'Is' && (check.value === undefined || check.value === null)) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: 'operator Is needs a value' });
    }
    if (counting && !Number.isInteger(Number(check.value ?? Number.NaN))) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: `operator ${check.operator} needs an integer value` });
    }
  });

/** `clean_configs[]`: an object deleted once the checks are over, depending on their outcome. */
export const CleanConfigSchema = z.strictObject({
  type: CleanableSchema,
  name: z.string().min(1),
  namespace: z.string().min(1),
  condition: CleanConditionSchema.default('always'),
});

/** The validation document of a template (the part below `# VALIDATION`), upstream's defaults included. */
export const ValidationProcedureSchema = z.strictObject({
  timeout_seconds: z.number().nonnegative().default(60),
  check_pods: z.array(CheckPodSchema).default([]),
  check_logs: z.array(CheckLogsSchema).default([]),
  clean_configs: z.array(CleanConfigSchema).default([]),
});

export type PodPhase = z.infer<typeof PodPhaseSchema>;
export type LogOperator = z.infer<typeof LogOperatorSchema>;
export type Cleanable = z.infer<typeof CleanableSchema>;
export type CleanCondition = z.infer<typeof CleanConditionSchema>;
export type CheckPod = z.infer<typeof CheckPodSchema>;
export type CheckLogs = z.infer<typeof CheckLogsSchema>;
export type CleanConfig = z.infer<typeof CleanConfigSchema>;
export type ValidationProcedure = z.infer<typeof ValidationProcedureSchema>;

/**
 * Parses a validation document as the upstream runner does (PyYAML, which
 * reads YAML 1.1; pydantic models that refuse unknown fields). `undefined`
 * or an empty document gives the defaults: 60 s, no checks, no clean-up.
 */
export function parseValidation(yamlText: string | undefined): ValidationProcedure {
  const doc: unknown = yamlText === undefined ? undefined : parse(yamlText, { version: '1.1' });
  const result = ValidationProcedureSchema.safeParse(doc ?? {});
  if (!result.success) throw new Error(`invalid validation document: ${z.prettifyError(result.error)}`);
  return result.data;
}

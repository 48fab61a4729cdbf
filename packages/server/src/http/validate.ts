import { InputError } from '@interlink-k8s/protocol';
import type { z } from 'zod';
import { formatIssues, formatPath } from '../issues.js';

/**
 * Parses a request body with its schema, at the route's edge.
 * @throws InputError whose message names each failing field
 * (`pod.metadata.uid: ...`) and whose `field` is the first of them.
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const first = result.error.issues[0];
  throw new InputError(formatIssues(result.error.issues, 'body'), {
    field: formatPath(first?.path ?? [], 'body'),
    cause: result.error,
  });
}

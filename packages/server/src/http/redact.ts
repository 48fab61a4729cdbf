const REDACTED = '[redacted]';

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A copy of a request body fit for the log: every `secrets` list is replaced
 * whole; the `data` / `stringData` of any Secret and the data of projected
 * volume maps (they carry service-account tokens) are replaced; so is the
 * literal value of every env variable, because the virtual kubelet resolves
 * `secretKeyRef` references into plain values before the plugin sees them
 * and nothing tells them apart any more.
 */
export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  const isSecret = value.kind === 'Secret';
  for (const [key, inner] of Object.entries(value)) {
    if (key === 'secrets' && Array.isArray(inner)) {
      out[key] = `${REDACTED} ${inner.length} secret(s)`;
    } else if (key === 'projectedvolumemaps' && Array.isArray(inner)) {
      out[key] = inner.map((map) => (isRecord(map) ? { ...map, data: REDACTED, binaryData: REDACTED } : REDACTED));
    } else if (isSecret && (key === 'data' || key === 'stringData')) {
      out[key] = REDACTED;
    } else if (key === 'env' && Array.isArray(inner)) {
      out[key] = inner.map((variable) =>
        isRecord(variable) && typeof variable.value === 'string' ? { ...variable, value: REDACTED } : redactSecrets(variable),
      );
    } else {
      out[key] = redactSecrets(inner);
    }
  }
  return out;
}

/**
 * Error checks that work across realms: errors made by Node's core (socket
 * and file errors) are not `instanceof Error` inside a test's VM context, so
 * the shape is checked instead.
 */

/** Whether the value looks like an Error (has a string `name` and `message`). */
export function isErrorLike(value: unknown): value is Error {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { name?: unknown }).name === 'string' &&
    typeof (value as { message?: unknown }).message === 'string'
  );
}

/** The error's message, or the value as text. */
export function messageOf(value: unknown): string {
  return isErrorLike(value) ? value.message : String(value);
}

/** The `code` of a system error (`ENOENT`, ...), if any. */
export function codeOf(value: unknown): unknown {
  return typeof value === 'object' && value !== null && 'code' in value ? value.code : undefined;
}

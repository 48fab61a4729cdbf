/**
 * Checks for errors that may come from Node's core (socket, file and abort
 * errors): under jest, which runs each test file in a VM context of its own,
 * those are not `instanceof Error` of the code under test, so their shape is
 * checked instead. Why this stays in production code, and why the error
 * middleware maps the project's named errors by name:
 * docs/adr/0008-errors-across-jest-realms.md.
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

/**
 * The entry points' logger: one JSON object per line, in the shape pino
 * writes with our settings (`level` as a word, ISO `time`, `service`, the
 * fields, `msg`; an `err` field as `{type, message, stack, ...}`), so log
 * pipelines need not care. Not pino itself: in the gateway pino weighed on
 * the memory budget for a few lines per connection (docs/benchmarks.md,
 * "Memory"; docs/adr/0010-gateway-memory-budget.md).
 */

import { messageOf } from '../errors.js';

/** The level names, most severe first, and `silent`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Structured fields of one line. */
export type LogFields = Readonly<Record<string, unknown>>;

/** Writes at one level: fields and a message, or only a message. */
export type LogMethod = (fieldsOrMessage: LogFields | string, message?: string) => void;

/** A logger writing JSON lines. */
export type Logger = Readonly<Record<Exclude<LogLevel, 'silent'>, LogMethod>>;

/** An error as pino's standard serializer shows it, its own enumerable properties (e.g. `code`) and its cause included. */
export function serializeError(error: unknown, seen = new Set<unknown>()): unknown {
  if (!(error instanceof Error)) return error;
  if (seen.has(error)) return '[Circular]';
  seen.add(error);
  const out: Record<string, unknown> = { type: error.constructor.name, message: error.message, stack: error.stack };
  for (const [key, value] of Object.entries(error)) {
    if (!(key in out)) out[key] = value;
  }
  if (error.cause !== undefined) out.cause = serializeError(error.cause, seen);
  return out;
}

const rank = (level: LogLevel) => LOG_LEVELS.length - 1 - LOG_LEVELS.indexOf(level);

/**
 * A logger for `service` that writes lines at `level` and more severe
 * through `write` (default: standard output, which is synchronous for files
 * and pipes on Linux, so the last lines before an exit are not lost).
 */
export function createLogger(service: string, level: LogLevel, write: (line: string) => void = (line) => process.stdout.write(line)): Logger {
  const threshold = level === 'silent' ? Infinity : rank(level);
  const method = (name: Exclude<LogLevel, 'silent'>): LogMethod => {
    if (rank(name) < threshold) return () => undefined;
    return (fieldsOrMessage, message) => {
      const fields = typeof fieldsOrMessage === 'string' ? {} : fieldsOrMessage;
      const msg = typeof fieldsOrMessage === 'string' ? fieldsOrMessage : message;
      const entry: Record<string, unknown> = { level: name, time: new Date().toISOString(), service, ...fields };
      if ('err' in fields) entry.err = serializeError(fields.err);
      if (msg !== undefined) entry.msg = msg;
      let line: string;
      try {
        line = JSON.stringify(entry);
      } catch (error) {
        // A field that cannot be written (a cycle, a BigInt) must not cost the line.
        line = JSON.stringify({ level: name, time: entry.time, service, msg, logError: messageOf(error) });
      }
      write(`${line}\n`);
    };
  };
  return { fatal: method('fatal'), error: method('error'), warn: method('warn'), info: method('info'), debug: method('debug'), trace: method('trace') };
}

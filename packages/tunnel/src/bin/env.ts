import { isIP } from 'node:net';
import { z } from 'zod';
import { SUPPORTED_CIPHERS } from '../ciphers.js';
import { decodeInlineKey } from '../keys.js';
import { MIN_POD_KEY_SECRET_BYTES } from '../pod-keys.js';

/** The environment, as `process.env` is. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** Reads a file's text; `undefined` when it does not exist (any other failure throws). */
export type FileReader = (path: string) => string | undefined;

/** A configuration that cannot be used; one line per bad variable, each naming it. */
export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** One environment variable: its default, its meaning (for the README) and its parser. */
export interface EnvVar<T> {
  readonly name: string;
  /** As it would be written in the environment; `undefined`: required or unset by default. */
  readonly default: string | undefined;
  readonly required: boolean;
  readonly description: string;
  readonly schema: z.ZodType<T, string | undefined>;
}

/** Declares a variable; an empty value counts as unset (Kubernetes writes `""` for an absent optional key). */
export function envVar<T>(name: string, spec: { default?: string; required?: boolean; description: string; schema: z.ZodType<T, string | undefined> }): EnvVar<T> {
  return { name, default: spec.default, required: spec.required ?? false, description: spec.description, schema: spec.schema };
}

type Values<V extends Record<string, EnvVar<unknown>>> = { readonly [K in keyof V]: V[K] extends EnvVar<infer T> ? T : never };

/** Reads and checks every variable; throws {@link ConfigError} listing every problem, each prefixed with the variable name. */
export function readEnv<V extends Record<string, EnvVar<unknown>>>(vars: V, env: Environment): Values<V> {
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, spec] of Object.entries(vars)) {
    const raw = env[spec.name]?.trim();
    const text = raw === undefined || raw === '' ? spec.default : raw;
    if (text === undefined && spec.required) {
      problems.push(`${spec.name}: required`);
      continue;
    }
    const result = spec.schema.safeParse(text);
    if (result.success) values[key] = result.data;
    else problems.push(`${spec.name}: ${result.error.issues.map((issue) => issue.message).join('; ')}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(values) as Values<V>;
}

// --- value parsers ----------------------------------------------------------

/** A whole number in [min, max]. */
export const integer = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, { error: 'expected a whole number' })
    .transform(Number)
    .pipe(z.number().min(min, { error: `expected at least ${min}` }).max(max, { error: `expected at most ${max}` }));

/** `true` or `false`. */
export const bool = () => z.enum(['true', 'false'], { error: 'expected true or false' }).transform((text) => text === 'true');

/** An IPv4 or IPv6 address. */
export const ipAddress = () => z.string().refine((text) => isIP(text) !== 0, { error: 'expected an IPv4 or IPv6 address' });

/** Loopback and link-local addresses, which the API server refuses in EndpointSlices. */
const NOT_AN_ENDPOINT = /^(127\.|169\.254\.|::1$|fe[89ab][0-9a-f]:)/i;

/** An address other pods can reach and an EndpointSlice may hold: not loopback, not link-local. */
export const endpointAddress = () =>
  ipAddress().refine((text) => !NOT_AN_ENDPOINT.test(text), { error: 'loopback and link-local addresses cannot be endpoints: give the pod IP' });

/** A TCP port; `allowZero` for "pick a free one". */
export const port = (allowZero = false) => integer(allowZero ? 0 : 1, 65535);

/** A host name or IP address (no scheme, no port). */
export const host = () => z.string().regex(/^[A-Za-z0-9.:_-]+$/, { error: 'expected a host name or IP address' });

/** `MIN-MAX`, an inclusive port range. */
export const portRange = () =>
  z
    .string()
    .transform((text, ctx) => {
      const match = /^(\d+)-(\d+)$/.exec(text);
      const min = Number(match?.[1]);
      const max = Number(match?.[2]);
      if (match === null || min < 1 || max > 65535 || min > max) {
        ctx.addIssue({ code: 'custom', message: 'expected MIN-MAX with 1 <= MIN <= MAX <= 65535 (e.g. 20000-20999)' });
        return z.NEVER;
      }
      return { min, max };
    });

/** A comma-separated cipher list, each one of {@link SUPPORTED_CIPHERS}. */
export const ciphers = () =>
  z
    .string()
    .transform((text) => text.split(',').map((name) => name.trim()))
    .pipe(z.array(z.enum(SUPPORTED_CIPHERS, { error: `expected a comma-separated list of: ${SUPPORTED_CIPHERS.join(', ')}` })));

/** pino's level names. */
export const logLevel = () => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { error: 'expected fatal, error, warn, info, debug, trace or silent' });

/**
 * Key material: the path of a file, or the key inline (PEM / OpenSSH text,
 * or that text base64-encoded). A file may itself hold base64 text. `check`
 * parses the text (throwing on a bad key) so that a bad key stops start-up
 * with the variable's name.
 */
export const keyMaterial = (reader: FileReader, check: (text: string) => unknown) =>
  z.string().transform((value, ctx) => {
    let text = decodeInlineKey(value);
    if (text === undefined) {
      let fileText: string | undefined;
      try {
        fileText = reader(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `cannot read ${value}: ${error instanceof Error ? error.message : String(error)}` });
        return z.NEVER;
      }
      if (fileText === undefined) {
        ctx.addIssue({ code: 'custom', message: 'neither an existing file nor an inline key (PEM/OpenSSH text or its base64)' });
        return z.NEVER;
      }
      text = decodeInlineKey(fileText) ?? fileText;
    }
    try {
      check(text);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: error instanceof Error ? error.message : String(error) });
      return z.NEVER;
    }
    return text;
  });

const BASE64_TEXT = /^[A-Za-z0-9+/=\s]+$/;

/**
 * The pod-key secret: base64 text of at least 32 bytes (as `openssl rand
 * -base64 32` prints it), in a file whose path is given, or inline. Decoded
 * to bytes.
 */
export const podKeySecret = (reader: FileReader) =>
  z.string().transform((value, ctx) => {
    let text: string;
    try {
      text = reader(value) ?? value;
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `cannot read ${value}: ${error instanceof Error ? error.message : String(error)}` });
      return z.NEVER;
    }
    const bytes = Buffer.from(text.trim(), 'base64');
    if (!BASE64_TEXT.test(text) || bytes.length < MIN_POD_KEY_SECRET_BYTES) {
      ctx.addIssue({ code: 'custom', message: `expected base64 of at least ${MIN_POD_KEY_SECRET_BYTES} bytes (e.g. openssl rand -base64 32), inline or in an existing file` });
      return z.NEVER;
    }
    return bytes;
  });

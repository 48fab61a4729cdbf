import { isIP } from 'node:net';
import { ConfigError, MIN_POD_KEY_SECRET_BYTES, SUPPORTED_CIPHERS, type Environment, type FileReader, type SupportedCipher } from '@interlink-k8s/contract';
import { messageOf } from '../errors.js';
import { decodeInlineKey } from '../keys.js';
import { LOG_LEVELS } from './log.js';


/**
 * Turns a variable's text into its value, or throws an `Error` whose message
 * says what was expected (it is shown after the variable's name). The entry
 * points parse by hand rather than with zod, which weighed on the gateway's
 * memory budget for a dozen variables read once (docs/benchmarks.md,
 * "Memory"; docs/adr/0010-gateway-memory-budget.md).
 */
export type Parser<T> = (text: string) => T;

/** One environment variable: its default, its meaning (for the README) and its parser. */
export interface EnvVar<T> {
  readonly name: string;
  /** As it would be written in the environment; `undefined`: required or unset by default. */
  readonly default: string | undefined;
  readonly required: boolean;
  readonly description: string;
  /** Reads the text, `undefined` when unset with no default. */
  readonly read: (text: string | undefined) => T;
}

interface VarSpec<T> {
  readonly default?: string;
  readonly required?: boolean;
  readonly description: string;
  readonly parse: Parser<T>;
}

/** Declares a variable; an empty value counts as unset (Kubernetes writes `""` for an absent optional key). `optional`: unset reads as `undefined`. */
export function envVar<T>(name: string, spec: VarSpec<T> & { readonly optional: true }): EnvVar<T | undefined>;
export function envVar<T>(name: string, spec: VarSpec<T>): EnvVar<T>;
export function envVar<T>(name: string, spec: VarSpec<T> & { readonly optional?: boolean }): EnvVar<T | undefined> {
  const read = (text: string | undefined) => {
    if (text !== undefined) return spec.parse(text);
    if (spec.optional === true) return undefined;
    throw new Error('required');
  };
  return { name, default: spec.default, required: spec.required ?? false, description: spec.description, read };
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
    try {
      values[key] = spec.read(text);
    } catch (error) {
      problems.push(`${spec.name}: ${messageOf(error)}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(values) as Values<V>;
}

// --- value parsers ----------------------------------------------------------

/** Checks the text with `test`; the text is the value. */
const matching =
  (test: (text: string) => boolean, expected: string): Parser<string> =>
  (text) => {
    if (!test(text)) throw new Error(expected);
    return text;
  };

/** Any text. */
export const anyText = (): Parser<string> => (value) => value;

/** A whole number in [min, max]. */
export const integer =
  (min: number, max: number): Parser<number> =>
  (text) => {
    if (!/^\d+$/.test(text)) throw new Error('expected a whole number');
    const value = Number(text);
    if (value < min) throw new Error(`expected at least ${min}`);
    if (value > max) throw new Error(`expected at most ${max}`);
    return value;
  };

/** `true` or `false`. */
export const bool = (): Parser<boolean> => (text) => {
  if (text !== 'true' && text !== 'false') throw new Error('expected true or false');
  return text === 'true';
};

/** One of `values`. */
export const oneOf = <T extends string>(values: readonly T[], expected: string): Parser<T> => {
  const known = new Set<string>(values);
  return (text) => {
    if (!known.has(text)) throw new Error(expected);
    return text as T;
  };
};

/** An IPv4 or IPv6 address. */
export const ipAddress = () => matching((text) => isIP(text) !== 0, 'expected an IPv4 or IPv6 address');

/** Loopback and link-local addresses, which the API server refuses in EndpointSlices. */
const NOT_AN_ENDPOINT = /^(127\.|169\.254\.|::1$|fe[89ab][0-9a-f]:)/i;

/** An address other pods can reach and an EndpointSlice may hold: not loopback, not link-local. */
export const endpointAddress = (): Parser<string> => {
  const address = ipAddress();
  return (text) => {
    if (NOT_AN_ENDPOINT.test(address(text))) throw new Error('loopback and link-local addresses cannot be endpoints: give the pod IP');
    return text;
  };
};

/** A TCP port; `allowZero` for "pick a free one". */
export const port = (allowZero = false) => integer(allowZero ? 0 : 1, 65535);

/** A host name or IP address (no scheme, no port). */
export const host = () => matching((text) => /^[A-Za-z0-9.:_-]+$/.test(text), 'expected a host name or IP address');

/** An `https://` URL. */
export const httpsUrl = () =>
  matching((text) => {
    try {
      return new URL(text).protocol === 'https:';
    } catch {
      return false;
    }
  }, 'expected an https:// URL');

/** A comma-separated list, blank items dropped. */
export const list = (): Parser<string[]> => (text) =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');

/** `MIN-MAX`, an inclusive port range. */
export const portRange = (): Parser<{ min: number; max: number }> => (text) => {
  const match = /^(\d+)-(\d+)$/.exec(text);
  const min = Number(match?.[1]);
  const max = Number(match?.[2]);
  if (match === null || min < 1 || max > 65535 || min > max) throw new Error('expected MIN-MAX with 1 <= MIN <= MAX <= 65535 (e.g. 20000-20999)');
  return { min, max };
};

/** A comma-separated cipher list, each one of {@link SUPPORTED_CIPHERS}. */
export const ciphers = (): Parser<SupportedCipher[]> => {
  const cipher = oneOf(SUPPORTED_CIPHERS, `expected a comma-separated list of: ${SUPPORTED_CIPHERS.join(', ')}`);
  return (text) => text.split(',').map((name) => cipher(name.trim()));
};

/** A log level name. */
export const logLevel = () => oneOf(LOG_LEVELS, 'expected fatal, error, warn, info, debug, trace or silent');

/**
 * Key material: the path of a file, or the key inline (PEM / OpenSSH text,
 * or that text base64-encoded). A file may itself hold base64 text. `check`
 * parses the text (throwing on a bad key) so that a bad key stops start-up
 * with the variable's name.
 */
export const keyMaterial =
  (reader: FileReader, check: (text: string) => unknown): Parser<string> =>
  (value) => {
    let text = decodeInlineKey(value);
    if (text === undefined) {
      let fileText: string | undefined;
      try {
        fileText = reader(value);
      } catch (error) {
        throw new Error(`cannot read ${value}: ${messageOf(error)}`, { cause: error });
      }
      if (fileText === undefined) throw new Error('neither an existing file nor an inline key (PEM/OpenSSH text or its base64)');
      text = decodeInlineKey(fileText) ?? fileText;
    }
    check(text);
    return text;
  };

const BASE64_TEXT = /^[A-Za-z0-9+/=\s]+$/;

/**
 * The pod-key secret: base64 text of at least 32 bytes (as `openssl rand
 * -base64 32` prints it), in a file whose path is given, or inline. Decoded
 * to bytes.
 */
export const podKeySecret =
  (reader: FileReader): Parser<Buffer> =>
  (value) => {
    let text: string;
    try {
      text = reader(value) ?? value;
    } catch (error) {
      throw new Error(`cannot read ${value}: ${messageOf(error)}`, { cause: error });
    }
    const bytes = Buffer.from(text.trim(), 'base64');
    if (!BASE64_TEXT.test(text) || bytes.length < MIN_POD_KEY_SECRET_BYTES) {
      throw new Error(`expected base64 of at least ${MIN_POD_KEY_SECRET_BYTES} bytes (e.g. openssl rand -base64 32), inline or in an existing file`);
    }
    return bytes;
  };

/**
 * Kubernetes resource quantities (`100m`, `1.5`, `2Gi`, `500Mi`, `1e3`,
 * `1k`, ...) as exact integers of nano-units, so that sums and differences
 * of node capacities never suffer floating-point drift.
 */

const NANO = 1_000_000_000n;

const BINARY_SUFFIXES: Readonly<Record<string, number>> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const DECIMAL_SUFFIXES: Readonly<Record<string, number>> = {
  n: -9,
  u: -6,
  m: -3,
  '': 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};

// sign, digits (with at most one dot), then a binary suffix, a decimal
// exponent (`e3`, `E-2`) or a decimal suffix. The exponent form is tried
// before the bare `E` (exa) suffix.
const QUANTITY = /^([+-]?)(\d+\.?\d*|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei)|[eE]([+-]?\d+)|([numkMGTPE]?))$/;

// Kubernetes itself caps exponents far below this; the cap only keeps a
// hostile string from building a gigantic bigint.
const MAX_EXPONENT = 64;

/**
 * Parses a Kubernetes quantity into nano-units (value × 10⁹), rounding up to
 * the next nano-unit as Kubernetes does. Throws a `RangeError` naming the
 * string when it is not a quantity.
 */
export function parseQuantity(text: string): bigint {
  const match = QUANTITY.exec(text.trim());
  if (match === null) throw new RangeError(`invalid quantity "${text}"`);
  const [, sign = '', number = '', binary, exponent, decimal] = match;
  const [whole = '', fraction = ''] = number.split('.');
  const mantissa = BigInt(`${whole}${fraction}` || '0');
  // value = mantissa × 10^(power10) × 2^(power2)
  let power10 = -fraction.length;
  let power2 = 0;
  if (binary !== undefined) {
    power2 = 10 * (BINARY_SUFFIXES[binary] ?? 0);
  } else if (exponent !== undefined) {
    const e = Number(exponent);
    if (Math.abs(e) > MAX_EXPONENT) throw new RangeError(`invalid quantity "${text}": exponent out of range`);
    power10 += e;
  } else {
    power10 += DECIMAL_SUFFIXES[decimal ?? ''] ?? 0;
  }
  // to nano-units
  power10 += 9;
  let numerator = mantissa * 2n ** BigInt(power2);
  let nanos: bigint;
  if (power10 >= 0) {
    nanos = numerator * 10n ** BigInt(power10);
  } else {
    const divisor = 10n ** BigInt(-power10);
    numerator = numerator + divisor - 1n; // ceiling of a non-negative division
    nanos = numerator / divisor;
  }
  return sign === '-' ? -nanos : nanos;
}

/** Like {@link parseQuantity}, but `undefined` for a missing or malformed quantity. */
export function tryParseQuantity(text: string | number | undefined | null): bigint | undefined {
  if (text === undefined || text === null) return undefined;
  try {
    return parseQuantity(String(text));
  } catch {
    return undefined;
  }
}

/** How {@link formatQuantity} writes whole numbers: plain decimal, or the largest exact binary suffix. */
export type QuantityStyle = 'decimal' | 'binary';

const BINARY_BY_SIZE: readonly [string, bigint][] = Object.entries(BINARY_SUFFIXES)
  .map(([suffix, power]): [string, bigint] => [suffix, 1024n ** BigInt(power)])
  .reverse();

/**
 * Writes nano-units as a Kubernetes quantity string: whole numbers as plain
 * integers (`'binary'`: with the largest suffix that divides exactly, e.g.
 * `2Gi`, `1536Mi`), fractions with the largest exact sub-unit suffix
 * (`1500m`, `5u`, `7n`).
 */
export function formatQuantity(nanos: bigint, style: QuantityStyle = 'decimal'): string {
  const sign = nanos < 0n ? '-' : '';
  const abs = nanos < 0n ? -nanos : nanos;
  if (abs % NANO === 0n) {
    const whole = abs / NANO;
    if (style === 'binary' && whole !== 0n) {
      for (const [suffix, size] of BINARY_BY_SIZE) {
        if (whole % size === 0n) return `${sign}${String(whole / size)}${suffix}`;
      }
    }
    return `${sign}${String(whole)}`;
  }
  if (abs % 1_000_000n === 0n) return `${sign}${String(abs / 1_000_000n)}m`;
  if (abs % 1_000n === 0n) return `${sign}${String(abs / 1_000n)}u`;
  return `${sign}${String(abs)}n`;
}

import { describe, expect, it } from '@jest/globals';
import { formatQuantity, parseQuantity, tryParseQuantity } from './quantity.js';

const G = 1_000_000_000n;

describe('parseQuantity', () => {
  it.each([
    ['100m', 100_000_000n],
    ['1.5', 1_500_000_000n],
    ['2', 2n * G],
    ['0', 0n],
    ['2Gi', 2n * 1024n ** 3n * G],
    ['500Mi', 500n * 1024n ** 2n * G],
    ['1Ki', 1024n * G],
    ['0.5Ki', 512n * G],
    ['1e3', 1000n * G],
    ['1E3', 1000n * G],
    ['1.5e3', 1500n * G],
    ['1e-3', 1_000_000n],
    ['1k', 1000n * G],
    ['1M', 1_000_000n * G],
    ['1E', 10n ** 18n * G],
    ['5u', 5000n],
    ['7n', 7n],
    ['.5', 500_000_000n],
    ['+3', 3n * G],
    ['-250m', -250_000_000n],
    ['110', 110n * G],
    [' 4 ', 4n * G],
  ])('parses %p', (text, nanos) => {
    expect(parseQuantity(text)).toBe(nanos);
  });

  it('rounds a value below one nano-unit up, as Kubernetes does', () => {
    expect(parseQuantity('1e-12')).toBe(1n);
    expect(parseQuantity('0.1n')).toBe(1n);
  });

  it.each(['', 'abc', '1.2.3', '1Kb', '1 Gi', 'Gi', '1e', '1e999', '--1'])('rejects %p, naming it', (text) => {
    expect(() => parseQuantity(text)).toThrow(`invalid quantity "${text}"`);
  });
});

describe('tryParseQuantity', () => {
  it('answers undefined for missing or malformed values, and accepts numbers', () => {
    expect(tryParseQuantity(undefined)).toBeUndefined();
    expect(tryParseQuantity(null)).toBeUndefined();
    expect(tryParseQuantity('x')).toBeUndefined();
    expect(tryParseQuantity(3)).toBe(3n * G);
  });
});

describe('formatQuantity', () => {
  it.each([
    [1_500_000_000n, 'decimal', '1500m'],
    [2n * G, 'decimal', '2'],
    [0n, 'decimal', '0'],
    [0n, 'binary', '0'],
    [5000n, 'decimal', '5u'],
    [7n, 'decimal', '7n'],
    [-250_000_000n, 'decimal', '-250m'],
    [2n * 1024n ** 3n * G, 'binary', '2Gi'],
    [1536n * 1024n ** 2n * G, 'binary', '1536Mi'],
    [1000n * G, 'binary', '1000'],
    [2n * 1024n ** 3n * G, 'decimal', '2147483648'],
  ] as const)('writes %p (%s) as %p', (nanos, style, text) => {
    expect(formatQuantity(nanos, style)).toBe(text);
  });

  it.each(['100m', '1.5', '2Gi', '500Mi', '1e3', '1k', '3', '250u'])('round-trips %p to an equal quantity', (text) => {
    const nanos = parseQuantity(text);
    expect(parseQuantity(formatQuantity(nanos, 'binary'))).toBe(nanos);
    expect(parseQuantity(formatQuantity(nanos, 'decimal'))).toBe(nanos);
  });
});

import { describe, expect, it } from '@jest/globals';
import { backoffDelay } from '@interlink-k8s/contract';
import { DEFAULT_BACKOFF } from './bastion.js';

describe('backoffDelay', () => {
  it.each([
    [0, 0, 200],
    [1, 0, 400],
    [3, 0, 1_600],
    [4, 0, 3_000],
    [50, 0, 3_000],
    [0, 0.999_999, 100],
    [10, 0.5, 2_250],
  ])('attempt %i with random %d waits %i ms', (attempt, random, expected) => {
    expect(backoffDelay(DEFAULT_BACKOFF, attempt, () => random)).toBe(expected);
  });

  it('stays within [cap × (1 − jitter), cap] once capped', () => {
    for (let i = 0; i < 100; i++) {
      const delay = backoffDelay(DEFAULT_BACKOFF, 20);
      expect(delay).toBeGreaterThanOrEqual(1_500);
      expect(delay).toBeLessThanOrEqual(3_000);
    }
  });
});

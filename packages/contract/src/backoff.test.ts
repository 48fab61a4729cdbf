import { describe, expect, it } from '@jest/globals';
import { backoffDelay } from './backoff.js';

describe('backoffDelay', () => {
  it.each([
    [0, 100],
    [1, 200],
    [4, 1_600],
    [5, 2_000],
    [1_000, 2_000],
    [-1, 100],
  ])('without jitter, attempt %i waits %i ms (100 ms doubling, capped at 2 s)', (attempt, expected) => {
    expect(backoffDelay({ initialMs: 100, maxMs: 2_000 }, attempt, () => { throw new Error('no jitter, no random'); })).toBe(expected);
  });

  it.each([
    [0, 0, 50],
    [2, 0, 450],
    [2, 0.5, 338],
  ])('with a multiplier of 3 and jitter 0.5, attempt %i with random %d waits %i ms', (attempt, random, expected) => {
    expect(backoffDelay({ initialMs: 50, maxMs: 10_000, multiplier: 3, jitter: 0.5 }, attempt, () => random)).toBe(expected);
  });
});

/** Exponential backoff with jitter, for reconnects. */
export interface BackoffPolicy {
  /** Delay before the first retry, ms. */
  readonly initialMs: number;
  /** Upper bound of any delay, ms. */
  readonly maxMs: number;
  /** Growth per failed attempt (2 doubles). */
  readonly multiplier: number;
  /**
   * Share of the delay that is random, 0..1: the delay is drawn from
   * `[d × (1 − jitter), d]`, so that bastions cut off together do not all
   * come back in the same instant.
   */
  readonly jitter: number;
}

/** Defaults: 200 ms, doubling, at most 5 s, half of it random. */
export const DEFAULT_BACKOFF: BackoffPolicy = Object.freeze({ initialMs: 200, maxMs: 3_000, multiplier: 2, jitter: 0.5 });

/**
 * The delay before retry number `attempt` (0 for the first retry).
 * `random` returns a number in [0, 1) (injectable for tests).
 */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const base = Math.min(policy.maxMs, policy.initialMs * policy.multiplier ** Math.max(0, attempt));
  return Math.round(base * (1 - policy.jitter * random()));
}

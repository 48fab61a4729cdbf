/** Exponential backoff, with or without jitter: how long to wait before a retry. */
export interface BackoffPolicy {
  /** Delay before the first retry, ms. */
  readonly initialMs: number;
  /** Upper bound of any delay, ms. */
  readonly maxMs: number;
  /** Growth per failed attempt; 2 (doubling) when absent. */
  readonly multiplier?: number | undefined;
  /**
   * Share of the delay that is random, 0..1: the delay is drawn from
   * `[d × (1 − jitter), d]`, so that clients cut off together do not all
   * come back in the same instant. None when absent.
   */
  readonly jitter?: number | undefined;
}

/**
 * The exponent stops growing here: it keeps the power finite for any
 * attempt count, and every policy in use reaches its cap long before.
 */
const MAX_EXPONENT = 20;

/**
 * The delay before retry number `attempt` (0 for the first retry), rounded
 * to whole milliseconds. `random` returns a number in [0, 1) (injectable
 * for tests); it is not called without jitter.
 */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(0, attempt), MAX_EXPONENT);
  const base = Math.min(policy.maxMs, policy.initialMs * (policy.multiplier ?? 2) ** exponent);
  const jitter = policy.jitter ?? 0;
  return Math.round(jitter === 0 ? base : base * (1 - jitter * random()));
}

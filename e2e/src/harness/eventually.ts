/** How {@link eventually} polls. */
export interface PollOptions {
  /** Pause between two checks. */
  intervalMs?: number;
  /**
   * Whether an error thrown by the check is retried until the deadline (and
   * named in the final error), or fails at once.
   */
  retryOnError?: boolean;
}

/**
 * Polls `check` until it returns something other than `undefined` and
 * returns that; fails after `timeoutMs` with `what` in the message.
 */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  { intervalMs = 100, retryOnError = true }: PollOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      if (!retryOnError) throw error;
      lastError = error;
    }
    if (Date.now() > deadline) {
      const last = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`${what}: not within ${timeoutMs} ms${last}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

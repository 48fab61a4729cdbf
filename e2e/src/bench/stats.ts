/** Latency figures of one series of calls, in milliseconds. */
export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  mean: number;
}

/** Nearest-rank percentile of an ascending series. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

/** p50, p99 and mean of a series of durations in milliseconds. */
export function summarize(samples: readonly number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length);
  return { count: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean };
}

/** Runs `fn` once and returns its duration in milliseconds. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Calls `fn` from `concurrency` loops for `durationMs`; returns completed calls per second. */
export async function throughput(fn: (i: number) => Promise<unknown>, concurrency: number, durationMs: number): Promise<number> {
  const end = Date.now() + durationMs;
  let done = 0;
  const loop = async () => {
    while (Date.now() < end) {
      await fn(done);
      done += 1;
    }
  };
  const start = Date.now();
  await Promise.all(Array.from({ length: concurrency }, loop));
  return (done * 1000) / (Date.now() - start);
}

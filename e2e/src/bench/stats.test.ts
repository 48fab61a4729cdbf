import { describe, expect, it } from '@jest/globals';
import { summarize, throughput } from './stats.js';

describe('summarize', () => {
  it('gives nearest-rank percentiles', () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(summarize(samples)).toEqual({ count: 100, p50: 50, p99: 99, mean: 50.5 });
  });

  it('reports NaN for no samples rather than a made-up zero', () => {
    expect(summarize([]).p50).toBeNaN();
  });
});

describe('throughput', () => {
  it('counts completed calls across the loops', async () => {
    let calls = 0;
    const rate = await throughput(async () => {
      calls += 1;
      await new Promise((r) => setTimeout(r, 5));
    }, 4, 200);
    expect(calls).toBeGreaterThan(4);
    expect(rate).toBeGreaterThan(0);
  });
});

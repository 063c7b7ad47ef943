import { describe, expect, it } from 'vitest';
import { BandwidthLimiter } from './bandwidth-limiter';

describe('BandwidthLimiter', () => {
  it('lets a burst through and then paces takers to the rate, shared across streams', async () => {
    const limiter = new BandwidthLimiter(1_000_000, 100_000);
    const t0 = performance.now();
    await limiter.take(100_000); // burst
    expect(performance.now() - t0).toBeLessThan(30);
    // Three concurrent streams taking 100 kB each = 300 kB at 1 MB/s ≈ 300 ms in total.
    await Promise.all([0, 1, 2].map(() => limiter.take(100_000)));
    const ms = performance.now() - t0;
    expect(ms).toBeGreaterThanOrEqual(270);
    expect(ms).toBeLessThan(600);
  });

  it('can change rate and rejects nonsense', async () => {
    const limiter = new BandwidthLimiter(1_000, 1_000);
    limiter.setRate(10_000_000);
    await limiter.take(1_000);
    const t0 = performance.now();
    await limiter.take(100_000);
    expect(performance.now() - t0).toBeLessThan(100);
    expect(limiter.bytesPerSecond).toBe(10_000_000);
    expect(() => new BandwidthLimiter(0)).toThrow(/positive/);
  });

  it('stops waiting when aborted', async () => {
    const limiter = new BandwidthLimiter(1_000, 1_000);
    await limiter.take(1_000);
    const ctl = new AbortController();
    const p = limiter.take(1_000_000, ctl.signal);
    ctl.abort();
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
  });
});

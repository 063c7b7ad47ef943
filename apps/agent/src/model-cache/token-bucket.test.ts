import { describe, expect, it } from 'vitest';
import { mbpsToBytesPerSecond, sleep, TokenBucket } from './token-bucket';

describe('TokenBucket', () => {
  it('lets the burst through at once, then makes takers wait for exactly the overdraft', () => {
    let t = 0;
    const bucket = new TokenBucket(1000, 500, () => t);
    expect(bucket.reserve(500)).toBe(0);
    expect(bucket.reserve(250)).toBe(250);
    // Paying back the debt over time: after 250 ms the bucket is at 0 again.
    t = 250;
    expect(bucket.reserve(100)).toBe(100);
  });

  it('never saves up more than the burst while idle', () => {
    let t = 0;
    const bucket = new TokenBucket(1000, 200, () => t);
    bucket.reserve(200);
    t = 60_000;
    expect(bucket.reserve(200)).toBe(0);
    expect(bucket.reserve(1000)).toBe(1000);
  });

  it('shares the rate between concurrent takers', () => {
    const t = 0;
    const bucket = new TokenBucket(1000, 0.0001, () => t);
    // Two downloads taking 500 bytes each at the same instant: together they need a full second.
    expect(bucket.reserve(500)).toBeCloseTo(500, 0);
    expect(bucket.reserve(500)).toBeCloseTo(1000, 0);
  });

  it('refuses a rate that is not positive', () => {
    expect(() => new TokenBucket(0)).toThrow(/positive/);
  });

  it('converts decimal Mbit/s to bytes per second', () => {
    expect(mbpsToBytesPerSecond(8)).toBe(1_000_000);
    expect(mbpsToBytesPerSecond(10_000)).toBe(1_250_000_000);
  });

  it('stops waiting when aborted', async () => {
    const controller = new AbortController();
    const pending = sleep(60_000, controller.signal);
    controller.abort(new Error('cancelled'));
    await expect(pending).rejects.toThrow('cancelled');
  });
});

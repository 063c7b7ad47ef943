import { describe, expect, it } from 'vitest';
import { bucketQuantile, histogramIncrease, sumHistograms } from './histogram';

const inf = Infinity;

describe('bucketQuantile (Prometheus BucketQuantile)', () => {
  it('interpolates linearly inside the bucket the rank falls in', () => {
    // 100 observations: 50 in (0, 0.1], 40 in (0.1, 0.5], 10 in (0.5, 1].
    const b = [
      { le: 0.1, count: 50 },
      { le: 0.5, count: 90 },
      { le: 1, count: 100 },
      { le: inf, count: 100 },
    ];
    expect(bucketQuantile(0.5, b)).toBeCloseTo(0.1);
    expect(bucketQuantile(0.99, b)).toBeCloseTo(0.5 + 0.5 * (9 / 10));
    expect(bucketQuantile(0.25, b)).toBeCloseTo(0.05);
  });

  it('saturates at the highest finite bound when the rank is in +Inf', () => {
    const b = [
      { le: 1, count: 1 },
      { le: 2560, count: 2 },
      { le: inf, count: 100 },
    ];
    expect(bucketQuantile(0.99, b)).toBe(2560);
  });

  it('is NaN without +Inf, with fewer than 2 buckets, or with no observations', () => {
    expect(
      bucketQuantile(0.99, [
        { le: 1, count: 3 },
        { le: 2, count: 4 },
      ]),
    ).toBeNaN();
    expect(bucketQuantile(0.99, [{ le: inf, count: 4 }])).toBeNaN();
    expect(
      bucketQuantile(0.99, [
        { le: 1, count: 0 },
        { le: inf, count: 0 },
      ]),
    ).toBeNaN();
    expect(
      bucketQuantile(NaN, [
        { le: 1, count: 1 },
        { le: inf, count: 1 },
      ]),
    ).toBeNaN();
  });

  it('answers -Inf / +Inf for q outside [0, 1]', () => {
    const b = [
      { le: 1, count: 1 },
      { le: inf, count: 1 },
    ];
    expect(bucketQuantile(-0.1, b)).toBe(-Infinity);
    expect(bucketQuantile(1.1, b)).toBe(Infinity);
  });

  it('sorts unsorted input, merges duplicate bounds and forces counts monotonic', () => {
    const b = [
      { le: inf, count: 10 },
      { le: 0.5, count: 5 },
      { le: 0.25, count: 6 }, // noise: higher than the next bucket
    ];
    // After the fix: 0.25 -> 6, 0.5 -> 6, +Inf -> 10; rank 5 lands in the first bucket.
    expect(bucketQuantile(0.5, b)).toBeCloseTo(0.25 * (5 / 6));
    const dup = [
      { le: 1, count: 2 },
      { le: 1, count: 2 },
      { le: inf, count: 4 },
    ];
    expect(bucketQuantile(1, dup)).toBe(1);
  });

  it('returns the first bound when it is not positive', () => {
    expect(
      bucketQuantile(0.5, [
        { le: 0, count: 5 },
        { le: inf, count: 6 },
      ]),
    ).toBe(0);
  });
});

describe('histogramIncrease / sumHistograms', () => {
  it('takes the per-bucket increase over the window, then sums nodes by bound', () => {
    const s1 = [
      { le: 0.1, count: 10 },
      { le: 1, count: 20 },
      { le: inf, count: 20 },
    ];
    const s2 = [
      { le: 0.1, count: 12 },
      { le: 1, count: 30 },
      { le: inf, count: 31 },
    ];
    const inc = histogramIncrease([s1, s2])!;
    expect(inc).toEqual([
      { le: 0.1, count: 2 },
      { le: 1, count: 10 },
      { le: inf, count: 11 },
    ]);
    expect(sumHistograms([inc, inc])).toEqual([
      { le: 0.1, count: 4 },
      { le: 1, count: 20 },
      { le: inf, count: 22 },
    ]);
  });
  it('ignores scrapes with another bucket layout and needs two of the same', () => {
    const a = [
      { le: 1, count: 1 },
      { le: inf, count: 1 },
    ];
    const b = [
      { le: 2, count: 1 },
      { le: inf, count: 1 },
    ];
    expect(histogramIncrease([a])).toBeNull();
    expect(histogramIncrease([a, b])).toBeNull();
    expect(histogramIncrease([a, b, b.map((x) => ({ ...x, count: x.count + 3 }))])).toEqual([
      { le: 2, count: 3 },
      { le: inf, count: 3 },
    ]);
  });
});

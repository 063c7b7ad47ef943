import { describe, expect, it } from 'vitest';
import { distribution, mean, median, percentile, percentileKey, stddev } from './stats';

describe('percentile (numpy linear)', () => {
  // Reference values computed by hand: h = (n - 1) * p / 100, then interpolate between neighbours.
  it('interpolates between order statistics', () => {
    const v = [15, 20, 35, 40, 50];
    expect(percentile(v, 0)).toBe(15);
    expect(percentile(v, 100)).toBe(50);
    expect(percentile(v, 50)).toBe(35);
    // h = 4 * 0.4 = 1.6 → 20 + 0.6 * 15 = 29
    expect(percentile(v, 40)).toBeCloseTo(29, 12);
    // h = 4 * 0.99 = 3.96 → 40 + 0.96 * 10 = 49.6
    expect(percentile(v, 99)).toBeCloseTo(49.6, 12);
    // h = 4 * 0.25 = 1 → exactly 20
    expect(percentile(v, 25)).toBe(20);
  });

  it('sorts its input and does not mutate it', () => {
    const v = [3, 1, 2];
    expect(percentile(v, 50)).toBe(2);
    expect(v).toEqual([3, 1, 2]);
  });

  it('handles one value and no values', () => {
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 99)).toBeNull();
  });

  it('matches numpy on an even-length list: np.percentile([1,2,3,4], 99) = 3.97', () => {
    expect(percentile([1, 2, 3, 4], 99)).toBeCloseTo(3.97, 12);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
  });

  it('uses the upper-anchored form for t >= 0.5 like numpy (exact at the top)', () => {
    // h = 9 * 0.999... stays below the last index; the b - diff*(1-t) form keeps it exact at t → 1.
    const v = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
    expect(percentile(v, 100)).toBe(0.9);
    expect(percentile(v, 50)).toBeCloseTo(0.45, 15);
  });

  it('rejects out-of-range percentiles and non-finite values', () => {
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1, Number.NaN], 50)).toThrow(/finite/);
  });
});

describe('mean, median, stddev', () => {
  it('computes the population std like np.std', () => {
    // mean 5, squared deviations 9,1,1,1,0,0,4,16 → 32/8 = 4 → std 2
    const v = [2, 4, 4, 4, 5, 5, 7, 9];
    expect(mean(v)).toBe(5);
    expect(stddev(v)).toBe(2);
    expect(stddev(v, 1)).toBeCloseTo(Math.sqrt(32 / 7), 12);
    expect(median(v)).toBe(4.5);
  });

  it('returns null for empty input (and ddof 1 with one value)', () => {
    expect(mean([])).toBeNull();
    expect(stddev([])).toBeNull();
    expect(stddev([3], 1)).toBeNull();
    expect(stddev([3])).toBe(0);
  });
});

describe('distribution', () => {
  it('reports the requested percentiles under stable keys', () => {
    const d = distribution([10, 20, 30, 40], [50, 99, 99.9]);
    expect(d.count).toBe(4);
    expect(d.mean).toBe(25);
    expect(d.median).toBe(25);
    expect(d.min).toBe(10);
    expect(d.max).toBe(40);
    expect(d.percentiles).toEqual({ p50: 25, p99: expect.closeTo(39.7, 10), p99_9: expect.closeTo(39.97, 10) });
    expect(percentileKey(99.9)).toBe('p99_9');
  });

  it('is all-null when there is no data', () => {
    const d = distribution([], [99]);
    expect(d).toEqual({ count: 0, mean: null, median: null, std: null, min: null, max: null, percentiles: { p99: null } });
  });
});

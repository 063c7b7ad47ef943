import { describe, expect, it } from 'vitest';
import { computeCost, HOURS_PER_MONTH, type TCostInput } from './cost';
import { DEFAULT_API_PRICES } from './catalog-defaults';

const FLASH_API = DEFAULT_API_PRICES.find((p) => p.family === 'deepseek-v4-flash')!;

/** RunPod 2x H200 at about $7.18/h (product.md), a day of traffic, against the V4-Flash API. */
const RUNPOD: TCostInput = {
  windowHours: 24,
  gpuCount: 2,
  gpuHourlyUsd: 3.59,
  promptTokens: 100e6,
  cachedPromptTokens: 20e6,
  generationTokens: 25e6,
  utilisation: 0.5,
  api: FLASH_API,
};

describe('computeCost', () => {
  it('reproduces the RunPod 2x H200 example against the Flash API (hand-computed)', () => {
    const r = computeCost(RUNPOD);
    expect(r.errors).toEqual([]);
    expect(r.usdPerHour).toBeCloseTo(7.18, 10);
    expect(r.gpuHours).toBe(48);
    expect(r.computeUsd).toBeCloseTo(172.32, 10);
    // 80M x 0.14 + 20M x 0.0028 + 25M x 0.28 = 11.2 + 0.056 + 7.0
    expect(r.apiUsd).toBeCloseTo(18.256, 10);
    expect(r.savingsUsd).toBeCloseTo(18.256 - 172.32, 10);
    expect(r.cacheHitShare).toBeCloseTo(0.2, 10);
    expect(r.blendedPerM).toBeCloseTo(172.32 / 125, 10);
    // Cost split in the API's price ratio: input share 11.256 / 18.256.
    expect(r.effectiveInputPerM).toBeCloseTo(((172.32 * 11.256) / 18.256 / 100e6) * 1e6, 10);
    expect(r.effectiveOutputPerM).toBeCloseTo(((172.32 * 7) / 18.256 / 25e6) * 1e6, 10);
    // $7.18 x 730 h = $5,241.40 a month; the API charges 18.256 / 125M = $0.146048 per 1M of this mix.
    expect(r.breakEvenMonthlyTokens!).toBeCloseTo((5241.4 / 0.146048) * 1e6, -3);
    expect(r.atCurrentUtilisation!.monthlyTokens).toBeCloseTo((125e6 / 24) * HOURS_PER_MONTH, 0);
    expect(r.atFullUtilisation!.monthlyTokens).toBeCloseTo((125e6 / 24 / 0.5) * HOURS_PER_MONTH, 0);
    // About 35.9B tokens a month to break even; flat out this cluster does 7.6B: it cannot.
    expect(r.breakEvenUtilisation!).toBeGreaterThan(4.7);
    expect(r.breakEvenUtilisation!).toBeLessThan(4.75);
    expect(r.atFullUtilisation!.monthlySavingsUsd).toBeLessThan(0);
  });

  it('break-even for pure output traffic at $0.28 per 1M: $5,241.40 / 0.28 = 18.72B tokens a month', () => {
    const r = computeCost({ ...RUNPOD, promptTokens: 0, cachedPromptTokens: 0, generationTokens: 1e6 });
    expect(r.breakEvenMonthlyTokens!).toBeCloseTo((5241.4 / 0.28) * 1e6, -3);
    expect(r.effectiveInputPerM).toBeNull();
  });

  it('adds power from measured draw: 1400 W for 24 h at $0.15/kWh = 33.6 kWh = $5.04', () => {
    const r = computeCost({ ...RUNPOD, power: { averageWatts: 1400, usdPerKwh: 0.15 } });
    expect(r.energyKwh).toBeCloseTo(33.6, 10);
    expect(r.powerUsd).toBeCloseTo(5.04, 10);
    expect(r.totalUsd).toBeCloseTo(177.36, 10);
  });

  it('shows savings when a cheap owned cluster is busy', () => {
    const r = computeCost({
      ...RUNPOD,
      gpuHourlyUsd: 0.1,
      promptTokens: 2e9,
      cachedPromptTokens: 0,
      generationTokens: 1e9,
      utilisation: 0.9,
    });
    // API: 2000 x 0.14 + 1000 x 0.28 = 560; self-hosted 2 x 24 x 0.1 = 4.8
    expect(r.apiUsd).toBeCloseTo(560, 10);
    expect(r.savingsUsd).toBeCloseTo(555.2, 10);
    expect(r.breakEvenUtilisation!).toBeLessThan(1);
  });

  it('no traffic: cost stands, per-token figures are null, never NaN', () => {
    const r = computeCost({ ...RUNPOD, promptTokens: 0, cachedPromptTokens: 0, generationTokens: 0 });
    expect(r.totalUsd).toBeCloseTo(172.32, 10);
    expect(r.blendedPerM).toBeNull();
    expect(r.breakEvenMonthlyTokens).toBeNull();
    expect(JSON.stringify(r)).not.toMatch(/NaN|Infinity/);
  });

  it('no utilisation telemetry: no full-utilisation scenario', () => {
    const r = computeCost({ ...RUNPOD, utilisation: null });
    expect(r.atFullUtilisation).toBeNull();
    expect(r.breakEvenUtilisation).toBeNull();
    expect(r.atCurrentUtilisation).not.toBeNull();
  });

  it.each([
    [{ windowHours: 0 }, /longer than zero hours/],
    [{ gpuCount: -1 }, /GPU count/],
    [{ cachedPromptTokens: 200e6 }, /cannot exceed/],
    [{ utilisation: 1.5 }, /between 0 and 1/],
    [{ promptTokens: Number.NaN }, /prompt token count/],
  ] as [Partial<TCostInput>, RegExp][])('rejects %o', (over, message) => {
    const r = computeCost({ ...RUNPOD, ...over });
    expect(r.errors.join('\n')).toMatch(message);
    expect(JSON.stringify(r)).not.toMatch(/NaN/);
  });
});

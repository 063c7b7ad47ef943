import { describe, expect, it } from 'vitest';
import { calculateBenchmarkMetrics, meetsSlos, requestTpotMs, type TRequestOutcome } from './benchmark-metrics';

const req = (o: Partial<TRequestOutcome>): TRequestOutcome => ({
  ok: true,
  ttftMs: 100,
  itlMs: [],
  e2eMs: 100,
  promptTokens: 10,
  completionTokens: 1,
  ...o,
});

describe('requestTpotMs', () => {
  it('is (latency − ttft) / (output_len − 1)', () => {
    // 1000 ms total, 200 ms to first token, 9 more tokens → 800 / 9
    expect(requestTpotMs({ ttftMs: 200, e2eMs: 1000, completionTokens: 10 })).toBeCloseTo(800 / 9, 12);
    expect(requestTpotMs({ ttftMs: 50, e2eMs: 250, completionTokens: 2 })).toBe(200);
  });
  it('is undefined for output_len ≤ 1 or missing timings', () => {
    expect(requestTpotMs({ ttftMs: 50, e2eMs: 50, completionTokens: 1 })).toBeNull();
    expect(requestTpotMs({ ttftMs: 50, e2eMs: 50, completionTokens: 0 })).toBeNull();
    expect(requestTpotMs({ ttftMs: null, e2eMs: 50, completionTokens: 5 })).toBeNull();
  });
});

describe('calculateBenchmarkMetrics', () => {
  // Three successes and one failure over 2 seconds, computed by hand.
  const outcomes: TRequestOutcome[] = [
    req({ ttftMs: 100, e2eMs: 500, itlMs: [100, 100, 100, 100], promptTokens: 100, completionTokens: 5 }), // tpot 100
    req({ ttftMs: 200, e2eMs: 1100, itlMs: [300, 300, 300], promptTokens: 100, completionTokens: 4 }), // tpot 300
    req({ ttftMs: 300, e2eMs: 300, itlMs: [], promptTokens: 50, completionTokens: 1 }), // no tpot
    req({ ok: false, ttftMs: null, e2eMs: null, promptTokens: null, completionTokens: null }),
  ];
  const m = calculateBenchmarkMetrics(outcomes, { durationMs: 2000, percentiles: [50, 99], slos: { ttftMs: 250, tpotMs: 200 } });

  it('counts requests and tokens of successful requests only', () => {
    expect(m.total).toBe(4);
    expect(m.completed).toBe(3);
    expect(m.failed).toBe(1);
    expect(m.errorRate).toBe(0.25);
    expect(m.totalInputTokens).toBe(250);
    expect(m.totalOutputTokens).toBe(10);
  });

  it('divides by the wall duration for throughputs', () => {
    expect(m.durationS).toBe(2);
    expect(m.requestThroughput).toBe(1.5);
    expect(m.outputThroughput).toBe(5);
    expect(m.totalTokenThroughput).toBe(130);
  });

  it('summarises ttft, tpot, itl and e2el in ms', () => {
    expect(m.ttftMs.mean).toBe(200);
    expect(m.ttftMs.median).toBe(200);
    // ttfts 100,200,300 → h = 2*0.99 = 1.98 → 200 + 0.98*100 = 298
    expect(m.ttftMs.percentiles.p99).toBeCloseTo(298, 10);
    expect(m.tpotMs.count).toBe(2);
    expect(m.tpotMs.mean).toBe(200);
    expect(m.tpotMs.std).toBe(100);
    expect(m.itlMs.count).toBe(7);
    expect(m.itlMs.median).toBe(100);
    expect(m.e2elMs.percentiles.p50).toBe(500);
  });

  it('computes goodput: output_len ≤ 1 counts as TPOT 0, failures are never good', () => {
    // #1 ttft 100 ≤ 250, tpot 100 ≤ 200 → good; #2 ttft 200 ok, tpot 300 > 200 → bad;
    // #3 ttft 300 > 250 → bad; #4 failed.
    expect(m.goodRequests).toBe(1);
    expect(m.goodput).toBe(0.5);
    expect(m.goodputRatio).toBe(0.25);
    expect(meetsSlos(outcomes[2]!, { tpotMs: 0 })).toBe(true);
    expect(meetsSlos(outcomes[3]!, {})).toBe(false);
  });

  it('leaves goodput null without SLOs and latency distributions null without data', () => {
    const only = calculateBenchmarkMetrics([req({ ok: false })], { durationMs: 1000 });
    expect(only.goodput).toBeNull();
    expect(only.goodRequests).toBeNull();
    expect(only.ttftMs.percentiles.p99).toBeNull();
    expect(only.errorRate).toBe(1);
    expect(() => calculateBenchmarkMetrics([], { durationMs: 0 })).toThrow(RangeError);
  });
});

import { describe, expect, it } from 'vitest';
import { compareToBaseline } from '@fleetplane/domain';
import { gatesForComparison, gatesForSuite, LATENCY_NOISE_FLOOR_MS } from './baseline-gates';

const perf = (levels: Record<string, { completed: number; p50: number; p99: number }>) => ({
  key: 'performance',
  metrics: {
    levels: Object.fromEntries(
      Object.entries(levels).map(([c, l]) => [
        c,
        {
          concurrency: Number(c),
          completed: l.completed,
          ttftMs: { p50: l.p50, p99: l.p99 },
          tpotMs: { p50: 1, p99: 1 },
          outputThroughput: 100,
        },
      ]),
    ),
  },
});

describe('baseline gates', () => {
  it('keeps only gates for checks the suite has, with a latency noise floor', () => {
    const gates = gatesForSuite(['performance']);
    expect(gates.every((g) => g.checkKey === 'performance')).toBe(true);
    expect(gates.filter((g) => g.unit === 'ms').every((g) => g.maxRegressionAbs === LATENCY_NOISE_FLOOR_MS)).toBe(true);
    expect(gates.find((g) => g.unit === 'tok/s')!.maxRegressionAbs).toBeUndefined();
  });

  it('gates p99 where both runs measured enough requests and p50 where they did not', () => {
    const base = [perf({ '1': { completed: 8, p50: 30, p99: 31 }, '32': { completed: 128, p50: 40, p99: 60 } })];
    const cand = [perf({ '1': { completed: 8, p50: 31, p99: 90 }, '32': { completed: 128, p50: 41, p99: 80 } })];
    const gates = gatesForComparison(['performance'], cand, base).filter((g) => g.label.startsWith('TTFT'));
    expect(gates.map((g) => [g.metric, g.label])).toEqual([
      ['levels.1.ttftMs.p50', 'TTFT p50 at concurrency 1 (p99 needs 20+ requests)'],
      ['levels.32.ttftMs.p99', 'TTFT p99 at concurrency 32'],
    ]);
    const cmp = compareToBaseline({ candidate: cand, baseline: base, gates });
    // One slow request at concurrency 1 (p99 31 → 90 ms) is noise; +33% p99 at 128 requests is not.
    expect(cmp.gates.map((g) => g.verdict)).toEqual(['pass', 'fail']);
  });
});

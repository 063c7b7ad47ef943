import { describe, expect, it } from 'vitest';
import { ZBaselineGate, type TBaselineGateInput } from '@fleetplane/contracts';
import { compareToBaseline, evaluateGate, expandMetricPath, getMetricPath } from './baseline';

const gate = (g: TBaselineGateInput) => ZBaselineGate.parse(g);
const ttftGate = gate({ label: 'TTFT p99', checkKey: 'perf', metric: 'ttftMs.p99', better: 'lower', maxRegressionPct: 10, unit: 'ms' });

describe('evaluateGate', () => {
  it('explains a relative latency gate in plain English', () => {
    const r = evaluateGate({ gate: ttftGate, metric: 'ttftMs.p99', baseline: 380, candidate: 412 });
    expect(r.explanation).toBe('TTFT p99 412 ms vs baseline 380 ms (+8.4%, limit +10%): pass');
    expect(r.verdict).toBe('pass');
    expect(r.delta).toBe(32);
    expect(r.allowed).toBeCloseTo(38, 12);
    const bad = evaluateGate({ gate: ttftGate, metric: 'ttftMs.p99', baseline: 380, candidate: 420 });
    expect(bad.explanation).toBe('TTFT p99 420 ms vs baseline 380 ms (+10.5%, limit +10%): fail');
  });

  it('passes exactly at the limit and when the candidate improves', () => {
    expect(evaluateGate({ gate: ttftGate, metric: 'm', baseline: 100, candidate: 110 }).verdict).toBe('pass');
    expect(evaluateGate({ gate: ttftGate, metric: 'm', baseline: 100, candidate: 50 }).explanation).toBe(
      'TTFT p99 50.0 ms vs baseline 100 ms (−50.0%, limit +10%): pass',
    );
  });

  it('widens an accuracy gate by the noise of the baseline repeats', () => {
    const acc = gate({
      label: 'Accuracy',
      checkKey: 'exact',
      metric: 'accuracy',
      better: 'higher',
      maxRegressionAbs: 0.01,
      noiseMetric: 'repeatAccuracies',
      noiseK: 1,
    });
    // repeats 0.94, 0.95, 0.96: sample std = 0.01 → allowed = 0.01 + 0.01 = 0.02
    const ok = evaluateGate({ gate: acc, metric: 'accuracy', baseline: 0.95, candidate: 0.935, noiseValues: [0.94, 0.95, 0.96] });
    expect(ok.noise).toBeCloseTo(0.01, 12);
    expect(ok.allowed).toBeCloseTo(0.02, 12);
    expect(ok.verdict).toBe('pass');
    expect(ok.explanation).toBe('Accuracy 93.5% vs baseline 95.0% (−1.5 points, limit −1.0 points + noise 1.0 points): pass');
    const bad = evaluateGate({ gate: acc, metric: 'accuracy', baseline: 0.95, candidate: 0.92, noiseValues: [0.94, 0.95, 0.96] });
    expect(bad.verdict).toBe('fail');
    // Without repeats there is no noise allowance.
    expect(evaluateGate({ gate: acc, metric: 'accuracy', baseline: 0.95, candidate: 0.935, noiseValues: [0.95] }).verdict).toBe('fail');
  });

  it('uses the larger of a relative and an absolute limit', () => {
    const g = gate({
      label: 'TPOT p99',
      checkKey: 'perf',
      metric: 'x',
      better: 'lower',
      maxRegressionPct: 10,
      maxRegressionAbs: 5,
      unit: 'ms',
    });
    // baseline 20 ms: 10% = 2 ms, abs 5 ms → 5 ms allowed
    const r = evaluateGate({ gate: g, metric: 'x', baseline: 20, candidate: 24 });
    expect(r.verdict).toBe('pass');
    expect(r.explanation).toBe('TPOT p99 24.0 ms vs baseline 20.0 ms (+4.00 ms, +20.0%, limit +10% or +5.00 ms): pass');
  });

  it('judges higher-is-better throughput', () => {
    const g = gate({ label: 'Output throughput', checkKey: 'perf', metric: 'x', better: 'higher', maxRegressionPct: 5, unit: 'tok/s' });
    expect(evaluateGate({ gate: g, metric: 'x', baseline: 1000, candidate: 940 }).explanation).toBe(
      'Output throughput 940.0 tok/s vs baseline 1000.0 tok/s (−6.0%, limit −5%): fail',
    );
  });

  it('skips when a side is missing', () => {
    const r = evaluateGate({ gate: ttftGate, metric: 'm', baseline: null, candidate: 3 });
    expect(r.verdict).toBe('skipped');
    expect(r.explanation).toBe('TTFT p99: not compared, the baseline has no value');
  });
});

describe('compareToBaseline', () => {
  const perf = (t8: number, t32: number) => ({
    key: 'perf',
    metrics: { levels: { '8': { ttftMs: { p99: t8 } }, '32': { ttftMs: { p99: t32 } } } },
  });

  it('expands wildcards per concurrency level and fails on any required regression', () => {
    const g = gate({
      label: 'TTFT p99 at concurrency {*}',
      checkKey: 'perf',
      metric: 'levels.*.ttftMs.p99',
      better: 'lower',
      maxRegressionPct: 10,
      unit: 'ms',
    });
    const c = compareToBaseline({ candidate: [perf(100, 300)], baseline: [perf(100, 200)], gates: [g], baselineRunId: 'run-1' });
    expect(c.gates.map((r) => [r.metric, r.verdict])).toEqual([
      ['levels.8.ttftMs.p99', 'pass'],
      ['levels.32.ttftMs.p99', 'fail'],
    ]);
    expect(c.gates[1]!.label).toBe('TTFT p99 at concurrency 32');
    expect(c.verdict).toBe('fail');
    expect(c.summary).toBe('Worse than the baseline beyond the limit on 1 of 2 compared metrics: TTFT p99 at concurrency 32.');
    expect(c.baselineRunId).toBe('run-1');
  });

  it('ignores optional gates for the verdict and reports missing metrics as skipped', () => {
    const opt = gate({
      label: 'TTFT p99',
      checkKey: 'perf',
      metric: 'levels.8.ttftMs.p99',
      better: 'lower',
      maxRegressionPct: 1,
      unit: 'ms',
      required: false,
    });
    const absent = gate({ label: 'Accuracy', checkKey: 'exact', metric: 'accuracy', better: 'higher', maxRegressionAbs: 0.01 });
    const c = compareToBaseline({ candidate: [perf(200, 1)], baseline: [perf(100, 1)], gates: [opt, absent] });
    expect(c.gates.map((r) => r.verdict)).toEqual(['fail', 'skipped']);
    expect(c.verdict).toBe('pass');
  });

  it('reads dot paths and expands only shared keys', () => {
    expect(getMetricPath({ a: { b: 2 } }, 'a.b')).toBe(2);
    expect(getMetricPath({ a: 1 }, 'a.b')).toBeUndefined();
    expect(expandMetricPath({ l: { '1': 1, '4': 2 } }, { l: { '4': 3, '8': 4 } }, 'l.*')).toEqual([{ path: 'l.4', wildcards: ['4'] }]);
  });
});

import { describe, expect, it } from 'vitest';
import { formatDelta, formatMetric, formatPct } from './format';
import { atLeast, atMost, runVerdict, summariseRun } from './thresholds';

describe('limits', () => {
  it('passes on the boundary and explains itself', () => {
    expect(atMost('TTFT p99 at concurrency 4', 412, 300, 'ms')).toMatchObject({
      ok: false,
      text: 'TTFT p99 at concurrency 4: 412 ms (limit ≤ 300 ms): fail',
    });
    expect(atMost('TTFT p99', 300, 300, 'ms').ok).toBe(true);
    expect(atLeast('Output throughput', 1234.56, 1000, 'tok/s').text).toBe('Output throughput: 1234.6 tok/s (limit ≥ 1000.0 tok/s): pass');
    expect(atLeast('Accuracy', 0.9, 0.9, 'ratio').ok).toBe(true);
  });
  it('never passes without data', () => {
    expect(atMost('TTFT p99', null, 300, 'ms')).toMatchObject({ ok: false, text: 'TTFT p99: no data (limit ≤ 300 ms): fail' });
    expect(atLeast('x', Number.NaN, 0, 'count').ok).toBe(false);
  });
});

describe('format', () => {
  it('formats values, deltas and percentages', () => {
    expect(formatMetric(4.123, 'ms')).toBe('4.12 ms');
    expect(formatMetric(41.23, 'ms')).toBe('41.2 ms');
    expect(formatMetric(0.953, 'ratio')).toBe('95.3%');
    expect(formatMetric(2.5, 'req/s')).toBe('2.50 req/s');
    expect(formatDelta(-0.02, 'ratio')).toBe('−2.0 points');
    expect(formatDelta(32, 'ms')).toBe('+32.0 ms');
    expect(formatPct(8.42)).toBe('+8.4%');
    expect(formatMetric(null, 'ms')).toBe('n/a');
  });
});

describe('runVerdict', () => {
  const c = (key: string, verdict: 'pass' | 'fail' | 'error' | 'skipped', required = true) => ({ key, verdict, required });
  it('passes only when every required check passes', () => {
    expect(runVerdict([c('a', 'pass'), c('b', 'fail', false)])).toBe('pass');
    expect(runVerdict([c('a', 'pass'), c('b', 'fail')])).toBe('fail');
    expect(runVerdict([c('a', 'error'), c('b', 'fail')])).toBe('fail');
    expect(runVerdict([c('a', 'error'), c('b', 'skipped')])).toBe('error');
    expect(runVerdict([c('a', 'pass'), c('b', 'skipped')])).toBe('skipped');
    expect(runVerdict([])).toBe('skipped');
  });
  it('summarises in one sentence', () => {
    expect(summariseRun([c('a', 'pass'), c('b', 'pass')])).toBe('Pass: all 2 required checks passed.');
    expect(summariseRun([c('a', 'pass'), c('perf', 'fail'), c('opt', 'error', false)])).toBe(
      'Fail: 1 of 2 required checks passed; not passing: perf (fail). Optional checks not passing: opt (error).',
    );
  });
});

import { describe, expect, it } from 'vitest';
import { DEFAULT_ROLLOUT_POLICY, type TAnalysisMetrics } from '@fleetplane/contracts';
import {
  evaluateCheck,
  measureCheck,
  windowErrorRatePct,
  windowOutcome,
  windowTokensPerSecondPerNode,
  windowTtftP99,
  type EngineScrape,
} from './analysis';

const t0 = new Date('2026-12-03T08:00:00Z');
const at = (s: number) => new Date(t0.getTime() + s * 1000);
const LE = [0.1, 0.5, 1, 2.5];

/** A scrape whose cumulative counters grew by `fast` requests under 0.1 s and `slow` between 1 and 2.5 s. */
function scrapes(opts: { fast: number; slow: number; failed?: number; tokensPerS: number; n?: number }): EngineScrape[] {
  const out: EngineScrape[] = [];
  const n = opts.n ?? 3;
  for (let i = 0; i < n; i++) {
    const fast = opts.fast * i;
    const slow = opts.slow * i;
    out.push({
      at: at(i * 10),
      ttftBuckets: [
        { le: LE[0]!, count: fast },
        { le: LE[1]!, count: fast },
        { le: LE[2]!, count: fast },
        { le: LE[3]!, count: fast + slow },
      ],
      ttftCount: fast + slow,
      requestsFinished: fast + slow,
      requestsFailed: (opts.failed ?? 0) * i,
      generationTokens: opts.tokensPerS * 10 * i,
    });
  }
  return out;
}

describe('window measurements', () => {
  it('TTFT p99 from bucket increases across nodes', () => {
    const healthy = { nodeId: 'a', scrapes: scrapes({ fast: 100, slow: 0, tokensPerS: 50 }) };
    expect(windowTtftP99([healthy])).toBeCloseTo(0.099, 3);
    const slow = { nodeId: 'b', scrapes: scrapes({ fast: 0, slow: 100, tokensPerS: 50 }) };
    expect(windowTtftP99([slow])!).toBeCloseTo(1 + 1.5 * 0.99, 3);
    // Summed: 200 finished, rank 198 lands in the slow bucket.
    expect(windowTtftP99([healthy, slow])!).toBeGreaterThan(1);
    expect(windowTtftP99([{ nodeId: 'c', scrapes: [] }])).toBeNull();
  });

  it('error rate and per-node tokens/s', () => {
    const n = { nodeId: 'a', scrapes: scrapes({ fast: 100, slow: 0, failed: 5, tokensPerS: 40 }) };
    expect(windowErrorRatePct([n])).toEqual({ pct: 5, finished: 200 });
    expect(windowTokensPerSecondPerNode([n])).toBeCloseTo(40);
    const m = { nodeId: 'b', scrapes: scrapes({ fast: 100, slow: 0, tokensPerS: 20 }) };
    expect(windowTokensPerSecondPerNode([n, m])).toBeCloseTo(30);
    expect(windowErrorRatePct([{ nodeId: 'c', scrapes: scrapes({ fast: 0, slow: 0, tokensPerS: 0 }) }]).pct).toBeNull();
  });
});

describe('evaluateCheck', () => {
  const policy = DEFAULT_ROLLOUT_POLICY;
  const good: TAnalysisMetrics = {
    canaryTtftP99Seconds: 0.2,
    baselineTtftP99Seconds: 0.18,
    canaryErrorRatePct: 0,
    canaryTokensPerSecondPerNode: 50,
    baselineTokensPerSecondPerNode: 52,
    canaryRequests: 100,
    newCriticalGpus: [],
  };

  it('passes a canary that serves like the previous artifact', () => {
    expect(evaluateCheck(good, policy)).toEqual({ outcome: 'passed', failures: [], notes: [] });
  });

  it('fails a slower canary, naming its p99 and the baseline', () => {
    const v = evaluateCheck({ ...good, canaryTtftP99Seconds: 2.47 }, policy);
    expect(v.outcome).toBe('failed');
    expect(v.failures).toEqual(["TTFT p99 2.47 s > 1.5 × previous artifact's 0.18 s"]);
  });

  it('fails on errors, throughput, absolute TTFT and new critical GPUs, each with its values', () => {
    const v = evaluateCheck(
      { ...good, canaryErrorRatePct: 12.5, canaryTokensPerSecondPerNode: 10, newCriticalGpus: ['GPU-1'] },
      { ...policy, maxTtftP99Seconds: 0.1 },
    );
    expect(v.failures).toEqual([
      'TTFT p99 0.2 s > limit 0.1 s',
      'error rate 12.5 % > limit 1 %',
      "output 10 tokens/s per node < 0.8 × previous artifact's 52",
      'new critical GPU health on GPU-1',
    ]);
  });

  it('no traffic is inconclusive by default (Argo), a failed check when the policy says so (Flagger)', () => {
    const idle = { ...good, canaryRequests: 0, canaryErrorRatePct: null, canaryTtftP99Seconds: null };
    expect(DEFAULT_ROLLOUT_POLICY.failOnNoTraffic).toBe(false);
    expect(evaluateCheck(idle, DEFAULT_ROLLOUT_POLICY)).toEqual({
      outcome: 'inconclusive',
      failures: [],
      notes: ['no traffic on the canary: inconclusive, metrics not judged'],
    });
    expect(evaluateCheck({ ...idle, canaryRequests: null }, DEFAULT_ROLLOUT_POLICY).outcome).toBe('inconclusive');
    expect(evaluateCheck(idle, { ...policy, failOnNoTraffic: true })).toMatchObject({
      outcome: 'failed',
      failures: ['no traffic on the canary: no values found'],
    });
  });

  it('a quiet canary with a new critical GPU still fails', () => {
    const idle = { ...good, canaryRequests: 0, canaryErrorRatePct: null, canaryTtftP99Seconds: null, newCriticalGpus: ['GPU-3'] };
    expect(evaluateCheck(idle, DEFAULT_ROLLOUT_POLICY)).toMatchObject({
      outcome: 'failed',
      failures: ['new critical GPU health on GPU-3'],
    });
  });

  it('without nodes left on the previous artifact, only absolute limits apply', () => {
    const v = evaluateCheck(
      { ...good, canaryTtftP99Seconds: 9, baselineTtftP99Seconds: null, baselineTokensPerSecondPerNode: null },
      policy,
    );
    expect(v.outcome).toBe('passed');
    expect(v.notes).toEqual(['no TTFT baseline from nodes on the previous artifact']);
  });

  it('measureCheck ties it together for a degraded canary', () => {
    const canary = [{ nodeId: 'c', scrapes: scrapes({ fast: 0, slow: 50, tokensPerS: 50 }) }];
    const base = [{ nodeId: 'b', scrapes: scrapes({ fast: 50, slow: 0, tokensPerS: 50 }) }];
    const m = measureCheck(canary, base, []);
    expect(m.canaryRequests).toBe(100);
    expect(evaluateCheck(m, policy).outcome).toBe('failed');
  });
});

describe('windowOutcome', () => {
  it('fails once failures exceed the limit, passes after count checks', () => {
    const p = { analysisChecks: 3, failureLimit: 0 };
    expect(windowOutcome([], p)).toBe('running');
    expect(windowOutcome(['passed', 'passed'], p)).toBe('running');
    expect(windowOutcome(['passed', 'passed', 'passed'], p)).toBe('passed');
    expect(windowOutcome(['passed', 'failed'], p)).toBe('failed');
    expect(windowOutcome(['failed', 'passed', 'passed'], { analysisChecks: 3, failureLimit: 1 })).toBe('passed');
    expect(windowOutcome(['failed', 'failed'], { analysisChecks: 3, failureLimit: 1 })).toBe('failed');
  });

  it('inconclusive checks neither fail nor pass the window: it ends inconclusive, unless failures exceed the limit', () => {
    const p = { analysisChecks: 3, failureLimit: 0 };
    expect(windowOutcome(['inconclusive', 'inconclusive'], p)).toBe('running');
    expect(windowOutcome(['inconclusive', 'inconclusive', 'inconclusive'], p)).toBe('inconclusive');
    expect(windowOutcome(['passed', 'inconclusive', 'passed'], p)).toBe('inconclusive');
    expect(windowOutcome(['inconclusive', 'failed'], p)).toBe('failed');
    expect(windowOutcome(['inconclusive', 'failed', 'passed'], { analysisChecks: 3, failureLimit: 1 })).toBe('inconclusive');
  });
});

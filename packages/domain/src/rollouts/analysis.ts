import type { TAnalysisMetrics, TRolloutPolicy } from '@fleetplane/contracts';
import { counterIncrease } from '../health/counters';
import { bucketQuantile, histogramIncrease, sumHistograms, type HistogramBucket } from './histogram';

/** One engine scrape of one node, as stored from the agent (cumulative counters). */
export interface EngineScrape {
  at: Date;
  /** Finite TTFT buckets (cumulative); the +Inf bucket is `ttftCount`. Null: the agent did not send them. */
  ttftBuckets: readonly HistogramBucket[] | null;
  ttftCount: number | null;
  requestsFinished: number | null;
  requestsFailed: number | null;
  generationTokens: number | null;
}

export interface NodeWindow {
  nodeId: string;
  scrapes: readonly EngineScrape[];
}

function ttftIncrease(node: NodeWindow): HistogramBucket[] | null {
  const full = node.scrapes
    .filter((s) => s.ttftBuckets !== null && s.ttftCount !== null)
    .map((s) => [...s.ttftBuckets!, { le: Infinity, count: s.ttftCount! }]);
  return histogramIncrease(full);
}

/** TTFT p99 over the window across nodes: per-bucket increases, summed by bound, then the quantile. */
export function windowTtftP99(nodes: readonly NodeWindow[]): number | null {
  const sets = nodes.map(ttftIncrease).filter((s): s is HistogramBucket[] => s !== null);
  if (sets.length === 0) return null;
  const q = bucketQuantile(0.99, sumHistograms(sets));
  return Number.isFinite(q) ? q : null;
}

function sumIncrease(nodes: readonly NodeWindow[], pick: (s: EngineScrape) => number | null): number | null {
  const incs = nodes.map((n) => counterIncrease(n.scrapes.map(pick))).filter((v): v is number => v !== null);
  return incs.length ? incs.reduce((a, b) => a + b, 0) : null;
}

/** Failed requests among finished ones over the window, in percent; null without finished requests. */
export function windowErrorRatePct(nodes: readonly NodeWindow[]): { pct: number | null; finished: number | null } {
  const finished = sumIncrease(nodes, (s) => s.requestsFinished);
  const failed = sumIncrease(nodes, (s) => s.requestsFailed);
  if (finished === null || finished === 0) return { pct: null, finished };
  return { pct: ((failed ?? 0) / finished) * 100, finished };
}

/** Output tokens/s per node (non-extrapolated delta over the node's own scrape span), averaged over nodes. */
export function windowTokensPerSecondPerNode(nodes: readonly NodeWindow[]): number | null {
  const rates: number[] = [];
  for (const n of nodes) {
    const withTokens = n.scrapes.filter((s) => s.generationTokens !== null);
    if (withTokens.length < 2) continue;
    const span = (withTokens[withTokens.length - 1]!.at.getTime() - withTokens[0]!.at.getTime()) / 1000;
    const inc = counterIncrease(withTokens.map((s) => s.generationTokens));
    if (span > 0 && inc !== null) rates.push(inc / span);
  }
  return rates.length ? rates.reduce((a, b) => a + b, 0) / rates.length : null;
}

/** Everything one check measures: the step's nodes against the nodes still on the previous artifact. */
export function measureCheck(
  canary: readonly NodeWindow[],
  baseline: readonly NodeWindow[],
  newCriticalGpus: readonly string[],
): TAnalysisMetrics {
  const err = windowErrorRatePct(canary);
  return {
    canaryTtftP99Seconds: windowTtftP99(canary),
    baselineTtftP99Seconds: baseline.length ? windowTtftP99(baseline) : null,
    canaryErrorRatePct: err.pct,
    canaryTokensPerSecondPerNode: windowTokensPerSecondPerNode(canary),
    baselineTokensPerSecondPerNode: baseline.length ? windowTokensPerSecondPerNode(baseline) : null,
    canaryRequests: err.finished,
    newCriticalGpus: [...newCriticalGpus],
  };
}

/**
 * A check's outcome. Inconclusive (Argo Rollouts' third phase): the canary saw no traffic, so nothing says
 * the new artifact is better or worse; it neither passes nor counts against the failure limit.
 */
export type CheckOutcome = 'passed' | 'failed' | 'inconclusive';

export interface CheckVerdict {
  outcome: CheckOutcome;
  /** Why it failed, each naming the measured value and the limit. */
  failures: string[];
  /** Checks not applied and why (no baseline nodes left, no traffic, ...). */
  notes: string[];
}

const fmt = (v: number, digits = 3) => Number(v.toPrecision(digits)).toString();

/** Judges one check against the policy's thresholds (Flagger: a check fails if any metric is out of range). */
export function evaluateCheck(m: TAnalysisMetrics, policy: TRolloutPolicy): CheckVerdict {
  const failures: string[] = [];
  const notes: string[] = [];
  const noTraffic = m.canaryRequests === null || m.canaryRequests === 0;
  if (noTraffic) {
    if (policy.failOnNoTraffic) failures.push('no traffic on the canary: no values found');
    else notes.push('no traffic on the canary: inconclusive, metrics not judged');
  }
  if (m.canaryTtftP99Seconds !== null) {
    if (policy.maxTtftP99Seconds !== null && m.canaryTtftP99Seconds > policy.maxTtftP99Seconds)
      failures.push(`TTFT p99 ${fmt(m.canaryTtftP99Seconds)} s > limit ${fmt(policy.maxTtftP99Seconds)} s`);
    if (m.baselineTtftP99Seconds !== null && m.baselineTtftP99Seconds > 0) {
      const limit = m.baselineTtftP99Seconds * policy.maxTtftP99Ratio;
      if (m.canaryTtftP99Seconds > limit)
        failures.push(
          `TTFT p99 ${fmt(m.canaryTtftP99Seconds)} s > ${fmt(policy.maxTtftP99Ratio)} × previous artifact's ${fmt(m.baselineTtftP99Seconds)} s`,
        );
    } else notes.push('no TTFT baseline from nodes on the previous artifact');
  }
  if (m.canaryErrorRatePct !== null && m.canaryErrorRatePct > policy.maxErrorRatePct)
    failures.push(`error rate ${fmt(m.canaryErrorRatePct)} % > limit ${fmt(policy.maxErrorRatePct)} %`);
  if (m.canaryTokensPerSecondPerNode !== null && m.baselineTokensPerSecondPerNode !== null && m.baselineTokensPerSecondPerNode > 0) {
    const min = m.baselineTokensPerSecondPerNode * policy.minTokensPerSecondRatio;
    if (m.canaryTokensPerSecondPerNode < min)
      failures.push(
        `output ${fmt(m.canaryTokensPerSecondPerNode)} tokens/s per node < ${fmt(policy.minTokensPerSecondRatio)} × previous artifact's ${fmt(m.baselineTokensPerSecondPerNode)}`,
      );
  }
  if (m.newCriticalGpus.length) failures.push(`new critical GPU health on ${m.newCriticalGpus.join(', ')}`);
  // Failures win (a new critical GPU fails a quiet canary too); otherwise no traffic means no verdict.
  const outcome: CheckOutcome = failures.length ? 'failed' : noTraffic ? 'inconclusive' : 'passed';
  return { outcome, failures, notes };
}

export type WindowOutcome = 'running' | 'passed' | 'failed' | 'inconclusive';

/**
 * Argo Rollouts' metric phase: failed once failures exceed the limit; after `count` checks, passed when every
 * check passed, else inconclusive (Argo's default inconclusiveLimit of 0), which pauses the rollout for a
 * person to promote or abort: a window without traffic is no evidence either way.
 */
export function windowOutcome(
  checks: readonly CheckOutcome[],
  policy: Pick<TRolloutPolicy, 'analysisChecks' | 'failureLimit'>,
): WindowOutcome {
  const failed = checks.filter((c) => c === 'failed').length;
  if (failed > policy.failureLimit) return 'failed';
  if (checks.length < policy.analysisChecks) return 'running';
  return checks.includes('inconclusive') ? 'inconclusive' : 'passed';
}

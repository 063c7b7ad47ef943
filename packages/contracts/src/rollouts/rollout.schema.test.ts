import { describe, expect, it } from 'vitest';
import { DEFAULT_ROLLOUT_POLICY, readRolloutPolicy, ZRolloutPolicy } from './rollout.schema';

describe('rollout policy', () => {
  it('defaults follow Argo Rollouts / Flagger analysis', () => {
    expect(DEFAULT_ROLLOUT_POLICY).toMatchObject({
      analysisIntervalSeconds: 60,
      failureLimit: 0,
      maxErrorRatePct: 1,
      // No traffic on the canary is inconclusive (Argo), not a failed check (Flagger): docs/decisions.md.
      failOnNoTraffic: false,
      autoRolloutOnApproval: false,
    });
  });
  it('a stored policy missing keys takes the defaults; a broken one falls back whole', () => {
    expect(readRolloutPolicy({ waves: 4 })).toEqual({ ...DEFAULT_ROLLOUT_POLICY, waves: 4 });
    expect(readRolloutPolicy(null)).toEqual(DEFAULT_ROLLOUT_POLICY);
    expect(readRolloutPolicy({ waves: -1 })).toEqual(DEFAULT_ROLLOUT_POLICY);
  });
  it('refuses out-of-range settings', () => {
    expect(ZRolloutPolicy.safeParse({ minTokensPerSecondRatio: 1.5 }).success).toBe(false);
    expect(ZRolloutPolicy.safeParse({ canarySharePct: 0 }).success).toBe(false);
  });
});

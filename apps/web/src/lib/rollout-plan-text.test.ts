import { describe, expect, it } from 'vitest';
import { countOf } from '@fleetplane/domain';
import { rolloutPlanText } from './rollout-plan-text';

describe('rolloutPlanText', () => {
  it('a one-node cluster: the canary is the whole cluster, no waves', () => {
    expect(rolloutPlanText([1], 2)).toBe('Canary on 1 node, the whole cluster: no waves.');
  });
  it('two nodes under a two-wave policy: one wave of one node, saying why not two', () => {
    expect(rolloutPlanText([1, 1], 2)).toBe(
      'Canary on 1 node, then 1 wave of 1 node (the policy allows up to 2; 1 node left after the canary).',
    );
  });
  it('equal and unequal waves', () => {
    expect(rolloutPlanText([1, 2, 2], 2)).toBe('Canary on 1 node, then 2 waves of 2 nodes each.');
    expect(rolloutPlanText([2, 3, 2], 2)).toBe('Canary on 2 nodes, then 2 waves of 3, 2 nodes.');
    expect(rolloutPlanText([], 2)).toBe('No nodes.');
  });
  it('counts without "(s)"', () => {
    expect(countOf(1, 'wave')).toBe('1 wave');
    expect(countOf(0, 'check')).toBe('0 checks');
  });
});

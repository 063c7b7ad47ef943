import { describe, expect, it } from 'vitest';
import { DEFAULT_ROLLOUT_POLICY } from '@fleetplane/contracts';
import { canarySize, planRollout, rollbackArtifactFor } from './plan';

const nodes = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `n${i + 1}` }));
const policy = { ...DEFAULT_ROLLOUT_POLICY };

describe('planRollout', () => {
  it('prefetches everywhere, then one canary, then the rest in waves', () => {
    expect(planRollout(nodes(5), policy)).toEqual({
      prefetch: ['n1', 'n2', 'n3', 'n4', 'n5'],
      steps: [['n1'], ['n2', 'n3'], ['n4', 'n5']],
    });
  });

  it('spreads a remainder over the first waves', () => {
    expect(planRollout(nodes(6), { ...policy, waves: 2 }).steps).toEqual([['n1'], ['n2', 'n3', 'n4'], ['n5', 'n6']]);
    expect(planRollout(nodes(4), { ...policy, waves: 5 }).steps).toEqual([['n1'], ['n2'], ['n3'], ['n4']]);
  });

  it('takes labelled canaries first', () => {
    const plan = planRollout([{ id: 'a' }, { id: 'b', preferCanary: true }, { id: 'c' }], policy);
    expect(plan.steps[0]).toEqual(['b']);
    expect(plan.prefetch).toEqual(['a', 'b', 'c']);
  });

  it('a single node is its own canary, with no waves; no nodes, no steps', () => {
    expect(planRollout(nodes(1), policy).steps).toEqual([['n1']]);
    expect(planRollout([], policy).steps).toEqual([]);
  });
});

describe('canarySize', () => {
  it('rounds a share up, keeps at least one node on the previous artifact', () => {
    expect(canarySize(10, { canaryNodes: 1, canarySharePct: 25 })).toBe(3);
    expect(canarySize(10, { canaryNodes: 1, canarySharePct: 1 })).toBe(1);
    expect(canarySize(3, { canaryNodes: 1, canarySharePct: 100 })).toBe(2);
    expect(canarySize(3, { canaryNodes: 5, canarySharePct: null })).toBe(2);
    expect(canarySize(1, { canaryNodes: 5, canarySharePct: null })).toBe(1);
    expect(canarySize(0, { canaryNodes: 1, canarySharePct: null })).toBe(0);
  });
});

describe('rollbackArtifactFor', () => {
  const none = {
    nodeDeploymentArtifactId: null,
    reportedArtifactId: null,
    reportedServingNothing: false,
    clusterDeploymentArtifactId: null,
  };

  it("puts back the node's own deployment first", () => {
    expect(
      rollbackArtifactFor({
        ...none,
        nodeDeploymentArtifactId: 'a-node',
        reportedArtifactId: 'a-seen',
        clusterDeploymentArtifactId: 'a-cluster',
      }),
    ).toBe('a-node');
  });

  it('else what the engine really serves', () => {
    expect(rollbackArtifactFor({ ...none, reportedArtifactId: 'a-seen', clusterDeploymentArtifactId: 'a-cluster' })).toBe('a-seen');
  });

  it("else, for a node never touched by a rollout, the cluster's deployment (not nothing: that would stop its engine)", () => {
    expect(rollbackArtifactFor({ ...none, clusterDeploymentArtifactId: 'a-cluster' })).toBe('a-cluster');
  });

  it('nothing only for a node known to serve nothing, or with nothing deployed anywhere', () => {
    expect(rollbackArtifactFor({ ...none, reportedServingNothing: true, clusterDeploymentArtifactId: 'a-cluster' })).toBeNull();
    expect(rollbackArtifactFor(none)).toBeNull();
  });
});

import type { TRolloutPolicy } from '@fleetplane/contracts';

export interface PlanNode {
  id: string;
  /** Operators mark preferred canaries with the node label canary=true. */
  preferCanary?: boolean;
}

export interface RolloutPlan {
  /** Every node, in the order it is prefetched (all of them, before any engine is touched). */
  prefetch: string[];
  /** steps[0] is the canary, steps[1..] the waves; each is followed by an analysis window. */
  steps: string[][];
}

/** How many nodes the canary takes: a share (rounded up, at least one) or a count, never all but when alone. */
export function canarySize(nodeCount: number, policy: Pick<TRolloutPolicy, 'canaryNodes' | 'canarySharePct'>): number {
  if (nodeCount <= 0) return 0;
  const wanted = policy.canarySharePct !== null ? Math.ceil((nodeCount * policy.canarySharePct) / 100) : policy.canaryNodes;
  // The canary is compared against nodes still on the previous artifact: leave at least one when there are two.
  return Math.max(1, Math.min(wanted, nodeCount === 1 ? 1 : nodeCount - 1));
}

/**
 * Prefetch on every node first, then a canary (preferred canaries first, then the given order), then the
 * remaining nodes split into `waves` nearly equal waves (earlier waves take the remainder).
 */
export function planRollout(
  nodes: readonly PlanNode[],
  policy: Pick<TRolloutPolicy, 'canaryNodes' | 'canarySharePct' | 'waves'>,
): RolloutPlan {
  const ordered = [...nodes.filter((n) => n.preferCanary), ...nodes.filter((n) => !n.preferCanary)].map((n) => n.id);
  const size = canarySize(ordered.length, policy);
  const canary = ordered.slice(0, size);
  const rest = ordered.slice(size);
  const waveCount = Math.min(policy.waves, rest.length);
  const waves: string[][] = [];
  let offset = 0;
  for (let w = 0; w < waveCount; w++) {
    const len = Math.floor(rest.length / waveCount) + (w < rest.length % waveCount ? 1 : 0);
    waves.push(rest.slice(offset, offset + len));
    offset += len;
  }
  return { prefetch: nodes.map((n) => n.id), steps: canary.length ? [canary, ...waves] : [] };
}

/** What is known about one node when a rollout starts, to decide what a rollback puts back on it. */
export interface NodeRollbackFacts {
  /** The artifact of the node's own active deployment (set once a rollout or rollback has touched it). */
  nodeDeploymentArtifactId: string | null;
  /** What its agent reports the engine serving, resolved to a registered artifact; null when unknown or none. */
  reportedArtifactId: string | null;
  /** Whether the agent has reported at all, and the engine is stopped or failed (so nothing is served). */
  reportedServingNothing: boolean;
  /** The artifact of the cluster's active deployment: what every node of the cluster is meant to serve. */
  clusterDeploymentArtifactId: string | null;
}

/**
 * The artifact a rollback restores on a node: its own deployment when it has one; else what its engine really
 * serves; else, when the agent has said nothing, the cluster's deployment. Only a node known to serve nothing is
 * rolled back to nothing (its engine stopped): a node never touched by a rollout still serves the cluster's
 * artifact, and stopping it on a failed canary would take capacity down instead of putting it back.
 */
export function rollbackArtifactFor(f: NodeRollbackFacts): string | null {
  if (f.nodeDeploymentArtifactId) return f.nodeDeploymentArtifactId;
  if (f.reportedArtifactId) return f.reportedArtifactId;
  if (f.reportedServingNothing) return null;
  return f.clusterDeploymentArtifactId;
}

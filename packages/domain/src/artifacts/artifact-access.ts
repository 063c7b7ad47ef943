/**
 * Who may download an artifact's files: a node may fetch an artifact only when its own cluster has a reason
 * to hold it. Anything else is answered as if the artifact did not exist (404), so a credential cannot even
 * learn which artifacts another cluster runs.
 */

/** Deployment states in which the cluster runs, or is about to run, the artifact. */
export const ACCESS_DEPLOYMENT_STATES = ['pending', 'rolling_out', 'active'] as const;
/** Proposal states in which the artifact may soon be rolled out to the cluster (prefetch ahead of approval). */
export const ACCESS_PROPOSAL_STATES = ['pending_validation', 'pending_approval', 'approved'] as const;
/** Command states in which the agent may still be working on it. */
export const ACCESS_COMMAND_STATES = ['queued', 'delivered', 'running'] as const;

export interface ArtifactAccessFacts {
  /** The caller: the node its credential belongs to, and that node's cluster. */
  node: { id: string; clusterId: string };
  /** Null when no artifact has this id (or it is not ready to serve). */
  artifact: { id: string } | null;
  /** Deployments of this artifact (any cluster; nodeId null = cluster-wide). */
  deployments: ReadonlyArray<{ clusterId: string; nodeId: string | null; state: string }>;
  /** Commands that reference this artifact (any node). */
  commands: ReadonlyArray<{ nodeId: string; state: string }>;
  /** Upgrade proposals for this artifact (any cluster). */
  proposals: ReadonlyArray<{ clusterId: string; state: string }>;
}

export type ArtifactAccessDecision =
  { allowed: true; reason: 'deployment' | 'command' | 'proposal' } | { allowed: false; reason: 'no_artifact' | 'not_for_this_node' };

const has = (list: readonly string[], v: string) => list.includes(v);

export function decideArtifactAccess(facts: ArtifactAccessFacts): ArtifactAccessDecision {
  if (!facts.artifact) return { allowed: false, reason: 'no_artifact' };
  const { node } = facts;
  // A node-specific deployment belongs to that node only; a cluster-wide one to every node of the cluster.
  const deployed = facts.deployments.some(
    (d) => d.clusterId === node.clusterId && (d.nodeId === null || d.nodeId === node.id) && has(ACCESS_DEPLOYMENT_STATES, d.state),
  );
  if (deployed) return { allowed: true, reason: 'deployment' };
  if (facts.commands.some((c) => c.nodeId === node.id && has(ACCESS_COMMAND_STATES, c.state))) return { allowed: true, reason: 'command' };
  if (facts.proposals.some((p) => p.clusterId === node.clusterId && has(ACCESS_PROPOSAL_STATES, p.state)))
    return { allowed: true, reason: 'proposal' };
  return { allowed: false, reason: 'not_for_this_node' };
}

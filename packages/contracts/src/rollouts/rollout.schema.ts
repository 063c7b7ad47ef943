import { z } from 'zod';
import { listInput, ZId } from '../common/pagination';

/**
 * Rollout states. `analysing` follows each step (the canary, then every wave); `paused` keeps the state it
 * left in `pausedFrom`; `rolling_back` ends in `rolled_back` (analysis failed or a node failed the step),
 * `aborted` (an operator aborted) or `failed` (the rollback itself could not finish on every node).
 */
export const ROLLOUT_STATES = [
  'pending',
  'prefetching',
  'canary',
  'analysing',
  'waves',
  'paused',
  'succeeded',
  'rolling_back',
  'rolled_back',
  'aborted',
  'failed',
] as const;
export const ZRolloutState = z.enum(ROLLOUT_STATES);
export type TRolloutState = z.infer<typeof ZRolloutState>;
export const TERMINAL_ROLLOUT_STATES: readonly TRolloutState[] = ['succeeded', 'rolled_back', 'aborted', 'failed'];

export const ROLLOUT_NODE_STATES = [
  'pending',
  'prefetching',
  'prefetched',
  'loading',
  'serving',
  'rolling_back',
  'rolled_back',
  'failed',
] as const;
export const ZRolloutNodeState = z.enum(ROLLOUT_NODE_STATES);
export type TRolloutNodeState = z.infer<typeof ZRolloutNodeState>;

export const ZRolloutKind = z.enum(['upgrade', 'rollback']);
export type TRolloutKind = z.infer<typeof ZRolloutKind>;

/**
 * A cluster's rollout policy. Defaults follow Flagger / Argo Rollouts analysis (../shared engines-and-rollouts §6):
 * a 60 s interval (Flagger), failure limit 0 = the first failed check rolls back (Argo's default, Flagger's
 * threshold 1), "no values found" counts as a failed check (Flagger), error rate at most 1 %
 * (Flagger request-success-rate min 99).
 */
export const ZRolloutPolicy = z.object({
  /** Canary size: this many nodes, unless canarySharePct is set (then that share of the nodes, at least one). */
  canaryNodes: z.number().int().min(1).max(1000).default(1),
  canarySharePct: z.number().int().min(1).max(100).nullable().default(null),
  /** Waves the remaining nodes are split into after the canary. */
  waves: z.number().int().min(1).max(100).default(2),
  analysisIntervalSeconds: z.number().int().min(1).max(3600).default(60),
  /** Checks per analysis window (Argo `count`). */
  analysisChecks: z.number().int().min(1).max(100).default(5),
  /** Failed checks tolerated in a window; one more rolls back (Argo `failureLimit`). */
  failureLimit: z.number().int().min(0).max(100).default(0),
  /** Canary TTFT p99 may be at most this many times the previous artifact's on the other nodes. */
  maxTtftP99Ratio: z.number().min(1).max(100).default(1.5),
  /** And at most this many seconds absolute (null = no absolute cap). */
  maxTtftP99Seconds: z.number().positive().max(3600).nullable().default(null),
  /** Failed requests among finished ones, in percent. */
  maxErrorRatePct: z.number().min(0).max(100).default(1),
  /** Canary output tokens/s per node at least this share of the previous artifact's per node. */
  minTokensPerSecondRatio: z.number().min(0).max(1).default(0.8),
  /**
   * A check with no traffic on the canary fails (Flagger's "no values found"). Off (the default): it is
   * inconclusive, and a window with an inconclusive check pauses the rollout for a person (Argo Rollouts).
   */
  failOnNoTraffic: z.boolean().default(false),
  /** Roll out as soon as a proposal for this cluster is approved. */
  autoRolloutOnApproval: z.boolean().default(false),
});
export type TRolloutPolicy = z.infer<typeof ZRolloutPolicy>;
export const DEFAULT_ROLLOUT_POLICY: TRolloutPolicy = ZRolloutPolicy.parse({});

/** Reads a stored policy: missing keys take the defaults, a broken value falls back to the defaults entirely. */
export function readRolloutPolicy(stored: unknown): TRolloutPolicy {
  const parsed = ZRolloutPolicy.safeParse(stored ?? {});
  return parsed.success ? parsed.data : DEFAULT_ROLLOUT_POLICY;
}

export const ZUpdateRolloutPolicyInput = z.object({ clusterId: ZId, policy: ZRolloutPolicy });
export const ZStartRolloutInput = z.object({ proposalId: ZId });
export const ZRollbackToDeploymentInput = z.object({
  deploymentId: ZId,
  reason: z.string().trim().min(1, 'Say why').max(1000),
});
export const ZRolloutActionInput = z.object({ id: ZId, reason: z.string().trim().max(1000).optional() });
export const ZRolloutListInput = listInput(['createdAt', 'state', 'finishedAt'] as const, 'createdAt').extend({
  clusterId: ZId.optional(),
  state: ZRolloutState.optional(),
});
export const ZClusterHistoryInput = z.object({ clusterId: ZId, limit: z.number().int().min(1).max(200).default(50) });
export const ZNodeProvenanceInput = z.object({ nodeId: ZId });

/** One analysis check's measured values (null: not measurable, e.g. no traffic). */
export const ZAnalysisMetrics = z.object({
  canaryTtftP99Seconds: z.number().nullable(),
  baselineTtftP99Seconds: z.number().nullable(),
  canaryErrorRatePct: z.number().nullable(),
  canaryTokensPerSecondPerNode: z.number().nullable(),
  baselineTokensPerSecondPerNode: z.number().nullable(),
  canaryRequests: z.number().nullable(),
  newCriticalGpus: z.array(z.string()),
});
export type TAnalysisMetrics = z.infer<typeof ZAnalysisMetrics>;

export type TUpdateRolloutPolicyInput = z.input<typeof ZUpdateRolloutPolicyInput>;
export type TStartRolloutInput = z.input<typeof ZStartRolloutInput>;
export type TRollbackToDeploymentInput = z.input<typeof ZRollbackToDeploymentInput>;
export type TRolloutActionInput = z.input<typeof ZRolloutActionInput>;
export type TRolloutListInput = z.input<typeof ZRolloutListInput>;

import { z } from 'zod';
import { listInput, ZId } from '../common/pagination';

export const PROPOSAL_STATES = [
  'pending_validation',
  'pending_approval',
  'approved',
  'rejected',
  'expired',
  'voided',
  'rolled_out',
] as const;
export const ZProposalState = z.enum(PROPOSAL_STATES);
export type TProposalState = z.infer<typeof ZProposalState>;

export const PROPOSAL_ORIGINS = ['pipeline', 'operator'] as const;
export const ZProposalOrigin = z.enum(PROPOSAL_ORIGINS);
export type TProposalOrigin = z.infer<typeof ZProposalOrigin>;

export const ZProposalListInput = listInput(['createdAt', 'expiresAt', 'state'] as const, 'createdAt').extend({
  sortDir: z.enum(['asc', 'desc']).default('desc'),
  clusterId: ZId.optional(),
  state: ZProposalState.optional(),
  /** Only open proposals (pending validation, pending approval, approved). */
  openOnly: z.boolean().optional(),
});
export type TProposalListInput = z.input<typeof ZProposalListInput>;

/** An operator asks for an upgrade of a cluster to an artifact (the pipeline's validate stage calls the service directly). */
export const ZCreateProposalInput = z.object({
  artifactId: ZId,
  clusterId: ZId,
  /** A finished validation run of this artifact on this cluster; without one the proposal waits in pending_validation. */
  validationRunId: ZId.nullable().optional(),
  reason: z.string().trim().max(2000).optional(),
});
export type TCreateProposalInput = z.input<typeof ZCreateProposalInput>;

export const ZApproveProposalInput = z.object({
  id: ZId,
  comment: z.string().trim().max(2000).optional(),
});
export type TApproveProposalInput = z.input<typeof ZApproveProposalInput>;

export const ZRejectProposalInput = z.object({
  id: ZId,
  reason: z.string().trim().min(1, 'Say why the proposal is rejected').max(2000),
});
export type TRejectProposalInput = z.input<typeof ZRejectProposalInput>;

/** Admin: the cluster's approval policy. */
export const ZClusterApprovalPolicyInput = z.object({
  clusterId: ZId,
  approvalsRequired: z.number().int().min(1, 'At least one approval').max(5),
  proposalExpiryDays: z.number().int().min(1).max(90),
  /** Validation suite proposals gate on; null = the default gating suite. */
  gatingSuiteName: z.string().trim().min(1).max(63).nullable(),
});
export type TClusterApprovalPolicyInput = z.input<typeof ZClusterApprovalPolicyInput>;

const ZCompatVerdictSnapshot = z.object({
  rule: z.string(),
  status: z.enum(['pass', 'warn', 'fail', 'unknown', 'not_applicable']),
  reason: z.string(),
});

/** The compatibility / fit check of the artifact against the cluster, as recorded when the proposal was made. */
export const ZProposalCompatibility = z.object({
  /** null: the check could not run (e.g. the cluster's GPU is not in the catalog); never blocks. */
  compatible: z.boolean().nullable(),
  fits: z.boolean().nullable(),
  fitSummary: z.string().nullable(),
  problem: z.string().nullable(),
  verdicts: z.array(ZCompatVerdictSnapshot),
});
export type TProposalCompatibility = z.infer<typeof ZProposalCompatibility>;

/**
 * What a proposal's evidence digest is computed over (schema version 1): the artifact, the cluster, the
 * validation run's sealed evidence digest and verdict, and the compatibility / fit check.
 */
export const ZProposalEvidence = z.object({
  schemaVersion: z.literal(1),
  artifactDigest: z.string(),
  clusterId: z.string(),
  validation: z
    .object({
      runId: z.string(),
      verdict: z.string().nullable(),
      evidenceDigest: z.string().nullable(),
    })
    .nullable(),
  compatibility: ZProposalCompatibility,
});
export type TProposalEvidence = z.infer<typeof ZProposalEvidence>;

export const PROPOSAL_EVENTS = ['created', 'approved', 'rejected', 'expired', 'voided', 'rolled_out', 'evidence_changed'] as const;
export const ZProposalEvent = z.enum(PROPOSAL_EVENTS);
export type TProposalEvent = z.infer<typeof ZProposalEvent>;

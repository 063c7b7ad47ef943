import {
  ZApproveProposalInput,
  ZClusterApprovalPolicyInput,
  ZCreateProposalInput,
  ZIdInput,
  ZProposalListInput,
  ZRejectProposalInput,
} from '@fleetplane/contracts';
import * as svc from '@fleetplane/services';
import { procedure, router } from '../trpc';

export const proposalsRouter = router({
  list: procedure('viewer')
    .input(ZProposalListInput)
    .query(({ ctx, input }) => svc.listProposals(ctx, input)),
  get: procedure('viewer')
    .input(ZIdInput)
    .query(({ ctx, input }) => svc.getProposal(ctx, input.id)),
  /** What a rollout would be told: approved enough, or why not. */
  decisionState: procedure('viewer')
    .input(ZIdInput)
    .query(({ ctx, input }) => svc.getProposalDecisionState(ctx.prisma, input.id)),
  create: procedure('operator')
    .input(ZCreateProposalInput)
    .mutation(({ ctx, input }) => svc.requestUpgradeProposal(ctx, input)),
  approve: procedure('approver')
    .input(ZApproveProposalInput)
    .mutation(({ ctx, input }) => svc.approveProposal(ctx, input)),
  reject: procedure('approver')
    .input(ZRejectProposalInput)
    .mutation(({ ctx, input }) => svc.rejectProposal(ctx, input)),
  /** Admin: approvals required, expiry days and gating suite of a cluster. */
  updatePolicy: procedure('admin')
    .input(ZClusterApprovalPolicyInput)
    .mutation(({ ctx, input }) => svc.updateClusterApprovalPolicy(ctx, input)),
});

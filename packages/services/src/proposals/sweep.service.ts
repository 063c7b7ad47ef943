import type { PrismaClient } from '@fleetplane/db';
import { compatibilityRefusal, validationRefusal } from '@fleetplane/domain';
import { SYSTEM_ACTOR } from '../context';
import { buildProposalEvidence, lockProposal, openStates, recordDecision } from './proposal-support';

/**
 * The repeatable proposals job: open proposals past their expiry become expired, and proposals waiting
 * for a validation run that has finished since move on (pass: pending approval with the sealed evidence;
 * anything else: rejected, saying why). Each proposal changes in its own transaction under its row lock
 * and only from the state it was read in, so replicas running the job at once change each one once.
 */
export async function sweepProposals(prisma: PrismaClient, now: Date = new Date()) {
  let expired = 0;
  let settled = 0;
  const due = await prisma.upgradeProposal.findMany({
    where: { state: { in: openStates() }, expiresAt: { lte: now } },
    select: { id: true },
    take: 500,
  });
  for (const { id } of due) {
    const changed = await prisma.$transaction(async (tx) => {
      await lockProposal(tx, id);
      const p = await tx.upgradeProposal.findUnique({ where: { id }, select: { state: true, expiresAt: true } });
      if (!p || !openStates().includes(p.state) || p.expiresAt > now) return false;
      const stateReason = `Expired at ${p.expiresAt.toISOString()} without being rolled out.`;
      await tx.upgradeProposal.update({ where: { id }, data: { state: 'expired', stateReason, decidedAt: now } });
      await recordDecision(
        tx,
        SYSTEM_ACTOR,
        { action: 'proposal.expire', targetId: id, before: { state: p.state }, after: { state: 'expired' } },
        { event: 'expired', detail: stateReason },
      );
      return true;
    });
    if (changed) expired += 1;
  }

  const waiting = await prisma.upgradeProposal.findMany({
    where: { state: 'pending_validation', validationRun: { state: { notIn: ['queued', 'running'] } } },
    select: { id: true },
    take: 500,
  });
  for (const { id } of waiting) {
    const changed = await prisma.$transaction(async (tx) => {
      await lockProposal(tx, id);
      const p = await tx.upgradeProposal.findUnique({
        where: { id },
        select: {
          state: true,
          clusterId: true,
          artifactId: true,
          artifactDigest: true,
          evidenceDigest: true,
          validationRun: { select: { id: true, state: true, verdict: true, summary: true, evidenceDigest: true } },
        },
      });
      if (!p || p.state !== 'pending_validation' || !p.validationRun) return false;
      const run = p.validationRun;
      if (run.state === 'queued' || run.state === 'running') return false;
      const sealed = await buildProposalEvidence(tx, {
        artifactId: p.artifactId,
        artifactDigest: p.artifactDigest,
        clusterId: p.clusterId,
        run,
      });
      const refusal = validationRefusal(run) ?? compatibilityRefusal(sealed.evidence.compatibility, sealed.clusterName);
      const state = refusal ? 'rejected' : 'pending_approval';
      await tx.upgradeProposal.update({
        where: { id },
        data: {
          state,
          evidence: sealed.evidence as object,
          evidenceDigest: sealed.digest,
          stateReason: refusal ?? '',
          decidedAt: refusal ? now : null,
        },
      });
      await recordDecision(
        tx,
        SYSTEM_ACTOR,
        {
          action: refusal ? 'proposal.reject' : 'proposal.evidence_changed',
          targetId: id,
          before: { state: p.state, evidenceDigest: p.evidenceDigest },
          after: { state, evidenceDigest: sealed.digest, validationRunId: run.id, ...(refusal ? { reason: refusal } : {}) },
        },
        { event: refusal ? 'rejected' : 'evidence_changed', detail: refusal ?? 'Validation finished: the proposal waits for approval.' },
      );
      return true;
    });
    if (changed) settled += 1;
  }
  return { expired, settled };
}

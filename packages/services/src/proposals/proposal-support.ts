import { proposalNotificationJob, type TProposalEvent, type TProposalEvidence, type TProposalState } from '@fleetplane/contracts';
import { AuditRepository, type AuditActor, type AuditEntry, type Db, type PrismaClient } from '@fleetplane/db';
import { compatibilitySnapshot, sealProposalEvidence } from '@fleetplane/domain';
import { compatibilityForPair } from '../capacity/compatibility.service';
import { addToOutbox } from '../outbox/outbox.service';
import { lockKey, lockRow } from '../shared/locks.sql';

/**
 * Runs fn in one transaction: inside the caller's when `db` already is one (the validate step creates a
 * proposal in its own transaction), else in a new one, so the advisory and row locks hold until commit.
 */
export function inTransaction<T>(db: Db | PrismaClient, fn: (tx: Db) => Promise<T>): Promise<T> {
  if ('$transaction' in db && typeof db.$transaction === 'function') return (db as PrismaClient).$transaction((tx) => fn(tx));
  return fn(db);
}

/** Serialises proposal changes per cluster (create, void, expire) so two creates cannot both open one. */
export async function lockClusterProposals(tx: Db, clusterId: string) {
  await lockKey(tx, 'proposals:' + clusterId);
}

/** Locks one proposal row until commit: concurrent approvals see each other's rows. */
export async function lockProposal(tx: Db, proposalId: string): Promise<boolean> {
  return lockRow(tx, 'upgrade_proposal', proposalId);
}

/** The audit record and the webhook notification of one decision, in the caller's transaction. */
export async function recordDecision(
  tx: Db,
  actor: AuditActor,
  entry: Omit<AuditEntry, 'targetType'> & { targetId: string },
  notify: { event: TProposalEvent; detail?: string } | null,
) {
  const event = await new AuditRepository(tx).record(actor, { ...entry, targetType: 'upgrade_proposal' });
  if (notify) {
    const payload = { proposalId: entry.targetId, event: notify.event, key: event.id, detail: (notify.detail ?? '').slice(0, 2000) };
    await addToOutbox(tx, proposalNotificationJob, payload, proposalNotificationJob.jobId!(payload));
  }
  return event;
}

/** Everyone who counts as having asked for the proposal (separation of duties). */
export function requesterIdsOf(p: { requestedById: string | null; pipelineRun: { triggeredById: string | null } | null }): string[] {
  return [p.requestedById, p.pipelineRun?.triggeredById ?? null].filter((v): v is string => !!v);
}

export interface TRunForEvidence {
  id: string;
  state: string;
  verdict: string | null;
  summary: string;
  evidenceDigest: string | null;
}

/** Computes the evidence (validation run + compatibility / fit check now) and its digest. */
export async function buildProposalEvidence(
  tx: Db,
  input: { artifactId: string; artifactDigest: string; clusterId: string; run: TRunForEvidence | null },
) {
  const pair = await compatibilityForPair(tx, input.artifactId, input.clusterId);
  const compatibility = compatibilitySnapshot(pair);
  const finished = input.run && input.run.state !== 'queued' && input.run.state !== 'running';
  const evidence: TProposalEvidence = {
    schemaVersion: 1,
    artifactDigest: input.artifactDigest,
    clusterId: input.clusterId,
    validation: input.run
      ? { runId: input.run.id, verdict: finished ? input.run.verdict : null, evidenceDigest: finished ? input.run.evidenceDigest : null }
      : null,
    compatibility,
  };
  return { ...sealProposalEvidence(evidence), clusterName: pair.clusterName };
}

export function openStates(): TProposalState[] {
  return ['pending_validation', 'pending_approval', 'approved'];
}

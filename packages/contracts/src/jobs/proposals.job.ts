import { z } from 'zod';
import { ZId } from '../common/pagination';
import { ZProposalEvent } from '../proposals/proposals.schema';
import { defineJob, jobIdPart } from './define-job';

/**
 * Expires open proposals past their expiry and settles the ones waiting for a validation run that has
 * finished since. Repeatable and idempotent (state changes are guarded by the current state).
 */
export const proposalsSweepJob = defineJob({
  queue: 'maintenance',
  name: 'proposals-sweep',
  schema: z.object({ now: z.iso.datetime().optional() }),
  repeatEveryMs: 60_000,
});

/**
 * Posts one proposal decision to ALERT_WEBHOOK_URL (Slack-compatible). `key` names the decision (an
 * approval id, an audit event id), so each decision is delivered once however often it is enqueued.
 */
export const proposalNotificationJob = defineJob({
  queue: 'notifications',
  name: 'proposal-webhook',
  schema: z.object({ proposalId: ZId, event: ZProposalEvent, key: z.string().min(1).max(64), detail: z.string().max(2000).default('') }),
  jobId: (p) => proposalNotificationJobId(p.proposalId, p.event, p.key),
  attempts: 8,
});

export function proposalNotificationJobId(proposalId: string, event: string, key: string): string {
  return `proposal-${jobIdPart(proposalId)}-${event}-${jobIdPart(key)}`;
}

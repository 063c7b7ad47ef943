import { ZSlackMessage, type TProposalEvent, type TSlackMessage } from '@fleetplane/contracts';
import type { PrismaClient } from '@fleetplane/db';
import { postSlackWebhook, type WebhookOptions } from '../alerts/alert-webhook.service';

const HEADLINE: Record<TProposalEvent, string> = {
  created: 'proposed',
  approved: 'approved',
  rejected: 'rejected',
  expired: 'expired',
  voided: 'voided',
  rolled_out: 'rolled out',
  evidence_changed: 'has new evidence',
};

export interface ProposalForMessage {
  id: string;
  state: string;
  artifactDigest: string;
  evidenceDigest: string | null;
  cluster: { name: string };
  artifact: { quantisation: string; revision: { commitSha: string; trackedRepo: { hubRepoId: string } } };
}

/** Slack-compatible body for one proposal decision: who decided what on which upgrade, with a link. */
export function buildProposalMessage(
  p: ProposalForMessage,
  event: { event: TProposalEvent; detail: string; actorLabel: string },
  dashboardUrl?: string,
): TSlackMessage {
  const what = `${p.artifact.revision.trackedRepo.hubRepoId}@${p.artifact.revision.commitSha.slice(0, 7)} ${p.artifact.quantisation}`;
  const text = `Upgrade of ${p.cluster.name} to ${what} ${HEADLINE[event.event]} by ${event.actorLabel}${event.detail ? `: ${event.detail}` : ''}`;
  const link = dashboardUrl ? `${dashboardUrl.replace(/\/+$/, '')}/proposals/${p.id}` : null;
  return ZSlackMessage.parse({
    text: text.slice(0, 40_000),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: `Upgrade ${HEADLINE[event.event]}: ${p.cluster.name}`.slice(0, 150) } },
      {
        type: 'section',
        text: { type: 'mrkdwn', text: text.slice(0, 3000) },
        fields: [
          { type: 'mrkdwn', text: `*Cluster*\n${p.cluster.name}` },
          { type: 'mrkdwn', text: `*Artifact*\n${what}`.slice(0, 3000) },
          { type: 'mrkdwn', text: `*State*\n${p.state.replace('_', ' ')}` },
          { type: 'mrkdwn', text: `*By*\n${event.actorLabel}`.slice(0, 3000) },
        ],
      },
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: [
              `artifact ${p.artifactDigest}`,
              p.evidenceDigest ? `evidence ${p.evidenceDigest}` : null,
              link ? `<${link}|Open in Fleetplane>` : null,
            ]
              .filter(Boolean)
              .join(' · ')
              .slice(0, 3000),
          },
        ],
      },
    ],
  });
}

/**
 * Delivers one proposal decision. The job id (proposal, event, audit event id) deduplicates queued
 * copies; who decided is read from that audit event, so the message names the person the audit log names.
 */
export async function sendProposalNotification(
  prisma: PrismaClient,
  job: { proposalId: string; event: TProposalEvent; key: string; detail: string },
  opts: WebhookOptions,
) {
  const p = await prisma.upgradeProposal.findUnique({
    where: { id: job.proposalId },
    select: {
      id: true,
      state: true,
      artifactDigest: true,
      evidenceDigest: true,
      cluster: { select: { name: true } },
      artifact: { select: { quantisation: true, revision: { select: { commitSha: true, trackedRepo: { select: { hubRepoId: true } } } } } },
    },
  });
  if (!p) return { delivered: false, reason: 'proposal no longer exists' };
  const audit = await prisma.auditEvent.findUnique({ where: { id: job.key }, select: { actorLabel: true } });
  const body = buildProposalMessage(
    p,
    { event: job.event, detail: job.detail, actorLabel: audit?.actorLabel ?? 'system' },
    opts.dashboardUrl,
  );
  const res = await postSlackWebhook(prisma, body, opts, 'fleetplane-proposals/1');
  return { delivered: true, status: res.status };
}

import { ZSlackMessage, type TAlertTransition, type TSlackMessage } from '@fleetplane/contracts';
import type { PrismaClient } from '@fleetplane/db';
import { createGuardedFetch, findNetworkPolicyError, type NetworkPolicy, type Resolver } from '@fleetplane/net';
import { loadNetworkPolicy } from '../network/network-policy.service';

/** A failure retrying cannot fix (the receiver refused the message itself); the job fails for good. */
export class PermanentWebhookError extends Error {
  override readonly name = 'PermanentWebhookError';
}

export interface AlertForMessage {
  id: string;
  title: string;
  severity: 'warning' | 'critical';
  state: string;
  rule: string;
  fingerprint: string;
  details: unknown;
  openedAt: Date;
  resolvedAt: Date | null;
  cluster: { name: string } | null;
  node: { hostname: string } | null;
}

const VERB: Record<TAlertTransition, string> = { opened: 'opened', escalated: 'escalated to critical', resolved: 'resolved' };
const ICON: Record<TAlertTransition, string> = {
  opened: ':rotating_light:',
  escalated: ':rotating_light:',
  resolved: ':white_check_mark:',
};

/** Slack-compatible body: `text` is the notification and the fallback; `blocks` lay it out in Slack. */
export function buildAlertMessage(alert: AlertForMessage, transition: TAlertTransition, dashboardUrl?: string): TSlackMessage {
  const severity = alert.severity.toUpperCase();
  const message =
    typeof (alert.details as { message?: unknown })?.message === 'string' ? (alert.details as { message: string }).message : '';
  const where = [alert.cluster?.name && `cluster ${alert.cluster.name}`, alert.node?.hostname && `node ${alert.node.hostname}`]
    .filter(Boolean)
    .join(', ');
  const text = `${ICON[transition]} [${severity}] ${alert.title} ${VERB[transition]}${where ? ` (${where})` : ''}${message && transition !== 'resolved' ? `: ${message}` : ''}`;
  const link = dashboardUrl ? `${dashboardUrl.replace(/\/+$/, '')}/alerts` : null;
  const fields = [
    { type: 'mrkdwn' as const, text: `*Severity*\n${severity}` },
    { type: 'mrkdwn' as const, text: `*Rule*\n${alert.rule}` },
    ...(alert.cluster ? [{ type: 'mrkdwn' as const, text: `*Cluster*\n${alert.cluster.name}` }] : []),
    ...(alert.node ? [{ type: 'mrkdwn' as const, text: `*Node*\n${alert.node.hostname}` }] : []),
  ];
  const context = [
    `Opened ${alert.openedAt.toISOString()}`,
    alert.resolvedAt ? `resolved ${alert.resolvedAt.toISOString()}` : null,
    `fingerprint ${alert.fingerprint}`,
    link ? `<${link}|Open in Fleetplane>` : null,
  ]
    .filter(Boolean)
    .join(' · ');
  return ZSlackMessage.parse({
    text: text.slice(0, 40_000),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: `${severity}: ${alert.title} ${VERB[transition]}`.slice(0, 150) } },
      { type: 'section', text: { type: 'mrkdwn', text: (message || alert.title).slice(0, 3000) }, fields },
      { type: 'context', elements: [{ type: 'mrkdwn', text: context.slice(0, 3000) }] },
    ],
  });
}

export interface WebhookOptions {
  webhookUrl: string;
  dashboardUrl?: string;
  timeoutMs?: number;
  /** The outgoing-request policy; read from the admin setting and the configuration when absent. */
  network?: NetworkPolicy;
  /** Host name resolver (tests). */
  resolve?: Resolver;
}

/**
 * Delivers one alert transition. Idempotent per alert and transition: the job id deduplicates queued
 * copies, and an `opened` notification already delivered (notifiedAt set) is not sent again. Network
 * errors, timeouts, 429 and 5xx throw (BullMQ retries with backoff); other 4xx are permanent, and so is
 * a URL whose address the network policy refuses (nothing is sent; the error says which rule).
 */
export async function sendAlertNotification(
  prisma: PrismaClient,
  job: { alertId: string; transition: TAlertTransition },
  opts: WebhookOptions,
) {
  const alert = await prisma.alert.findUnique({
    where: { id: job.alertId },
    include: { cluster: { select: { name: true } }, node: { select: { hostname: true } } },
  });
  if (!alert) return { delivered: false, reason: 'alert no longer exists' };
  if (job.transition === 'opened' && alert.notifiedAt) return { delivered: false, reason: 'already delivered' };
  const body = buildAlertMessage(alert, job.transition, opts.dashboardUrl);
  const res = await postSlackWebhook(prisma, body, opts, 'fleetplane-alerts/1');
  if (job.transition === 'opened') await prisma.alert.update({ where: { id: alert.id }, data: { notifiedAt: new Date() } });
  return { delivered: true, status: res.status };
}

/**
 * POSTs one Slack-compatible message through the network policy. Network errors, timeouts, 429 and 5xx
 * throw a plain Error (the job retries with backoff); other 4xx and a refused address throw
 * PermanentWebhookError. Shared by every notification the control plane sends (alerts, proposal decisions).
 */
export async function postSlackWebhook(
  prisma: PrismaClient,
  body: TSlackMessage,
  opts: WebhookOptions,
  userAgent: string,
): Promise<Response> {
  const network = opts.network ?? (await loadNetworkPolicy(prisma));
  const guardedFetch = createGuardedFetch({ policy: network, ...(opts.resolve ? { resolve: opts.resolve } : {}) });
  let res: Response;
  try {
    res = await guardedFetch(opts.webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': userAgent },
      body: JSON.stringify(body),
      redirect: 'error',
      signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
    });
  } catch (e) {
    const refused = findNetworkPolicyError(e);
    if (refused) throw new PermanentWebhookError(`Alert webhook ${refused.message}; check ALERT_WEBHOOK_URL or the network policy setting`);
    throw new Error(`Alert webhook unreachable: ${(e as Error).message}`);
  }
  const detail = (await res.text().catch(() => '')).slice(0, 200);
  if (res.status === 429 || res.status >= 500)
    throw new Error(`Alert webhook answered ${res.status}${detail ? `: ${detail}` : ''}; will retry`);
  if (!res.ok)
    throw new PermanentWebhookError(
      `Alert webhook refused the message with ${res.status}${detail ? `: ${detail}` : ''}; check ALERT_WEBHOOK_URL`,
    );
  return res;
}

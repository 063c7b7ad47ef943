import { timingSafeEqual, createHash } from 'node:crypto';
import { z } from 'zod';
import type { PrismaClient } from '@fleetplane/db';
import type { JobProducer } from '@fleetplane/queue';
import { enqueueRepoCheck } from './tracked-repos.service';

/** The parts of a Hub webhook (v3) we act on; everything else in the payload is ignored. */
export const ZHubWebhookPayload = z.object({
  event: z.object({ action: z.string(), scope: z.string() }),
  repo: z.object({
    type: z.string(),
    name: z.string().min(1).max(300),
    headSha: z.string().optional(),
  }),
  updatedRefs: z
    .array(z.object({ ref: z.string(), oldSha: z.string().nullable().optional(), newSha: z.string().nullable().optional() }))
    .optional(),
});

export interface WebhookResponse {
  status: number;
  body: Record<string, unknown>;
}

/** Constant-time comparison over fixed-length digests, so neither content nor length leaks. */
export function secretsMatch(given: string | null | undefined, expected: string): boolean {
  if (!given) return false;
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/**
 * POST /api/hooks/hub: a push to a tracked model repo triggers an immediate check of the matching
 * tracked branches. Refused (401) when the secret is wrong or no secret is configured.
 */
export async function handleHubWebhook(
  deps: { prisma: PrismaClient; producer: JobProducer },
  req: { secretHeader: string | null; configuredSecret: string | undefined; body: unknown },
): Promise<WebhookResponse> {
  if (!req.configuredSecret) return { status: 401, body: { error: 'Hub webhooks are disabled: HUB_WEBHOOK_SECRET is not set' } };
  if (!secretsMatch(req.secretHeader, req.configuredSecret)) return { status: 401, body: { error: 'Invalid X-Webhook-Secret' } };
  const parsed = ZHubWebhookPayload.safeParse(req.body);
  if (!parsed.success)
    return {
      status: 400,
      body: { error: 'Not a Hub webhook payload', issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) },
    };
  const { repo, event, updatedRefs } = parsed.data;
  if (repo.type !== 'model' || !event.scope.startsWith('repo'))
    return { status: 200, body: { ignored: true, reason: `Not a model repo content event (${repo.type} ${event.scope})` } };
  const branches = (updatedRefs ?? [])
    .map((r) => r.ref)
    .filter((r) => r.startsWith('refs/heads/'))
    .map((r) => r.slice('refs/heads/'.length));
  const tracked = await deps.prisma.trackedRepo.findMany({
    where: { hubRepoId: repo.name, ...(branches.length ? { branch: { in: branches } } : {}) },
    select: { id: true },
  });
  for (const t of tracked) await enqueueRepoCheck(deps.producer, t.id, 'webhook');
  return { status: 202, body: { checks: tracked.length } };
}

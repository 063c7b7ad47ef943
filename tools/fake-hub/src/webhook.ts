import type { CommitRecord, RepoState } from './repo-state';

export interface WebhookConfig {
  url: string;
  secret: string;
}

export interface WebhookDelivery {
  at: number;
  repoId: string;
  headSha: string;
  status: number | null;
  error: string | null;
}

/** Payload shaped like a Hub webhook (v3) for a push to a model repo. */
export function webhookPayload(repo: RepoState, commit: CommitRecord, branch: string, origin: string) {
  return {
    event: { action: 'update', scope: 'repo.content' },
    repo: {
      type: 'model',
      name: repo.id,
      id: repo.objectId,
      private: repo.isPrivate,
      url: { web: `${origin}/${repo.id}`, api: `${origin}/api/models/${repo.id}` },
      headSha: commit.id,
      owner: { id: repo.objectId.slice(0, 12).padEnd(24, '0') },
    },
    updatedRefs: [{ ref: `refs/heads/${branch}`, oldSha: commit.parent, newSha: commit.id }],
    webhook: { id: 'fake-hub-webhook', version: 3 },
  };
}

/** Best effort: a short timeout, failures are recorded, never thrown. */
export async function deliverWebhook(
  config: WebhookConfig,
  payload: ReturnType<typeof webhookPayload>,
  timeoutMs = 2000,
): Promise<WebhookDelivery> {
  const delivery: WebhookDelivery = { at: Date.now(), repoId: payload.repo.name, headSha: payload.repo.headSha, status: null, error: null };
  try {
    const res = await fetch(config.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Webhook-Secret': config.secret, 'User-Agent': 'fake-hub-webhooks/1.0' },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(timeoutMs),
    });
    delivery.status = res.status;
    await res.body?.cancel();
  } catch (err) {
    delivery.error = err instanceof Error ? err.message : String(err);
  }
  return delivery;
}

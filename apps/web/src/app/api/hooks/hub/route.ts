import { handleHubWebhook } from '@fleetplane/services';
import { runtime } from '~/server/runtime';

export const dynamic = 'force-dynamic';

/** Hugging Face Hub webhook: a push to a tracked repo triggers an immediate check. */
export async function POST(request: Request) {
  const { prisma, producer, config } = runtime();
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    body = null;
  }
  try {
    const res = await handleHubWebhook(
      { prisma, producer },
      { secretHeader: request.headers.get('x-webhook-secret'), configuredSecret: config.HUB_WEBHOOK_SECRET, body },
    );
    return Response.json(res.body, { status: res.status });
  } catch (e) {
    // The Hub retries failed deliveries; a queue outage should not lose the push.
    return Response.json({ error: `Could not queue the check: ${(e as Error).message}` }, { status: 503 });
  }
}

import { pingDatabase } from '@fleetplane/db';
import { runtime } from '~/server/runtime';

export const dynamic = 'force-dynamic';

/** Liveness + readiness: answers 200 only when Postgres answers. */
export async function GET() {
  try {
    await pingDatabase(runtime().prisma);
    return Response.json({ status: 'ok' });
  } catch (e) {
    return Response.json({ status: 'unavailable', error: (e as Error).message }, { status: 503 });
  }
}

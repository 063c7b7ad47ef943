import { runtime } from '~/server/runtime';

export const dynamic = 'force-dynamic';

/** Liveness + readiness: answers 200 only when Postgres answers. */
export async function GET() {
  try {
    await runtime().prisma.$queryRaw`SELECT 1`;
    return Response.json({ status: 'ok' });
  } catch (e) {
    return Response.json({ status: 'unavailable', error: (e as Error).message }, { status: 503 });
  }
}

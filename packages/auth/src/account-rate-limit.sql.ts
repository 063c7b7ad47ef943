import { randomUUID } from 'node:crypto';
import type { PrismaClient } from '@fleetplane/db';

/**
 * Counts one sign-in attempt for an account in a fixed window and says whether it is allowed.
 * One atomic upsert in Better Auth's own rate_limit table, so concurrent attempts and several web
 * replicas count together.
 */
export async function consumeAccountSignInAttempt(
  prisma: PrismaClient,
  email: string,
  max: number,
  windowSeconds: number,
): Promise<boolean> {
  const now = Date.now();
  const windowStart = now - windowSeconds * 1000;
  const rows = await prisma.$queryRaw<{ count: number }[]>`
    INSERT INTO rate_limit (id, key, count, last_request)
    VALUES (${randomUUID()}, ${`account-sign-in|${email}`}, 1, ${now})
    ON CONFLICT (key) DO UPDATE SET
      count = CASE WHEN rate_limit.last_request < ${windowStart} THEN 1 ELSE rate_limit.count + 1 END,
      last_request = CASE WHEN rate_limit.last_request < ${windowStart} THEN ${now} ELSE rate_limit.last_request END
    RETURNING count`;
  return (rows[0]?.count ?? 1) <= max;
}

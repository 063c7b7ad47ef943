// Enrollment's read of a join token: locked for the enrolling transaction, so two agents racing with one
// token get one node and one refusal (Prisma has no SELECT … FOR UPDATE).
import type { Db } from '@fleetplane/db';

export interface JoinTokenRow {
  id: string;
  cluster_id: string;
  token_prefix: string;
  expires_at: Date;
  used_at: Date | null;
  revoked_at: Date | null;
}

/** The join token with this hash, locked until the transaction ends; null when there is none. */
export async function lockJoinToken(tx: Db, tokenHash: string): Promise<JoinTokenRow | null> {
  const [token] = await tx.$queryRaw<JoinTokenRow[]>`
    SELECT id, cluster_id, token_prefix, expires_at, used_at, revoked_at FROM join_token WHERE token_hash = ${tokenHash} FOR UPDATE`;
  return token ?? null;
}

// Issuing a node command: the insert is idempotent by (node, dedupe key) in one statement.
import type { Db } from '@fleetplane/db';

export interface NewNodeCommand {
  id: string;
  nodeId: string;
  kind: string;
  payload: unknown;
  artifactId: string | null;
  issuedByUserId: string | null;
  origin: string;
  issuedAt: Date;
  deadlineAt: Date;
  dedupeKey: string | null;
}

/** Inserts the command queued unless the node has one with this dedupe key already; true when inserted. */
export async function insertNodeCommandOnce(tx: Db, c: NewNodeCommand): Promise<boolean> {
  const inserted = await tx.$queryRaw<{ id: string }[]>`
    INSERT INTO node_command (id, node_id, kind, payload, state, artifact_id, issued_by_user_id, origin, deliveries, issued_at, deadline_at, dedupe_key)
    VALUES (${c.id}, ${c.nodeId}, ${c.kind}::"NodeCommandKind", ${JSON.stringify(c.payload)}::jsonb, 'queued'::"NodeCommandState",
            ${c.artifactId}, ${c.issuedByUserId}, ${c.origin}, 0, ${c.issuedAt}, ${c.deadlineAt}, ${c.dedupeKey})
    ON CONFLICT (node_id, dedupe_key) DO NOTHING
    RETURNING id`;
  return inserted.length > 0;
}

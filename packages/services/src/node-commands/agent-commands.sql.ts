// Commands to nodes, agent side: the long poll's and the reports' statements on the ingest pool (a
// thousand idle agents keep a request open each; none holds a database connection while it waits).
import type { TNodeCommandState } from '@fleetplane/contracts';
import { MAX_COMMANDS_PER_POLL } from '@fleetplane/domain';
import type { TelemetryPool, TelemetryPoolClient } from '../telemetry/telemetry-pool.sql';

export interface OpenCommandRow {
  id: string;
  kind: string;
  state: TNodeCommandState;
  payload: unknown;
  issued_ms: number;
  deadline_ms: number;
  deliveries: number;
}

// The credential is re-checked in the same statement that reads the commands: a revoked credential is handed
// nothing issued or changed after the revocation commits (authenticateAgent caches only who it is).
const OPEN_SQL = {
  name: 'fp-commands-open',
  text: `SELECT (SELECT revoked_at IS NULL FROM node_credential WHERE id = $2) AS live,
                COALESCE((SELECT json_agg(c ORDER BY c.issued_ms, c.id) FROM (
                  SELECT id, kind, state, payload, deliveries,
                         (extract(epoch FROM issued_at) * 1000)::float8 AS issued_ms,
                         (extract(epoch FROM deadline_at) * 1000)::float8 AS deadline_ms
                    FROM node_command
                   WHERE node_id = $1 AND state IN ('queued', 'delivered', 'running') AND deadline_at > $3
                   ORDER BY issued_at, id
                   LIMIT ${MAX_COMMANDS_PER_POLL}) c), '[]'::json) AS commands`,
};

/** The node's open commands before their deadline, oldest first, and whether the credential is still live. */
export async function readOpenCommands(
  pool: TelemetryPool,
  q: { nodeId: string; credentialId: string; now: Date },
): Promise<{ live: boolean; commands: OpenCommandRow[] }> {
  const { rows } = await pool.query<{ live: boolean | null; commands: OpenCommandRow[] }>({
    ...OPEN_SQL,
    values: [q.nodeId, q.credentialId, q.now],
  });
  return { live: rows[0]?.live === true, commands: rows[0]?.commands ?? [] };
}

// Only still-queued rows change: two polls at once (they should not happen) count each delivery once.
const DELIVER_SQL = {
  name: 'fp-commands-deliver',
  text: `UPDATE node_command SET state = 'delivered', deliveries = deliveries + 1, delivered_at = $3
          WHERE node_id = $1 AND id = ANY($2::text[]) AND state = 'queued'
      RETURNING id, deliveries`,
};

/** Marks the node's still-queued commands among `ids` delivered; returns those it changed with their delivery count. */
export async function markDelivered(
  pool: TelemetryPool,
  nodeId: string,
  ids: string[],
  now: Date,
): Promise<{ id: string; deliveries: number }[]> {
  const { rows } = await pool.query<{ id: string; deliveries: number }>({ ...DELIVER_SQL, values: [nodeId, ids, now] });
  return rows;
}

const REPORT_READ_SQL = {
  name: 'fp-commands-report-read',
  text: `SELECT (SELECT revoked_at IS NULL FROM node_credential WHERE id = $3) AS live,
                (SELECT row_to_json(c) FROM (
                   SELECT state, (extract(epoch FROM deadline_at) * 1000)::float8 AS deadline_ms
                     FROM node_command WHERE id = $1 AND node_id = $2 FOR UPDATE) c) AS command`,
};

/** Locks the node's command for the report's transaction; `command` is null when the node has no such command. */
export async function lockCommandForReport(
  client: TelemetryPoolClient,
  q: { commandId: string; nodeId: string; credentialId: string },
): Promise<{ live: boolean; command: { state: TNodeCommandState; deadline_ms: number } | null }> {
  const { rows } = await client.query<{ live: boolean | null; command: { state: TNodeCommandState; deadline_ms: number } | null }>({
    ...REPORT_READ_SQL,
    values: [q.commandId, q.nodeId, q.credentialId],
  });
  return { live: rows[0]?.live === true, command: rows[0]?.command ?? null };
}

/** The first `running` report: the command started (and was delivered, should that report have been lost). */
export async function markStarted(client: TelemetryPoolClient, commandId: string, now: Date, progress: unknown): Promise<void> {
  await client.query(
    `UPDATE node_command SET state = 'running', started_at = $2, heartbeat_at = $2, progress = $3::jsonb,
            delivered_at = COALESCE(delivered_at, $2), deliveries = GREATEST(deliveries, 1)
      WHERE id = $1`,
    [commandId, now, JSON.stringify(progress)],
  );
}

export async function recordHeartbeat(client: TelemetryPoolClient, commandId: string, now: Date, progress: unknown): Promise<void> {
  await client.query(`UPDATE node_command SET heartbeat_at = $2, progress = $3::jsonb WHERE id = $1`, [
    commandId,
    now,
    JSON.stringify(progress),
  ]);
}

/** The command's terminal outcome from the agent. */
export async function markFinished(
  client: TelemetryPoolClient,
  commandId: string,
  outcome: { state: TNodeCommandState; result: unknown; error: string | null },
  now: Date,
): Promise<void> {
  await client.query(
    `UPDATE node_command SET state = $2::"NodeCommandState", result = $3::jsonb, error = $4, finished_at = $5, heartbeat_at = $5,
            started_at = COALESCE(started_at, $5), delivered_at = COALESCE(delivered_at, $5), deliveries = GREATEST(deliveries, 1)
      WHERE id = $1`,
    [commandId, outcome.state, outcome.result === null ? null : JSON.stringify(outcome.result), outcome.error, now],
  );
}

export async function markExpiredOnLateReport(client: TelemetryPoolClient, commandId: string, now: Date): Promise<void> {
  await client.query(
    `UPDATE node_command SET state = 'expired', finished_at = $2, error = 'Expired at its deadline; the late report was ignored' WHERE id = $1`,
    [commandId, now],
  );
}

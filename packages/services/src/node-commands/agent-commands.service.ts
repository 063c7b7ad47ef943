// Commands to nodes, agent side: the long poll and the reports, on the ingest pool with plain SQL (a
// thousand idle agents keep a request open each; none of them holds a database connection while it waits:
// they wait on the process's one LISTEN connection, command-notifier.ts).
import type pg from 'pg';
import {
  ZDeliveredCommand,
  type TCommandPollResponse,
  type TCommandReport,
  type TCommandReportResponse,
  type TDeliveredCommand,
  type TNodeCommandState,
} from '@fleetplane/contracts';
import { decideReport, planPoll, MAX_COMMANDS_PER_POLL } from '@fleetplane/domain';
import { AgentApiError } from '../shared/agent-api-error';
import type { AgentIdentity } from '../telemetry/ingest.service';
import { NODE_COMMAND_CHANNEL, nodeCommandNotifyPayload, type NodeCommandNotifier } from './command-notifier';

const UNAUTHORIZED = 'This node credential is unknown or was revoked. Re-enroll the node with a new join token.';
const NOT_FOUND = 'This node has no such command.';

interface OpenRow {
  id: string;
  kind: string;
  state: TNodeCommandState;
  payload: unknown;
  issued_ms: number;
  deadline_ms: number;
  deliveries: number;
}

// The credential is re-checked in the same statement that reads the commands: a revoked credential stops
// seeing commands the moment the revocation commits (authenticateAgent caches only who it is).
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

// Only still-queued rows change: two polls at once (they should not happen) count each delivery once.
const DELIVER_SQL = {
  name: 'fp-commands-deliver',
  text: `UPDATE node_command SET state = 'delivered', deliveries = deliveries + 1, delivered_at = $3
          WHERE node_id = $1 AND id = ANY($2::text[]) AND state = 'queued'
      RETURNING id, deliveries`,
};

async function readOpen(pool: pg.Pool, who: AgentIdentity, now: Date): Promise<OpenRow[]> {
  const { rows } = await pool.query<{ live: boolean | null; commands: OpenRow[] }>({
    ...OPEN_SQL,
    values: [who.nodeId, who.credentialId, now],
  });
  if (!rows[0]?.live) throw new AgentApiError('unauthorized', UNAUTHORIZED);
  return rows[0].commands;
}

function toDelivered(row: OpenRow): TDeliveredCommand {
  return ZDeliveredCommand.parse({
    id: row.id,
    issuedAt: new Date(row.issued_ms).toISOString(),
    deadlineAt: new Date(row.deadline_ms).toISOString(),
    delivery: Math.max(1, row.deliveries),
    kind: row.kind,
    payload: row.payload,
  });
}

export interface PollDeps {
  pool: pg.Pool;
  notifier: NodeCommandNotifier;
  now?: () => Date;
}

/**
 * GET commands?waitSeconds=N: the node's open commands, oldest first. Answers at once when there is
 * something to deliver (queued commands become `delivered`) or when the agent asked not to wait; otherwise
 * holds the request until an agent-visible change to the node's commands (NOTIFY) or the wait is over, then
 * answers with what is open then. While the listener is down it re-reads every FALLBACK_POLL_MS instead.
 */
export async function pollNodeCommands(
  deps: PollDeps,
  who: AgentIdentity,
  waitSeconds: number,
  signal?: AbortSignal,
): Promise<TCommandPollResponse> {
  const clock = deps.now ?? (() => new Date());
  const until = Date.now() + waitSeconds * 1000;
  let woken = false;
  for (;;) {
    // Registered before the read: a change committed between the read and the wait still wakes us.
    const watch = deps.notifier.watchNode(who.nodeId);
    try {
      const now = clock();
      const open = await readOpen(deps.pool, who, now);
      const remaining = until - Date.now();
      const plan = planPoll(
        open.map((r) => ({ id: r.id, state: r.state, deadlineAt: new Date(r.deadline_ms) })),
        remaining > 0 && !signal?.aborted ? waitSeconds : 0,
        now,
        woken,
      );
      if (plan.respondNow) {
        const byId = new Map(open.map((r) => [r.id, r]));
        if (plan.deliver.length > 0) {
          const { rows } = await deps.pool.query<{ id: string; deliveries: number }>({
            ...DELIVER_SQL,
            values: [who.nodeId, plan.deliver, now],
          });
          for (const r of rows) {
            const row = byId.get(r.id);
            if (row) {
              row.deliveries = r.deliveries;
              row.state = 'delivered';
            }
          }
        }
        return { commands: plan.visible.map((id) => toDelivered(byId.get(id)!)) };
      }
      // Woken by a NOTIFY (not the fallback's short timeout): answer with what is open now.
      woken = await watch.wait(deps.notifier.waitBudget(remaining), signal);
    } finally {
      watch.dispose();
    }
  }
}

const REPORT_READ_SQL = {
  name: 'fp-commands-report-read',
  text: `SELECT (SELECT revoked_at IS NULL FROM node_credential WHERE id = $3) AS live,
                (SELECT row_to_json(c) FROM (
                   SELECT state, (extract(epoch FROM deadline_at) * 1000)::float8 AS deadline_ms
                     FROM node_command WHERE id = $1 AND node_id = $2 FOR UPDATE) c) AS command`,
};

/**
 * POST commands/<id>/report. A command of another node is answered exactly like one that does not exist.
 * The first terminal outcome wins; reports on a finished command change nothing and answer its state, so
 * an agent learns that its command was cancelled or expired and stops.
 */
export async function reportNodeCommand(
  pool: pg.Pool,
  who: AgentIdentity,
  commandId: string,
  report: TCommandReport,
  now = new Date(),
): Promise<TCommandReportResponse> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<{ live: boolean | null; command: { state: TNodeCommandState; deadline_ms: number } | null }>({
      ...REPORT_READ_SQL,
      values: [commandId, who.nodeId, who.credentialId],
    });
    if (!rows[0]?.live) throw new AgentApiError('unauthorized', UNAUTHORIZED);
    const current = rows[0].command;
    if (!current) throw new AgentApiError('not_found', NOT_FOUND);
    const decision = decideReport({ state: current.state, deadlineAt: new Date(current.deadline_ms) }, report.state, now);
    switch (decision.action) {
      case 'ignore':
        break;
      case 'start':
        await client.query(
          `UPDATE node_command SET state = 'running', started_at = $2, heartbeat_at = $2, progress = $3::jsonb,
                  delivered_at = COALESCE(delivered_at, $2), deliveries = GREATEST(deliveries, 1)
            WHERE id = $1`,
          [commandId, now, JSON.stringify(report.state === 'running' ? report.progress : null)],
        );
        break;
      case 'heartbeat':
        await client.query(`UPDATE node_command SET heartbeat_at = $2, progress = $3::jsonb WHERE id = $1`, [
          commandId,
          now,
          JSON.stringify(report.state === 'running' ? report.progress : null),
        ]);
        break;
      case 'finish': {
        const result = report.state === 'succeeded' ? report.result : report.state === 'failed' ? (report.result ?? null) : null;
        const error = report.state === 'failed' ? report.error : null;
        await client.query(
          `UPDATE node_command SET state = $2::"NodeCommandState", result = $3::jsonb, error = $4, finished_at = $5, heartbeat_at = $5,
                  started_at = COALESCE(started_at, $5), delivered_at = COALESCE(delivered_at, $5), deliveries = GREATEST(deliveries, 1)
            WHERE id = $1`,
          [commandId, decision.to, result === null ? null : JSON.stringify(result), error, now],
        );
        await client.query('SELECT pg_notify($1, $2)', [
          NODE_COMMAND_CHANNEL,
          nodeCommandNotifyPayload(false, who.nodeId, commandId, decision.to),
        ]);
        break;
      }
      case 'expire':
        await client.query(
          `UPDATE node_command SET state = 'expired', finished_at = $2, error = 'Expired at its deadline; the late report was ignored' WHERE id = $1`,
          [commandId, now],
        );
        await client.query('SELECT pg_notify($1, $2)', [
          NODE_COMMAND_CHANNEL,
          nodeCommandNotifyPayload(true, who.nodeId, commandId, 'expired'),
        ]);
        break;
    }
    await client.query('COMMIT');
    return { state: decision.to };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}

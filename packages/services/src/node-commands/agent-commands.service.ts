// Commands to nodes, agent side: the long poll and the reports, on the ingest pool (statements in agent-commands.sql.ts; a
// thousand idle agents keep a request open each; none of them holds a database connection while it waits:
// they wait on the process's one LISTEN connection, command-notifier.ts).
import {
  ZDeliveredCommand,
  type TCommandPollResponse,
  type TCommandReport,
  type TCommandReportResponse,
  type TDeliveredCommand,
} from '@fleetplane/contracts';
import { decideReport, planPoll } from '@fleetplane/domain';
import { AgentApiError } from '../shared/agent-api-error';
import type { AgentIdentity } from '../telemetry/ingest.service';
import { withPoolTransaction, type TelemetryPool } from '../telemetry/telemetry-pool.sql';
import {
  lockCommandForReport,
  markDelivered,
  markExpiredOnLateReport,
  markFinished,
  markStarted,
  readOpenCommands,
  recordHeartbeat,
  type OpenCommandRow,
} from './agent-commands.sql';
import { notifyNodeCommandOnPool } from './command-channel.sql';
import type { NodeCommandNotifier } from './command-notifier';

const UNAUTHORIZED = 'This node credential is unknown or was revoked. Re-enroll the node with a new join token.';
const NOT_FOUND = 'This node has no such command.';

async function readOpen(pool: TelemetryPool, who: AgentIdentity, now: Date): Promise<OpenCommandRow[]> {
  // The credential is re-checked in the same statement that reads the commands: a revoked credential is
  // handed nothing issued or changed after the revocation commits (authenticateAgent caches only who it is).
  const { live, commands } = await readOpenCommands(pool, { nodeId: who.nodeId, credentialId: who.credentialId, now });
  if (!live) throw new AgentApiError('unauthorized', UNAUTHORIZED);
  return commands;
}

function toDelivered(row: OpenCommandRow): TDeliveredCommand {
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
  pool: TelemetryPool;
  notifier: NodeCommandNotifier;
  now?: () => Date;
}

/**
 * GET commands?waitSeconds=N: the node's open commands, oldest first. Answers at once when there is
 * something to deliver (queued commands become `delivered`) or when the agent asked not to wait; otherwise
 * holds the request until an agent-visible change to the node's commands (NOTIFY) or the wait is over, then
 * answers with what is open then. While the listener is down it re-reads every FALLBACK_POLL_MS instead.
 *
 * A wait that runs out with no notification about the node at all, the listener up throughout, answers from
 * the read made before waiting (the deadline filter runs again at the new time): nothing the answer shows
 * can have changed, since every change to it commits with a NOTIFY (the agent's running reports and
 * heartbeats send none, and change nothing it shows). An idle fleet's polls cost one query each, not two.
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
  let stillOpen: OpenCommandRow[] | null = null;
  for (;;) {
    // Registered before the read: a change committed between the read and the wait still wakes us. A reused
    // read stays covered: the previous watch saw nothing up to this registration, with no await in between.
    const watch = deps.notifier.watchNode(who.nodeId);
    try {
      const now = clock();
      const open: OpenCommandRow[] = stillOpen ?? (await readOpen(deps.pool, who, now));
      stillOpen = null;
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
          for (const r of await markDelivered(deps.pool, who.nodeId, plan.deliver, now)) {
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
      if (!woken && watch.unchanged()) stillOpen = open;
    } finally {
      watch.dispose();
    }
  }
}

/**
 * POST commands/<id>/report. A command of another node is answered exactly like one that does not exist.
 * The first terminal outcome wins; reports on a finished command change nothing and answer its state, so
 * an agent learns that its command was cancelled or expired and stops.
 */
export async function reportNodeCommand(
  pool: TelemetryPool,
  who: AgentIdentity,
  commandId: string,
  report: TCommandReport,
  now = new Date(),
): Promise<TCommandReportResponse> {
  return withPoolTransaction(pool, async (client) => {
    const { live, command: current } = await lockCommandForReport(client, {
      commandId,
      nodeId: who.nodeId,
      credentialId: who.credentialId,
    });
    if (!live) throw new AgentApiError('unauthorized', UNAUTHORIZED);
    if (!current) throw new AgentApiError('not_found', NOT_FOUND);
    const decision = decideReport({ state: current.state, deadlineAt: new Date(current.deadline_ms) }, report.state, now);
    switch (decision.action) {
      case 'ignore':
        break;
      case 'start':
        await markStarted(client, commandId, now, report.state === 'running' ? report.progress : null);
        break;
      case 'heartbeat':
        await recordHeartbeat(client, commandId, now, report.state === 'running' ? report.progress : null);
        break;
      case 'finish': {
        const result = report.state === 'succeeded' ? report.result : report.state === 'failed' ? (report.result ?? null) : null;
        const error = report.state === 'failed' ? report.error : null;
        await markFinished(client, commandId, { state: decision.to, result, error }, now);
        await notifyNodeCommandOnPool(client, false, who.nodeId, commandId, decision.to);
        break;
      }
      case 'expire':
        await markExpiredOnLateReport(client, commandId, now);
        await notifyNodeCommandOnPool(client, true, who.nodeId, commandId, 'expired');
        break;
    }
    return { state: decision.to };
  });
}

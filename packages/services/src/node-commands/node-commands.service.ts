// Commands to nodes, control-plane side: issue (idempotent by dedupe key), wait for an outcome, cancel,
// list, and the sweeper. The agent side (poll and report over the agent API) is agent-commands.service.ts.
// Every state change that an agent or a waiter must notice commits together with a NOTIFY
// (command-notifier.ts), so nobody polls the table to find out.
import { AuditRepository, type AuditActor, type Db, type Prisma, type PrismaClient } from '@fleetplane/db';
import {
  ZAgentCommand,
  ZIssueEngineCommandInput,
  ZNodeCommandListInput,
  type TAgentCommandBody,
  type TIssueEngineCommandInput,
  type TNodeCommandListInput,
  type TNodeCommandState,
} from '@fleetplane/contracts';
import {
  commandDeadline,
  DEFAULT_SWEEP_SETTINGS,
  isTerminalCommandState,
  OPEN_NODE_COMMAND_STATES,
  sweepDecision,
  type SweepSettings,
} from '@fleetplane/domain';
import { withAudit, type ServiceContext } from '../context';
import { conflict, invalid, notFound } from '../errors';
import { newRowId } from '../shared/ids';
import { anyNodeCommandNotifier } from './command-notifier';
import { notifyNodeCommand } from './command-channel.sql';
import { insertNodeCommandOnce } from './node-commands.sql';

export interface IssueNodeCommandInput {
  nodeId: string;
  command: TAgentCommandBody;
  /** 'operator' | 'pipeline_step:<id>' | 'rollout:<id>' | 'system' */
  origin: string;
  issuedByUserId?: string | null;
  artifactId?: string | null;
  /** From issue to outcome; defaults per kind (DEFAULT_COMMAND_TIMEOUT_SECONDS). */
  timeoutSeconds?: number;
  /** Same (nodeId, dedupeKey) returns the command already issued instead of a new one (job retries). */
  dedupeKey?: string;
  /** Who the audit record names; defaults to the issuing user, else the system under the origin's name. */
  actor?: AuditActor;
  now?: Date;
}

/** Runs `fn` in a transaction of its own when given the client, or inside the caller's transaction. */
function inTransaction<T>(db: Db, fn: (tx: Db) => Promise<T>): Promise<T> {
  const client = db as Partial<PrismaClient>;
  if (typeof client.$transaction === 'function') return (db as PrismaClient).$transaction((tx) => fn(tx));
  return fn(db);
}

/**
 * Queues a command for a node. The command, its audit record and the NOTIFY that wakes the node's long poll
 * commit together. With a dedupeKey a retried issuer (a job run twice) gets the same command back,
 * `created: false`, whatever state it is in now.
 */
export async function issueNodeCommand(db: Db, input: IssueNodeCommandInput): Promise<{ id: string; created: boolean }> {
  const parsed = ZAgentCommand.safeParse(input.command);
  if (!parsed.success)
    throw invalid(`The ${input.command?.kind ?? ''} command is invalid: ${parsed.error.issues[0]?.message ?? 'bad payload'}`, 'command');
  const command = parsed.data;
  const origin = input.origin.trim();
  if (!origin || origin.length > 200) throw invalid('origin must be 1 to 200 characters', 'origin');
  if (input.dedupeKey !== undefined && (input.dedupeKey.length === 0 || input.dedupeKey.length > 200)) {
    throw invalid('dedupeKey must be 1 to 200 characters', 'dedupeKey');
  }
  const now = input.now ?? new Date();
  let deadlineAt: Date;
  try {
    deadlineAt = commandDeadline(command.kind, now, input.timeoutSeconds);
  } catch (e) {
    throw invalid((e as Error).message, 'timeoutSeconds');
  }
  const actor: AuditActor =
    input.actor ??
    (input.issuedByUserId
      ? { type: 'user', id: input.issuedByUserId, label: `user ${input.issuedByUserId}` }
      : { type: 'system', id: null, label: origin });

  return inTransaction(db, async (tx) => {
    const node = await tx.node.findUnique({ where: { id: input.nodeId }, select: { id: true } });
    if (!node) throw notFound('Node', input.nodeId);
    const id = newRowId();
    const inserted = await insertNodeCommandOnce(tx, {
      id,
      nodeId: input.nodeId,
      kind: command.kind,
      payload: command.payload,
      artifactId: input.artifactId ?? null,
      issuedByUserId: input.issuedByUserId ?? null,
      origin,
      issuedAt: now,
      deadlineAt,
      dedupeKey: input.dedupeKey ?? null,
    });
    if (!inserted) {
      const existing = await tx.nodeCommand.findUnique({
        where: { nodeId_dedupeKey: { nodeId: input.nodeId, dedupeKey: input.dedupeKey! } },
        select: { id: true },
      });
      if (!existing) throw conflict('A command with this dedupe key is being issued concurrently; retry');
      return { id: existing.id, created: false };
    }
    await new AuditRepository(tx).record(actor, {
      action: 'node_command.issue',
      targetType: 'node_command',
      targetId: id,
      after: {
        nodeId: input.nodeId,
        kind: command.kind,
        origin,
        artifactId: input.artifactId ?? null,
        deadlineAt,
        dedupeKey: input.dedupeKey ?? null,
      },
    });
    await notifyNodeCommand(tx, true, input.nodeId, id, 'queued');
    return { id, created: true };
  });
}

export interface NodeCommandOutcome {
  id: string;
  state: TNodeCommandState;
  result: Record<string, unknown> | null;
  error: string | null;
}

/**
 * Resolves when the command is terminal, or with its current (open) state when `timeoutMs` passes or the
 * signal aborts. Woken by the process's command listener when there is one; otherwise it re-reads with a
 * growing interval (250 ms up to 2 s), which is plenty for steps that take minutes.
 */
export async function waitForNodeCommand(
  db: Db,
  commandId: string,
  opts: { timeoutMs: number; signal?: AbortSignal },
): Promise<NodeCommandOutcome> {
  const deadline = Date.now() + Math.max(0, opts.timeoutMs);
  let interval = 250;
  for (;;) {
    const notifier = anyNodeCommandNotifier();
    const watch = notifier?.watchCommand(commandId);
    try {
      const row = await db.nodeCommand.findUnique({
        where: { id: commandId },
        select: { id: true, state: true, result: true, error: true },
      });
      if (!row) throw notFound('Command', commandId);
      const outcome: NodeCommandOutcome = {
        id: row.id,
        state: row.state,
        result: (row.result as Record<string, unknown> | null) ?? null,
        error: row.error,
      };
      const remaining = deadline - Date.now();
      if (isTerminalCommandState(row.state) || remaining <= 0 || opts.signal?.aborted) return outcome;
      const budget = Math.min(remaining, notifier?.isListening ? remaining : interval);
      if (watch) await watch.wait(budget, opts.signal);
      else await sleep(budget, opts.signal);
      interval = Math.min(interval * 2, 2_000);
    } finally {
      watch?.dispose();
    }
  }
}

/**
 * The stored outcome of many commands at once, without waiting: for engines that advance from stored state
 * on every pass (the rollout tick) rather than holding a waiter open. Unknown ids are absent from the map.
 */
export async function nodeCommandStates(db: Db, ids: readonly string[]): Promise<Map<string, NodeCommandOutcome>> {
  if (ids.length === 0) return new Map();
  const rows = await db.nodeCommand.findMany({
    where: { id: { in: [...ids] } },
    select: { id: true, state: true, result: true, error: true },
  });
  return new Map(
    rows.map((r) => [r.id, { id: r.id, state: r.state, result: (r.result as Record<string, unknown> | null) ?? null, error: r.error }]),
  );
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Cancels an open command (audited). The agent learns it from its next poll (the command is gone from the
 * answer, and the NOTIFY wakes that poll at once) or its next report (answered `cancelled`), and aborts the
 * handler. Cancelling a cancelled command is a no-op; a finished one cannot be cancelled.
 */
export async function cancelNodeCommand(ctx: ServiceContext, commandId: string): Promise<void> {
  const now = new Date();
  await withAudit(ctx, async (tx, audit) => {
    const before = await tx.nodeCommand.findUnique({
      where: { id: commandId },
      select: { id: true, nodeId: true, state: true, kind: true },
    });
    if (!before) throw notFound('Command', commandId);
    if (before.state === 'cancelled') return;
    if (isTerminalCommandState(before.state))
      throw conflict(`The command already ${before.state === 'expired' ? 'expired' : before.state}; there is nothing to cancel`);
    const changed = await tx.nodeCommand.updateMany({
      where: { id: commandId, state: { in: [...OPEN_NODE_COMMAND_STATES] } },
      data: { state: 'cancelled', cancelRequestedAt: now, finishedAt: now, error: `Cancelled by ${ctx.actor.label}` },
    });
    if (changed.count === 0) throw conflict('The command finished meanwhile; there is nothing to cancel');
    await audit({
      action: 'node_command.cancel',
      targetType: 'node_command',
      targetId: commandId,
      before: { state: before.state, kind: before.kind },
      after: { state: 'cancelled' },
    });
    await notifyNodeCommand(tx, true, before.nodeId, commandId, 'cancelled');
  });
}

/** One row of a command list, as the dashboard shows it. */
export interface NodeCommandListItem {
  id: string;
  nodeId: string;
  nodeHostname: string;
  kind: TAgentCommandBody['kind'];
  state: TNodeCommandState;
  origin: string;
  issuedBy: { id: string; name: string; email: string } | null;
  artifactId: string | null;
  deliveries: number;
  progress: Record<string, unknown> | null;
  result: Record<string, unknown> | null;
  error: string | null;
  issuedAt: Date;
  deliveredAt: Date | null;
  startedAt: Date | null;
  heartbeatAt: Date | null;
  finishedAt: Date | null;
  deadlineAt: Date;
}

export async function listNodeCommands(db: Db, input: TNodeCommandListInput) {
  const q = ZNodeCommandListInput.parse(input);
  const where: Prisma.NodeCommandWhereInput = {
    ...(q.nodeId ? { nodeId: q.nodeId } : {}),
    ...(q.clusterId ? { node: { clusterId: q.clusterId } } : {}),
    ...(q.states && q.states.length > 0 ? { state: { in: q.states } } : {}),
    ...(q.kind ? { kind: q.kind } : {}),
    ...(q.origin ? { origin: { startsWith: q.origin } } : {}),
    ...(q.search
      ? {
          OR: [
            { origin: { contains: q.search, mode: 'insensitive' } },
            { error: { contains: q.search, mode: 'insensitive' } },
            { node: { hostname: { contains: q.search, mode: 'insensitive' } } },
          ],
        }
      : {}),
  };
  // Nulls (never finished) sort last either way; the id breaks ties so pages never overlap.
  const orderBy: Prisma.NodeCommandOrderByWithRelationInput[] =
    q.sortBy === 'finishedAt'
      ? [{ finishedAt: { sort: q.sortDir, nulls: 'last' } }, { id: q.sortDir }]
      : [{ [q.sortBy]: q.sortDir }, { id: q.sortDir }];
  const [rows, total] = await Promise.all([
    db.nodeCommand.findMany({
      where,
      orderBy,
      skip: (q.page - 1) * q.pageSize,
      take: q.pageSize,
      include: { node: { select: { hostname: true } }, issuedByUser: { select: { id: true, name: true, email: true } } },
    }),
    db.nodeCommand.count({ where }),
  ]);
  const items: NodeCommandListItem[] = rows.map((r) => ({
    id: r.id,
    nodeId: r.nodeId,
    nodeHostname: r.node.hostname,
    kind: r.kind,
    state: r.state,
    origin: r.origin,
    issuedBy: r.issuedByUser,
    artifactId: r.artifactId,
    deliveries: r.deliveries,
    progress: (r.progress as Record<string, unknown> | null) ?? null,
    result: (r.result as Record<string, unknown> | null) ?? null,
    error: r.error,
    issuedAt: r.issuedAt,
    deliveredAt: r.deliveredAt,
    startedAt: r.startedAt,
    heartbeatAt: r.heartbeatAt,
    finishedAt: r.finishedAt,
    deadlineAt: r.deadlineAt,
  }));
  return { items, total, page: q.page, pageSize: q.pageSize };
}

export interface SweepOutcome {
  expired: number;
  failedSilent: number;
  redelivered: number;
}

/**
 * The repeatable sweep (every 30 s): expires commands past their deadline, fails running commands whose
 * agent went silent, and puts delivered commands that were never started back in the queue. Each change is
 * guarded by the state it was decided on, so concurrent sweepers (or a report arriving meanwhile) never
 * change a command twice.
 */
export async function sweepNodeCommands(
  db: PrismaClient,
  opts: { now?: Date; settings?: SweepSettings; limit?: number } = {},
): Promise<SweepOutcome> {
  const now = opts.now ?? new Date();
  const settings = opts.settings ?? DEFAULT_SWEEP_SETTINGS;
  const silentBefore = new Date(now.getTime() - settings.silentAfterSeconds * 1000);
  const redeliverBefore = new Date(now.getTime() - settings.redeliverAfterSeconds * 1000);
  const candidates = await db.nodeCommand.findMany({
    where: {
      OR: [
        { state: { in: [...OPEN_NODE_COMMAND_STATES] }, deadlineAt: { lte: now } },
        { state: 'running', OR: [{ heartbeatAt: { lte: silentBefore } }, { heartbeatAt: null }] },
        { state: 'delivered', OR: [{ deliveredAt: { lte: redeliverBefore } }, { deliveredAt: null }] },
      ],
    },
    select: { id: true, nodeId: true, state: true, deadlineAt: true, deliveredAt: true, heartbeatAt: true, startedAt: true },
    orderBy: { deadlineAt: 'asc' },
    take: opts.limit ?? 1000,
  });
  const out: SweepOutcome = { expired: 0, failedSilent: 0, redelivered: 0 };
  for (const c of candidates) {
    const decision = sweepDecision({ ...c, heartbeatAt: c.heartbeatAt ?? c.startedAt }, now, settings);
    if (!decision) continue;
    const guard = { id: c.id, state: c.state, heartbeatAt: c.heartbeatAt, deliveredAt: c.deliveredAt };
    await db.$transaction(async (tx) => {
      const data: Prisma.NodeCommandUpdateManyMutationInput =
        decision.action === 'redeliver' ? { state: 'queued' } : { state: decision.to, error: decision.error, finishedAt: now };
      const changed = await tx.nodeCommand.updateMany({ where: guard, data });
      if (changed.count === 0) return;
      await notifyNodeCommand(tx, true, c.nodeId, c.id, decision.to);
      if (decision.action === 'expire') out.expired += 1;
      else if (decision.action === 'fail_silent') out.failedSilent += 1;
      else out.redelivered += 1;
    });
  }
  return out;
}

/** An operator's restart or stop from the dashboard: issued as that user, audited under their name. */
export async function issueEngineCommand(ctx: ServiceContext, input: TIssueEngineCommandInput): Promise<{ id: string; created: boolean }> {
  const parsed = ZIssueEngineCommandInput.parse(input);
  const command: TAgentCommandBody =
    parsed.kind === 'restart_engine'
      ? { kind: 'restart_engine', payload: { reason: parsed.reason } }
      : { kind: 'stop_engine', payload: { drainSeconds: parsed.drainSeconds } };
  return issueNodeCommand(ctx.prisma, {
    nodeId: parsed.nodeId,
    command,
    origin: 'operator',
    issuedByUserId: ctx.actor.type === 'user' ? ctx.actor.id : null,
    actor: ctx.actor,
  });
}

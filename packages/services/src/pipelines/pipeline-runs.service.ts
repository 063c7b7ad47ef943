import {
  startPipelineRunJob,
  ZRunListInput,
  ZStartPipelineInput,
  type TRunListInput,
  type TStartPipelineInput,
} from '@fleetplane/contracts';
import type { Db, Prisma, RunTrigger } from '@fleetplane/db';
import { withAudit, type ServiceContext } from '../context';
import { isUniqueViolation, notFound, precondition } from '../errors';
import { addToOutbox, dispatchOutbox } from '../outbox/outbox.service';
import { parseStepSpec, planRun, stepRowsOf } from './run-flow';

const TERMINAL_RUN_STATES = ['succeeded', 'failed', 'cancelled'] as const;

/**
 * Creates the run of (revision, target) with its steps and queues its flow through the outbox, or
 * returns the existing run: (revision, target) is unique, so a revision is never processed twice.
 */
export async function createRunInTx(
  tx: Db,
  args: { revisionId: string; targetKey: string; trigger: RunTrigger; triggeredById: string | null },
) {
  const existing = await tx.pipelineRun.findUnique({
    where: { revisionId_targetKey: { revisionId: args.revisionId, targetKey: args.targetKey } },
  });
  if (existing) return { run: existing, created: false };
  // The whole plan is written at once (later stages pending), so the run page draws every step from the start.
  const plan = await planRun(tx, { revisionId: args.revisionId, targetKey: args.targetKey });
  const run = await tx.pipelineRun.create({
    data: {
      revisionId: args.revisionId,
      targetKey: args.targetKey,
      trigger: args.trigger,
      triggeredById: args.triggeredById,
      state: 'queued',
      summary: ['Waiting for a worker to start the download.', ...plan.notes].join(' '),
      steps: { create: stepRowsOf(plan) },
    },
  });
  await addToOutbox(tx, startPipelineRunJob, { runId: run.id, generation: 0 }, `start-${run.id}-0`);
  return { run, created: true };
}

export async function startPipeline(ctx: ServiceContext, input: TStartPipelineInput) {
  const data = ZStartPipelineInput.parse(input);
  const userId = ctx.actor.type === 'user' ? ctx.actor.id : null;
  const attempt = () =>
    withAudit(ctx, async (tx, audit) => {
      const revision = await tx.modelRevision.findUnique({ where: { id: data.revisionId }, select: { id: true } });
      if (!revision) throw notFound('Revision', data.revisionId);
      const { run, created } = await createRunInTx(tx, {
        revisionId: data.revisionId,
        targetKey: data.targetKey,
        trigger: 'manual',
        triggeredById: userId,
      });
      await audit({
        action: created ? 'pipeline_run.start' : 'pipeline_run.start_existing',
        targetType: 'pipeline_run',
        targetId: run.id,
        after: { revisionId: run.revisionId, targetKey: run.targetKey, state: run.state },
      });
      return { id: run.id, created };
    });
  let result;
  try {
    result = await attempt();
  } catch (e) {
    // Two starts raced past the lookup: the loser's insert hit the unique key; the winner's run exists now.
    if (!isUniqueViolation(e)) throw e;
    result = await attempt();
  }
  if (ctx.producer) await dispatchOutbox(ctx.prisma, ctx.producer).catch(() => undefined);
  return result;
}

/** The clusters run targets name (by id or by name); "default" and unknown keys have none. */
async function targetClusters(prisma: Db, targetKeys: string[]): Promise<Map<string, { id: string; name: string }>> {
  const keys = [...new Set(targetKeys.filter((k) => k !== 'default'))];
  if (!keys.length) return new Map();
  const clusters = await prisma.cluster.findMany({
    where: { OR: [{ id: { in: keys } }, { name: { in: keys } }] },
    select: { id: true, name: true },
  });
  const byKey = new Map<string, { id: string; name: string }>();
  for (const c of clusters) {
    byKey.set(c.id, c);
    byKey.set(c.name, c);
  }
  return byKey;
}

export async function listRuns(ctx: Pick<ServiceContext, 'prisma'>, input: TRunListInput) {
  const q = ZRunListInput.parse(input);
  const where: Prisma.PipelineRunWhereInput = {
    ...(q.state ? { state: q.state } : {}),
    ...(q.revisionId ? { revisionId: q.revisionId } : {}),
    ...(q.trackedRepoId ? { revision: { trackedRepoId: q.trackedRepoId } } : {}),
    ...(q.search
      ? {
          OR: [
            { revision: { trackedRepo: { hubRepoId: { contains: q.search, mode: 'insensitive' } } } },
            { revision: { commitSha: { startsWith: q.search.toLowerCase() } } },
          ],
        }
      : {}),
  };
  const [rows, total] = await Promise.all([
    ctx.prisma.pipelineRun.findMany({
      where,
      orderBy: [{ [q.sortBy]: q.sortDir }, { id: q.sortDir }],
      skip: (q.page - 1) * q.pageSize,
      take: q.pageSize,
      include: {
        revision: {
          select: {
            id: true,
            commitSha: true,
            commitTitle: true,
            changeClass: true,
            trackedRepo: { select: { id: true, hubRepoId: true } },
          },
        },
        steps: { select: { kind: true, state: true, progress: true }, orderBy: { position: 'asc' } },
      },
    }),
    ctx.prisma.pipelineRun.count({ where }),
  ]);
  const clusters = await targetClusters(
    ctx.prisma,
    rows.map((r) => r.targetKey),
  );
  const items = rows.map((r) => ({
    id: r.id,
    state: r.state,
    targetKey: r.targetKey,
    targetCluster: clusters.get(r.targetKey) ?? null,
    trigger: r.trigger,
    summary: r.summary,
    error: r.error,
    createdAt: r.createdAt,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    cancelRequestedAt: r.cancelRequestedAt,
    revision: r.revision,
    steps: r.steps,
  }));
  return { items, total, page: q.page, pageSize: q.pageSize };
}

export async function getRun(ctx: Pick<ServiceContext, 'prisma'>, id: string, opts: { logLimit?: number } = {}) {
  const run = await ctx.prisma.pipelineRun.findUnique({
    where: { id },
    include: {
      revision: {
        select: {
          id: true,
          commitSha: true,
          commitTitle: true,
          changeClass: true,
          bytesToFetch: true,
          totalBytes: true,
          trackedRepo: { select: { id: true, hubRepoId: true, branch: true } },
        },
      },
      steps: { orderBy: { position: 'asc' } },
      artifactsProduced: {
        select: {
          id: true,
          format: true,
          quantisation: true,
          digest: true,
          sizeBytes: true,
          storageUri: true,
          status: true,
          recipeId: true,
          quantRecipe: { select: { name: true, version: true } },
        },
      },
      triggeredBy: { select: { id: true, name: true, email: true } },
    },
  });
  if (!run) throw notFound('Pipeline run', id);
  const limit = opts.logLimit ?? 200;
  const steps = await Promise.all(
    run.steps.map(async (s) => {
      // Newest lines, shown oldest first.
      const logs = await ctx.prisma.pipelineLog.findMany({ where: { stepId: s.id }, orderBy: { id: 'desc' }, take: limit });
      return {
        id: s.id,
        kind: s.kind,
        targetKey: s.targetKey,
        position: s.position,
        state: s.state,
        attempts: s.attempts,
        progress: s.progress,
        error: s.error,
        startedAt: s.startedAt,
        finishedAt: s.finishedAt,
        heartbeatAt: s.heartbeatAt,
        spec: parseStepSpec(s.spec),
        artifactId: s.artifactId,
        logs: logs.reverse().map((l) => ({ id: Number(l.id), loggedAt: l.loggedAt, level: l.level, message: l.message })),
      };
    }),
  );
  const clusters = await targetClusters(ctx.prisma, [run.targetKey]);
  return {
    id: run.id,
    state: run.state,
    targetKey: run.targetKey,
    targetCluster: clusters.get(run.targetKey) ?? null,
    trigger: run.trigger,
    triggeredBy: run.triggeredBy,
    summary: run.summary,
    error: run.error,
    createdAt: run.createdAt,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    cancelRequestedAt: run.cancelRequestedAt,
    revision: { ...run.revision, bytesToFetch: Number(run.revision.bytesToFetch), totalBytes: Number(run.revision.totalBytes) },
    steps,
    artifacts: run.artifactsProduced.map((a) => ({ ...a, sizeBytes: Number(a.sizeBytes) })),
  };
}

export async function cancelRun(ctx: ServiceContext, id: string) {
  return withAudit(ctx, async (tx, audit) => {
    const run = await tx.pipelineRun.findUnique({ where: { id }, include: { steps: true } });
    if (!run) throw notFound('Pipeline run', id);
    if ((TERMINAL_RUN_STATES as readonly string[]).includes(run.state))
      throw precondition(`The run already ${run.state === 'cancelled' ? 'was cancelled' : run.state}`);
    const now = new Date();
    const running = run.steps.some((s) => s.state === 'running');
    // A running step sees cancelRequestedAt within a second and ends itself as cancelled; steps that
    // have not started are cancelled here, and without a running step the run ends at once.
    await tx.pipelineStep.updateMany({
      where: { runId: id, state: { in: ['pending', 'queued'] } },
      data: { state: 'cancelled', finishedAt: now },
    });
    await tx.pipelineRun.update({
      where: { id },
      data: running
        ? { cancelRequestedAt: now, summary: 'Cancelling: waiting for the running step to stop.' }
        : { cancelRequestedAt: now, state: 'cancelled', finishedAt: now, summary: 'Cancelled before the download started.' },
    });
    await audit({ action: 'pipeline_run.cancel', targetType: 'pipeline_run', targetId: id, before: { state: run.state } });
    return { id };
  });
}

async function requeue(ctx: ServiceContext, runId: string, stepFilter: Prisma.PipelineStepWhereInput, action: string) {
  const generation = Date.now();
  const result = await withAudit(ctx, async (tx, audit) => {
    const run = await tx.pipelineRun.findUnique({ where: { id: runId } });
    if (!run) throw notFound('Pipeline run', runId);
    if (run.state === 'queued' || run.state === 'running')
      throw precondition('The run is still in progress; cancel it first or wait for it to end');
    const steps = await tx.pipelineStep.findMany({ where: { runId, state: { in: ['failed', 'cancelled'] }, ...stepFilter } });
    if (steps.length === 0) throw precondition('Nothing to retry: only failed or cancelled steps can be retried');
    await tx.pipelineStep.updateMany({
      where: { id: { in: steps.map((s) => s.id) } },
      data: { state: 'queued', error: null, finishedAt: null },
    });
    await tx.pipelineRun.update({
      where: { id: runId },
      data: { state: 'queued', error: null, finishedAt: null, cancelRequestedAt: null, summary: 'Retry queued.' },
    });
    await addToOutbox(tx, startPipelineRunJob, { runId, generation }, `start-${runId}-${generation}`);
    await audit({ action, targetType: 'pipeline_run', targetId: runId, after: { steps: steps.map((s) => s.id) } });
    return { id: runId, retriedSteps: steps.length };
  });
  if (ctx.producer) await dispatchOutbox(ctx.prisma, ctx.producer).catch(() => undefined);
  return result;
}

export function retryRun(ctx: ServiceContext, id: string) {
  return requeue(ctx, id, {}, 'pipeline_run.retry');
}

export async function retryStep(ctx: ServiceContext, stepId: string) {
  const step = await ctx.prisma.pipelineStep.findUnique({ where: { id: stepId }, select: { runId: true } });
  if (!step) throw notFound('Pipeline step', stepId);
  return requeue(ctx, step.runId, { id: stepId }, 'pipeline_step.retry');
}

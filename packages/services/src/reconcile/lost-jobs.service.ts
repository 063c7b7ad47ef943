// Finds runs Postgres says are queued or running but whose BullMQ jobs are gone (a Redis that came
// back empty, keys lost another way) and queues their unfinished work again, or fails them with a
// reason, so no run stays "running" forever. The worker runs it from an in-process timer (which
// keeps going when Redis lost its job schedulers) and from the repeatable validation-sweep job.
import { startPipelineRunJob, startValidationRunJob, type TQueueName } from '@fleetplane/contracts';
import type { Db, PrismaClient } from '@fleetplane/db';
import { anyJobLive, removeFinishedJobs, type JobProducer } from '@fleetplane/queue';
import { dispatchOutbox } from '../outbox/outbox.service';
import { finalisePipelineRun, pipelineFinalizeJobIds, pipelineStepJobId } from '../pipelines/run-flow';
import { finaliseRun } from '../validation/run-lifecycle.service';
import { validationCheckJobId, validationFinaliseJobId } from '../validation/run-flow';
import { decideLostRun, isFreshHeartbeat, latestOf, type LostRunAction } from '@fleetplane/domain/runs/lost-run-decision';
import { lockRow } from '../shared/locks.sql';

export interface ReconcileOptions {
  /** A running step or check whose heartbeat is older than this has no worker on it (default 60 s, two lock lifetimes). */
  heartbeatStaleMs?: number;
  /** Times a run is queued again before it is failed instead (default 3). */
  maxRequeues?: number;
  /** A run with any sign of life within this long is left alone (default 60 s). */
  idleGraceMs?: number;
  now?: () => Date;
}

export interface ReconcileResult {
  requeued: string[];
  failed: string[];
  settled: string[];
  /** Runs whose job is gone but whose worker is still on them (fresh heartbeat). */
  waiting: string[];
}

interface RunFacts {
  outboxPending: boolean;
  jobIds: string[];
}

export async function reconcileLostJobs(
  deps: { prisma: PrismaClient; producer: JobProducer },
  opts: ReconcileOptions = {},
): Promise<ReconcileResult> {
  const result: ReconcileResult = { requeued: [], failed: [], settled: [], waiting: [] };
  await reconcilePipelineRuns(deps, opts, result);
  await reconcileValidationRuns(deps, opts, result);
  // The re-armed start messages go out now rather than at the next outbox sweep.
  if (result.requeued.length) await dispatchOutbox(deps.prisma, deps.producer);
  return result;
}

function settings(opts: ReconcileOptions) {
  return {
    heartbeatStaleMs: opts.heartbeatStaleMs ?? 60_000,
    maxRequeues: opts.maxRequeues ?? 3,
    idleGraceMs: opts.idleGraceMs ?? 60_000,
    now: opts.now ?? (() => new Date()),
  };
}

/** The newest start message of a run in the outbox (every start and retry goes through it). */
async function latestStartMessage(db: Db, queue: TQueueName, jobName: string, runId: string) {
  return db.outboxMessage.findFirst({
    where: { queue, jobName, payload: { path: ['runId'], equals: runId } },
    orderBy: { createdAt: 'desc' },
  });
}

/** Sends a start message again: the same row (same job id), marked undispatched in the transaction that reset the run. */
async function rearmStartMessage(tx: Db, queue: TQueueName, jobName: string, jobId: string, payload: object) {
  await tx.outboxMessage.upsert({
    where: { queue_jobId: { queue, jobId } },
    create: { queue, jobName, jobId, payload },
    update: { dispatchedAt: null, lastError: null },
  });
}

async function decide(
  deps: { producer: JobProducer },
  queue: TQueueName,
  facts: RunFacts,
  rest: Omit<Parameters<typeof decideLostRun>[0], 'outboxPending' | 'jobLive'>,
): Promise<LostRunAction> {
  // Cheap exits first: the outbox row and the heartbeats are in Postgres, liveness costs Redis reads.
  const pre = decideLostRun({ ...rest, outboxPending: facts.outboxPending, jobLive: false });
  if (pre.action === 'leave') return pre;
  return decideLostRun({ ...rest, outboxPending: false, jobLive: await anyJobLive(deps.producer, queue, facts.jobIds) });
}

async function reconcilePipelineRuns(
  deps: { prisma: PrismaClient; producer: JobProducer },
  opts: ReconcileOptions,
  result: ReconcileResult,
) {
  const { prisma, producer } = deps;
  const s = settings(opts);
  const runs = await prisma.pipelineRun.findMany({
    where: { state: { in: ['queued', 'running'] }, finishedAt: null },
    include: { steps: true },
    orderBy: { createdAt: 'asc' },
  });
  for (const run of runs) {
    const start = await latestStartMessage(prisma, 'pipeline', startPipelineRunJob.name, run.id);
    const generation = (start?.payload as { generation?: number } | null)?.generation ?? 0;
    const startJobId = start?.jobId ?? startPipelineRunJob.jobId!({ runId: run.id, generation });
    const jobIds = [
      startJobId,
      // One stage's flow at a time is live; any of them counts.
      ...pipelineFinalizeJobIds(run.id, generation),
      ...run.steps.map((st) => st.jobId ?? pipelineStepJobId(st.id, generation)),
    ];
    const now = s.now();
    const decision = await decide(
      deps,
      'pipeline',
      { outboxPending: !!start && !start.dispatchedAt, jobIds },
      {
        cancelRequested: !!run.cancelRequestedAt,
        units: run.steps,
        requeues: run.lostJobRequeues,
        maxRequeues: s.maxRequeues,
        now,
        heartbeatStaleMs: s.heartbeatStaleMs,
        lastActivityAt: latestOf(
          run.createdAt,
          run.startedAt,
          start?.dispatchedAt,
          ...run.steps.flatMap((st) => [st.startedAt, st.finishedAt, st.heartbeatAt]),
        ),
        idleGraceMs: s.idleGraceMs,
      },
    );
    if (decision.action === 'leave') {
      if (decision.why === 'worker_busy') result.waiting.push(run.id);
      continue;
    }
    if (decision.action === 'requeue') await removeFinishedJobs(producer, 'pipeline', jobIds);
    const applied = await prisma.$transaction(async (tx) => {
      // Row lock, then the facts again: another worker's reconciler may have acted meanwhile.
      await lockRow(tx, 'pipeline_run', run.id);
      const fresh = await tx.pipelineRun.findUnique({ where: { id: run.id }, include: { steps: true } });
      if (!fresh || fresh.finishedAt || (fresh.state !== 'queued' && fresh.state !== 'running')) return false;
      if (fresh.lostJobRequeues !== run.lostJobRequeues || fresh.steps.some((st) => isFreshHeartbeat(st, s.now(), s.heartbeatStaleMs)))
        return false;
      const unfinished = fresh.steps.filter((st) => st.state === 'pending' || st.state === 'queued' || st.state === 'running');
      const at = s.now();
      if (decision.action === 'settle' && fresh.cancelRequestedAt) {
        await tx.pipelineStep.updateMany({
          where: { id: { in: unfinished.map((st) => st.id) } },
          data: { state: 'cancelled', finishedAt: at },
        });
      } else if (decision.action === 'fail') {
        const error = `The step did not finish. ${decision.reason} Retry the run to resume from the files already downloaded.`;
        await tx.pipelineStep.updateMany({
          where: { id: { in: unfinished.map((st) => st.id) } },
          data: { state: 'failed', finishedAt: at, error },
        });
        for (const st of unfinished) await tx.pipelineLog.create({ data: { stepId: st.id, level: 'error', message: error } });
      } else if (decision.action === 'requeue') {
        const lost =
          'Its queue job was lost (Redis came back without its data); queued again by the reconciler. Partial files are resumed.';
        await tx.pipelineStep.updateMany({ where: { id: { in: unfinished.map((st) => st.id) } }, data: { state: 'queued' } });
        for (const st of unfinished) await tx.pipelineLog.create({ data: { stepId: st.id, level: 'warn', message: lost } });
        await tx.pipelineRun.update({
          where: { id: run.id },
          data: { lostJobRequeues: { increment: 1 }, summary: 'Queued again: its jobs were lost when Redis came back without its data.' },
        });
        await rearmStartMessage(tx, 'pipeline', startPipelineRunJob.name, startJobId, { runId: run.id, generation });
      }
      return true;
    });
    if (!applied) continue;
    if (decision.action === 'requeue') {
      result.requeued.push(run.id);
    } else {
      // Derives the run's state from its steps (and fails the ones still open), as the flow's parent would.
      await finalisePipelineRun(prisma, run.id);
      (decision.action === 'fail' ? result.failed : result.settled).push(run.id);
    }
  }
}

async function reconcileValidationRuns(
  deps: { prisma: PrismaClient; producer: JobProducer },
  opts: ReconcileOptions,
  result: ReconcileResult,
) {
  const { prisma, producer } = deps;
  const s = settings(opts);
  const runs = await prisma.validationRun.findMany({
    // A pipeline's staging run has no validation jobs: its validate step runs the checks and answers for it.
    where: { state: { in: ['queued', 'running'] }, finishedAt: null, pipelineStepId: null },
    include: { checks: true },
    orderBy: { createdAt: 'asc' },
  });
  for (const run of runs) {
    const startJobId = startValidationRunJob.jobId!({ runId: run.id });
    const start = await prisma.outboxMessage.findUnique({ where: { queue_jobId: { queue: 'validation', jobId: startJobId } } });
    const jobIds = [startJobId, validationFinaliseJobId(run.id), ...run.checks.map((c) => validationCheckJobId(run.id, c.checkKey))];
    const decision = await decide(
      deps,
      'validation',
      { outboxPending: !!start && !start.dispatchedAt, jobIds },
      {
        cancelRequested: !!run.cancelRequestedAt,
        units: run.checks,
        requeues: run.lostJobRequeues,
        maxRequeues: s.maxRequeues,
        now: s.now(),
        heartbeatStaleMs: s.heartbeatStaleMs,
        lastActivityAt: latestOf(
          run.createdAt,
          run.startedAt,
          start?.dispatchedAt,
          ...run.checks.flatMap((c) => [c.startedAt, c.finishedAt, c.heartbeatAt]),
        ),
        idleGraceMs: s.idleGraceMs,
      },
    );
    if (decision.action === 'leave') {
      if (decision.why === 'worker_busy') result.waiting.push(run.id);
      continue;
    }
    if (decision.action === 'settle' || decision.action === 'fail') {
      // finaliseRun locks the row and seals once; cancelled runs end cancelled, lost ones say why.
      const sealed = await finaliseRun(
        prisma,
        run.id,
        decision.action === 'fail'
          ? {
              lostReason: `The runner lost this run. ${decision.reason} Checks that had not finished are marked as errors; start a new run.`,
            }
          : {},
      );
      if (sealed) (decision.action === 'fail' ? result.failed : result.settled).push(run.id);
      continue;
    }
    await removeFinishedJobs(producer, 'validation', jobIds);
    const applied = await prisma.$transaction(async (tx) => {
      await lockRow(tx, 'validation_run', run.id);
      const fresh = await tx.validationRun.findUnique({ where: { id: run.id }, include: { checks: true } });
      if (!fresh || fresh.finishedAt || fresh.lostJobRequeues !== run.lostJobRequeues) return false;
      if (fresh.checks.some((c) => isFreshHeartbeat(c, s.now(), s.heartbeatStaleMs))) return false;
      // A check whose worker vanished starts again from the beginning (its row is overwritten).
      await tx.validationCheckResult.updateMany({
        where: { runId: run.id, state: 'running' },
        data: { state: 'pending', heartbeatAt: null },
      });
      await tx.validationRun.update({ where: { id: run.id }, data: { lostJobRequeues: { increment: 1 } } });
      // The start job adds the flow again for the checks without a result (beginRun).
      await rearmStartMessage(tx, 'validation', startValidationRunJob.name, startJobId, { runId: run.id });
      return true;
    });
    if (applied) result.requeued.push(run.id);
  }
}

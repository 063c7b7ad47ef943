import { FlowProducer, type FlowJob, type Job } from 'bullmq';
import { finaliseValidationRunJob, startValidationRunJob, sweepValidationRunsJob, validationCheckJob } from '@fleetplane/contracts';
import type { PrismaClient } from '@fleetplane/db';
import type { JobProducer } from '@fleetplane/queue';
import {
  beginRun,
  finaliseRun,
  reconcileLostJobs,
  runValidationCheck,
  validationCheckJobId,
  validationFinaliseJobId,
} from '@fleetplane/services';
import type { ProcessorRegistry } from '../registry';

// The ids live with the reconciler, which must recognise a run's jobs (packages/services/src/reconcile).
export const finaliseJobId = validationFinaliseJobId;
export const checkJobId = validationCheckJobId;

/**
 * The checks of a run form a chain of child jobs under one finalising parent: BullMQ runs the deepest
 * child first, so checks run one after another and the cluster's concurrency cap (applied inside every
 * check) holds for the whole run. ignoreDependencyOnFailure lets the chain and the parent go on when
 * a check job fails for good; the parent then records that check as an error.
 */
export function buildRunFlow(runId: string, checkKeys: readonly string[]): FlowJob {
  let child: FlowJob | undefined;
  for (const checkKey of checkKeys) {
    child = {
      name: validationCheckJob.name,
      queueName: validationCheckJob.queue,
      data: validationCheckJob.schema.parse({ runId, checkKey }),
      opts: {
        jobId: checkJobId(runId, checkKey),
        attempts: 3,
        backoff: { type: 'exponential', delay: 2_000 },
        ignoreDependencyOnFailure: true,
      },
      ...(child ? { children: [child] } : {}),
    };
  }
  return {
    name: finaliseValidationRunJob.name,
    queueName: finaliseValidationRunJob.queue,
    data: finaliseValidationRunJob.schema.parse({ runId }),
    opts: { jobId: finaliseJobId(runId), attempts: 5, backoff: { type: 'exponential', delay: 2_000 } },
    ...(child ? { children: [child] } : {}),
  };
}

async function addFlow(producer: JobProducer, flowJob: FlowJob) {
  const queue = producer.queue('validation');
  // A retried start job must not add the flow twice.
  if (await queue.getJob(flowJob.opts!.jobId!)) return false;
  const flow = new FlowProducer({ connection: queue.opts.connection, prefix: producer.prefix });
  try {
    await flow.add(flowJob);
    return true;
  } finally {
    await flow.close();
  }
}

/** One check job: the shared check runner in services, with the job's progress reported to BullMQ too. */
export async function runCheckJob(prisma: PrismaClient, runId: string, checkKey: string, job?: Pick<Job, 'updateProgress'>) {
  return runValidationCheck(prisma, runId, checkKey, { onProgress: (p) => void job?.updateProgress(p).catch(() => undefined) });
}

/** True while some job of the run can still move it forward. */
export async function runJobsAlive(producer: JobProducer, runId: string): Promise<boolean> {
  const queue = producer.queue('validation');
  const live = new Set(['waiting', 'active', 'delayed', 'waiting-children', 'prioritized']);
  const start = await queue.getJob(startValidationRunJob.jobId!({ runId }));
  if (start && live.has(await start.getState())) return true;
  const fin = await queue.getJob(finaliseJobId(runId));
  return !!fin && live.has(await fin.getState());
}

export function registerValidation(registry: ProcessorRegistry) {
  registry
    .register(startValidationRunJob, async ({ runId }, _job, { prisma, producer, log }) => {
      const begun = await beginRun(prisma, runId);
      if (!begun) return { started: false };
      const added = await addFlow(producer, buildRunFlow(runId, begun.checkKeys));
      log.info({ runId, checks: begun.checkKeys.length, added }, 'validation run started');
      return { started: true, checks: begun.checkKeys.length };
    })
    .register(validationCheckJob, async ({ runId, checkKey }, job, { prisma, log }) => {
      const out = await runCheckJob(prisma, runId, checkKey, job);
      log.info({ runId, checkKey, verdict: out.verdict }, 'validation check done');
      return out;
    })
    .register(finaliseValidationRunJob, async ({ runId }, _job, { prisma, log }) => {
      const run = await finaliseRun(prisma, runId);
      log.info({ runId, state: run?.state, verdict: run?.verdict }, 'validation run finished');
      return { state: run?.state ?? null, verdict: run?.verdict ?? null };
    })
    .register(sweepValidationRunsJob, async (_payload, _job, { prisma, producer, log, reconcile }) => {
      // The same pass the worker's in-process timer runs (that one also works when Redis lost this
      // job's scheduler): lost pipeline and validation work is queued again or failed with a reason.
      const result = await reconcileLostJobs({ prisma, producer }, reconcile);
      if (result.requeued.length || result.failed.length || result.settled.length) log.warn(result, 'reconciled runs whose jobs were gone');
      return result;
    });
}

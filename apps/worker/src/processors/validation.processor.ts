import type { Job } from 'bullmq';
import { finaliseValidationRunJob, startValidationRunJob, sweepValidationRunsJob, validationCheckJob } from '@fleetplane/contracts';
import type { PrismaClient } from '@fleetplane/db';
import { JobFlows, type JobProducer } from '@fleetplane/queue';
import { finaliseRun, reconcileLostJobs, runValidationCheck, startValidationRunFlow, validationFinaliseJobId } from '@fleetplane/services';
import type { ProcessorRegistry } from '../registry';

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
  const fin = await queue.getJob(validationFinaliseJobId(runId));
  return !!fin && live.has(await fin.getState());
}

/** Validation jobs parse their payload and call one service; the run's flow is built in services (run-flow.ts). */
export function registerValidation(registry: ProcessorRegistry) {
  let flows: JobFlows | undefined;
  registry.onClose(async () => {
    const f = flows;
    flows = undefined;
    await f?.close();
  });
  registry
    .register(startValidationRunJob, async ({ runId }, _job, { prisma, producer, log }) => {
      flows ??= new JobFlows(producer);
      const out = await startValidationRunFlow({ prisma, flows }, runId);
      if (out.started) log.info({ runId, checks: out.checks, added: out.added }, 'validation run started');
      return out;
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

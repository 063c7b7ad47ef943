import { FlowProducer, UnrecoverableError, type Job } from 'bullmq';
import { finalizePipelineRunJob, runPipelineStepJob, startPipelineRunJob } from '@fleetplane/contracts';
import { Redis } from 'ioredis';
import {
  ClusterDownloadLimits,
  executePipelineStep,
  finalisePipelineRun,
  PermanentStepError,
  pipelineFinalizeJobId,
  pipelineStepJobId,
  type StepRunnerDeps,
} from '@fleetplane/services';
import type { JobProducer } from '@fleetplane/queue';
import type { ProcessorRegistry } from '../registry';

export type PipelineOptions = Omit<StepRunnerDeps, 'prisma'>;

const STEP_ATTEMPTS = runPipelineStepJob.attempts ?? 3;

function flowProducerFor(producer: JobProducer): FlowProducer {
  const queue = producer.queue('pipeline');
  const flow = new FlowProducer({ connection: queue.opts.connection, prefix: producer.prefix });
  flow.on('error', () => undefined);
  return flow;
}

function isFinalAttempt(job: Job) {
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

/**
 * A run is a BullMQ flow: its steps are children of a finalize job, which runs once they all ended
 * (ignoreDependencyOnFailure, so a step that failed for good still lets the run settle).
 */
export function registerPipelines(registry: ProcessorRegistry, options: PipelineOptions = {}) {
  let flow: FlowProducer | undefined;
  // One set of per-cluster download limits per worker process (backed by Redis, so shared by all workers).
  let clusterLimits: ClusterDownloadLimits | undefined;
  let limitsRedis: Redis | undefined;
  registry.onClose(async () => {
    const f = flow;
    flow = undefined;
    await f?.close();
    const r = limitsRedis;
    limitsRedis = undefined;
    await r?.quit().catch(() => r.disconnect());
  });
  registry
    .register(startPipelineRunJob, async (payload, _job, { prisma, producer, log }) => {
      const run = await prisma.pipelineRun.findUnique({
        where: { id: payload.runId },
        include: { steps: { orderBy: { position: 'asc' } } },
      });
      if (!run) return { skipped: 'run no longer exists' };
      const steps = run.steps.filter((s) => s.state === 'queued' || s.state === 'pending');
      if (run.cancelRequestedAt || steps.length === 0) return { skipped: 'nothing to run' };
      flow ??= flowProducerFor(producer);
      const gen = payload.generation;
      await flow.add({
        name: finalizePipelineRunJob.name,
        queueName: 'pipeline',
        data: { runId: run.id },
        opts: { jobId: pipelineFinalizeJobId(run.id, gen), attempts: finalizePipelineRunJob.attempts },
        children: steps.map((s) => ({
          name: runPipelineStepJob.name,
          queueName: 'pipeline',
          data: { runId: run.id, stepId: s.id },
          opts: {
            jobId: pipelineStepJobId(s.id, gen),
            attempts: STEP_ATTEMPTS,
            backoff: { type: 'exponential', delay: 5_000 },
            ignoreDependencyOnFailure: true,
          },
        })),
      });
      await prisma.pipelineStep.updateMany({ where: { id: { in: steps.map((s) => s.id) } }, data: { jobId: null } });
      for (const s of steps) await prisma.pipelineStep.update({ where: { id: s.id }, data: { jobId: pipelineStepJobId(s.id, gen) } });
      log.info({ runId: run.id, steps: steps.length }, 'pipeline flow queued');
      return { steps: steps.length };
    })
    .register(runPipelineStepJob, async (payload, job, { prisma, producer }) => {
      try {
        // Slots and token buckets live in Redis, so a cluster's caps hold across worker processes.
        limitsRedis ??= new Redis(producer.redisUrl, { maxRetriesPerRequest: 3 });
        clusterLimits ??= new ClusterDownloadLimits(prisma, { redis: limitsRedis, keyPrefix: producer.prefix });
        const limits = clusterLimits;
        return await executePipelineStep({ prisma, limitsFor: (target) => limits.forTarget(target), ...options }, payload.stepId, {
          isFinalAttempt: isFinalAttempt(job),
        });
      } catch (err) {
        // Bad bytes, a full disk or a refusal will not get better by retrying.
        if (err instanceof PermanentStepError) throw new UnrecoverableError(err.message);
        throw err;
      }
    })
    .register(finalizePipelineRunJob, async (payload, _job, { prisma }) => finalisePipelineRun(prisma, payload.runId));
}

import { UnrecoverableError, type Job } from 'bullmq';
import { finalizePipelineRunJob, runPipelineStepJob, startPipelineRunJob } from '@fleetplane/contracts';
import { Redis } from 'ioredis';
import {
  advancePipelineRun,
  ClusterDownloadLimits,
  executePipelineStep,
  PermanentStepError,
  type StepRunnerDeps,
} from '@fleetplane/services';
import { JobFlows } from '@fleetplane/queue';
import type { ProcessorRegistry } from '../registry';

export type PipelineOptions = Omit<StepRunnerDeps, 'prisma'>;

function isFinalAttempt(job: Job) {
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

/**
 * Pipeline jobs parse their payload and call one service: start-run and each stage's finalize job advance the run
 * (advancePipelineRun builds the next stage's flow), run-step executes one step.
 */
export function registerPipelines(registry: ProcessorRegistry, options: PipelineOptions = {}) {
  let flows: JobFlows | undefined;
  // One set of per-cluster download limits per worker process (backed by Redis, so shared by all workers).
  let clusterLimits: ClusterDownloadLimits | undefined;
  let limitsRedis: Redis | undefined;
  registry.onClose(async () => {
    const f = flows;
    flows = undefined;
    await f?.close();
    const r = limitsRedis;
    limitsRedis = undefined;
    await r?.quit().catch(() => r.disconnect());
  });
  registry
    .register(startPipelineRunJob, async (payload, _job, { prisma, producer }) => {
      flows ??= new JobFlows(producer);
      return advancePipelineRun({ prisma, flows }, { runId: payload.runId, generation: payload.generation });
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
        // Bad bytes, a full disk, a quality breach or a refusal will not get better by retrying.
        if (err instanceof PermanentStepError) throw new UnrecoverableError(err.message);
        throw err;
      }
    })
    .register(finalizePipelineRunJob, async (payload, _job, { prisma, producer }) => {
      flows ??= new JobFlows(producer);
      return advancePipelineRun({ prisma, flows }, { runId: payload.runId, generation: payload.generation, endedStage: payload.stage });
    });
}

import { finaliseValidationRunJob, jobIdPart, validationCheckJob } from '@fleetplane/contracts';
import type { PrismaClient } from '@fleetplane/db';
import type { FlowNode, JobFlows } from '@fleetplane/queue';
import { beginRun } from './run-lifecycle.service';

// The ids of a run's jobs. Deterministic, so queueing lost work again never adds a second copy of a job that
// still exists, and two reconcilers (two worker replicas) add one job between them (reconcile/ reads them here).
export const validationFinaliseJobId = (runId: string) => `vfin-${runId}`;
export const validationCheckJobId = (runId: string, checkKey: string) => `vchk-${runId}-${jobIdPart(checkKey)}`;

/**
 * A validation run's BullMQ flow, built the one way flows are built (JobFlows, as the pipeline's stages are):
 * the checks form a chain of child jobs under one finalising parent. BullMQ runs the deepest child first, so
 * checks run one after another and the cluster's concurrency cap (applied inside every check) holds for the
 * whole run. ignoreDependencyOnFailure lets the chain and the parent go on when a check job fails for good;
 * the parent then records that check as an error. The reconciler recognises a lost flow by these job ids.
 */
export function validationRunFlow(runId: string, checkKeys: readonly string[]): FlowNode {
  let child: FlowNode | undefined;
  for (const checkKey of checkKeys) {
    child = {
      def: validationCheckJob,
      payload: { runId, checkKey },
      opts: {
        jobId: validationCheckJobId(runId, checkKey),
        attempts: 3,
        backoff: { type: 'exponential', delay: 2_000 },
        ignoreDependencyOnFailure: true,
      },
      ...(child ? { children: [child] } : {}),
    };
  }
  return {
    def: finaliseValidationRunJob,
    payload: { runId },
    opts: { jobId: validationFinaliseJobId(runId), attempts: 5, backoff: { type: 'exponential', delay: 2_000 } },
    ...(child ? { children: [child] } : {}),
  };
}

/**
 * The start-run job: marks the run begun and adds its flow. Safe to repeat (a re-sent start message, the
 * reconciler): a finished run is left alone and a flow whose parent job exists is not added twice.
 */
export async function startValidationRunFlow(
  deps: { prisma: PrismaClient; flows: JobFlows },
  runId: string,
): Promise<{ started: boolean; checks: number; added: boolean }> {
  const begun = await beginRun(deps.prisma, runId);
  if (!begun) return { started: false, checks: 0, added: false };
  const added = await deps.flows.add(validationRunFlow(runId, begun.checkKeys));
  return { started: true, checks: begun.checkKeys.length, added };
}

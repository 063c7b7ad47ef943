import {
  DOWNLOAD_ONLY_SUMMARY,
  finalizePipelineRunJob,
  runPipelineStepJob,
  type TPipelineStage,
  type TPipelineStepSpec,
} from '@fleetplane/contracts';
import type { Db, PrismaClient } from '@fleetplane/db';
import {
  decideAdvance,
  planPipelineRun,
  planSteps,
  recipeCopiesTokenizerFiles,
  summarisePipelineRun,
  type TPipelinePlan,
  type TRevisionChangeClass,
  countOf,
} from '@fleetplane/domain';
import type { JobFlows } from '@fleetplane/queue';
import { buildTargetsFor } from '../recipes/recipes.service';
import { lockRow } from '../shared/locks.sql';

/**
 * One way to build a run's BullMQ flows. Each stage is a flow of its own: a parent `finalize-run` job (the stage
 * barrier) with one child `run-step` job per step (fan-out). When the parent runs, every step of the stage has
 * ended; advancePipelineRun then starts the next stage or ends the run. The start-run message (outbox, reconciler)
 * calls the same function, so a lost flow is rebuilt from Postgres with the same job ids.
 */

export const pipelineFinalizeJobId = (runId: string, generation: number, stage: TPipelineStage = 'download') =>
  stage === 'download' ? `finalize-${runId}-${generation}` : `finalize-${runId}-${generation}-${stage}`;
export const pipelineStepJobId = (stepId: string, generation: number) => `step-${stepId}-${generation}`;

/** Every finalize job id a run's generation may have (one per stage). */
export const pipelineFinalizeJobIds = (runId: string, generation: number) =>
  (['download', 'quantise', 'validate'] as const).map((s) => pipelineFinalizeJobId(runId, generation, s));

const STEP_ATTEMPTS = runPipelineStepJob.attempts ?? 3;

export interface RunFlowDeps {
  prisma: PrismaClient;
  /** Absent where no flow can be added (a step settling its run): starting a stage is then left to the flow. */
  flows?: JobFlows;
}

/** The cluster a run target names (id or name); null for "default" or an unknown key. */
export async function clusterOfTarget(db: Db, targetKey: string) {
  if (targetKey === 'default') return null;
  return db.cluster.findFirst({ where: { OR: [{ id: targetKey }, { name: targetKey }] }, select: { id: true, name: true } });
}

/** Loads what planPipelineRun needs (build targets, earlier builds for the tokenizer rule) and plans the run. */
export async function planRun(db: Db, args: { revisionId: string; targetKey: string }): Promise<TPipelinePlan> {
  const revision = await db.modelRevision.findUniqueOrThrow({
    where: { id: args.revisionId },
    select: { id: true, trackedRepoId: true, changeClass: true },
  });
  const cluster = await clusterOfTarget(db, args.targetKey);
  if (!cluster) return planPipelineRun({ changeClass: revision.changeClass as TRevisionChangeClass, target: { kind: 'default' } });
  const targets = await buildTargetsFor(db, { trackedRepoId: revision.trackedRepoId, clusterId: cluster.id });
  const previousBuilds: Record<string, string> = {};
  for (const r of targets.recipes) {
    // The last ready artifact built with this recipe content from an earlier revision of the same repo.
    const prev = await db.artifact.findFirst({
      where: {
        recipeDigest: r.digest,
        status: 'ready',
        revision: { trackedRepoId: revision.trackedRepoId, id: { not: revision.id } },
      },
      orderBy: { createdAt: 'desc' },
      select: { id: true },
    });
    if (prev) previousBuilds[r.digest] = prev.id;
  }
  const plan = planPipelineRun({
    changeClass: revision.changeClass as TRevisionChangeClass,
    target: {
      kind: 'cluster',
      clusterId: cluster.id,
      clusterName: cluster.name,
      recipes: targets.recipes.map((r) => ({
        id: r.id,
        name: r.name,
        version: r.version,
        digest: r.digest,
        copiesTokenizerFiles: recipeCopiesTokenizerFiles({ outputFormat: r.outputFormat as never }),
      })),
    },
    previousBuilds,
  });
  return { ...plan, notes: [...targets.notes, ...plan.notes] };
}

/** The pipeline_step rows of a plan (the first stage queued, the rest pending until their stage starts). */
export function stepRowsOf(plan: TPipelinePlan) {
  return planSteps(plan).map((s) => ({
    kind: s.kind,
    targetKey: s.targetKey,
    position: s.position,
    state: s.position === 0 ? ('queued' as const) : ('pending' as const),
    spec: s.spec as object,
  }));
}

function stageFlow(runId: string, generation: number, stage: TPipelineStage, stepIds: string[]) {
  return {
    def: finalizePipelineRunJob,
    payload: { runId, generation, stage },
    opts: { jobId: pipelineFinalizeJobId(runId, generation, stage), attempts: finalizePipelineRunJob.attempts },
    children: stepIds.map((stepId) => ({
      def: runPipelineStepJob,
      payload: { runId, stepId },
      opts: {
        jobId: pipelineStepJobId(stepId, generation),
        attempts: STEP_ATTEMPTS,
        backoff: { type: 'exponential' as const, delay: 5_000 },
        // A step that failed for good still lets the stage's parent run and settle the run.
        ignoreDependencyOnFailure: true,
      },
    })),
  };
}

const STAGE_SUMMARY: Record<TPipelineStage, (n: number) => string> = {
  download: () => 'Waiting for a worker to start the download.',
  quantise: (n) => `Download verified; quantising with ${countOf(n, 'recipe')}.`,
  validate: (n) => `Validating ${countOf(n, 'artifact')}.`,
};

export type AdvanceResult =
  | { action: 'gone' | 'ended' | 'wait' }
  | { action: 'started'; stage: TPipelineStage; steps: number; added: boolean }
  | { action: 'finished'; state: 'succeeded' | 'failed' | 'cancelled' };

/**
 * Moves a run forward: settles the stage that just ended (when called by its finalize job), cancels what cannot
 * run any more, starts the next stage's fan-out or ends the run with its summary. Idempotent: the decision is taken
 * under the run's row lock from Postgres alone, and flows are added with deterministic job ids.
 */
export async function advancePipelineRun(
  deps: RunFlowDeps,
  input: { runId: string; generation: number; endedStage?: TPipelineStage },
): Promise<AdvanceResult> {
  const { prisma } = deps;
  const result = await prisma.$transaction(
    async (tx): Promise<AdvanceResult | { action: 'start'; stage: TPipelineStage; stepIds: string[] }> => {
      await lockRow(tx, 'pipeline_run', input.runId);
      const run = await tx.pipelineRun.findUnique({
        where: { id: input.runId },
        include: { steps: { orderBy: { position: 'asc' } }, revision: { select: { changeClass: true } } },
      });
      if (!run) return { action: 'gone' };
      if (run.state === 'succeeded' || run.state === 'failed' || run.state === 'cancelled') return { action: 'ended' };
      const now = new Date();
      if (input.endedStage) {
        // The stage's parent only runs once its children ended: a step still queued or running here is one whose job
        // failed for good outside the step code (its worker kept dying: stalled job limit).
        for (const s of run.steps) {
          if (s.kind !== input.endedStage || (s.state !== 'queued' && s.state !== 'running')) continue;
          const message =
            s.state === 'queued'
              ? 'The step never ran: its job failed before the step started'
              : 'The step did not finish: its worker stopped responding repeatedly (stalled job limit reached)';
          await tx.pipelineStep.update({ where: { id: s.id }, data: { state: 'failed', finishedAt: now, error: message } });
          s.state = 'failed';
          s.error = message;
        }
      }
      for (let i = 0; i < 3; i++) {
        const decision = decideAdvance(run.steps, { cancelRequested: run.cancelRequestedAt !== null });
        switch (decision.action) {
          case 'wait':
            return { action: 'wait' };
          case 'cancel_pending': {
            await tx.pipelineStep.updateMany({ where: { id: { in: decision.stepIds } }, data: { state: 'cancelled', finishedAt: now } });
            for (const s of run.steps) if (decision.stepIds.includes(s.id)) s.state = 'cancelled';
            continue;
          }
          case 'finish': {
            const failed = run.steps.find((s) => s.id === decision.failedStepId);
            const summary = summarisePipelineRun({
              state: decision.state,
              changeClass: run.revision.changeClass as TRevisionChangeClass,
              targetIsCluster: run.steps.some((s) => s.kind !== 'download'),
              steps: run.steps.map((s) => ({
                kind: s.kind,
                targetKey: s.targetKey,
                state: s.state,
                error: s.error,
                reused: (s.progress as { reused?: boolean } | null)?.reused === true,
              })),
              downloadOnlySummary: DOWNLOAD_ONLY_SUMMARY,
            });
            await tx.pipelineRun.update({
              where: { id: run.id },
              data: { state: decision.state, finishedAt: now, error: failed?.error ?? null, summary },
            });
            return { action: 'finished', state: decision.state };
          }
          case 'start_stage': {
            if (!deps.flows) return { action: 'wait' };
            for (const id of decision.stepIds)
              await tx.pipelineStep.update({
                where: { id },
                data: { state: 'queued', jobId: pipelineStepJobId(id, input.generation) },
              });
            if (decision.stage !== 'download' || run.state === 'queued')
              await tx.pipelineRun.update({
                where: { id: run.id },
                data:
                  decision.stage === 'download'
                    ? {}
                    : { state: 'running', summary: STAGE_SUMMARY[decision.stage](decision.stepIds.length) },
              });
            return { action: 'start', stage: decision.stage, stepIds: decision.stepIds };
          }
        }
      }
      return { action: 'wait' };
    },
  );
  if (result.action !== 'start') return result;
  const added = await deps.flows!.add(stageFlow(input.runId, input.generation, result.stage, result.stepIds));
  return { action: 'started', stage: result.stage, steps: result.stepIds.length, added };
}

/**
 * Called by a step when it ended: ends the run at once when nothing is left to start (failure, cancel, last stage),
 * so the run's state does not wait for the flow's parent. Starting the next stage stays with the parent job.
 */
export function settleRunAfterStep(prisma: PrismaClient, runId: string) {
  return advancePipelineRun({ prisma }, { runId, generation: 0 });
}

export function parseStepSpec(spec: unknown): TPipelineStepSpec {
  return (spec && typeof spec === 'object' ? spec : {}) as TPipelineStepSpec;
}

/**
 * Ends a run whose jobs can no longer settle it (the reconciler's "settle"/"fail"): steps still queued or running
 * are failed with the reason, later ones cancelled, and the run's state derived from its steps.
 */
export async function finalisePipelineRun(prisma: PrismaClient, runId: string) {
  const run = await prisma.pipelineRun.findUnique({ where: { id: runId }, include: { steps: true } });
  if (!run) return { state: 'missing' as const };
  const now = new Date();
  for (const s of run.steps) {
    if ((s.state === 'running' || s.state === 'queued') && !run.cancelRequestedAt) {
      const message = 'The step did not finish: its worker stopped responding repeatedly (stalled job limit reached)';
      await prisma.pipelineStep.update({ where: { id: s.id }, data: { state: 'failed', finishedAt: now, error: message } });
    }
  }
  await settleRunAfterStep(prisma, runId);
  const after = await prisma.pipelineRun.findUniqueOrThrow({ where: { id: runId }, select: { state: true } });
  return { state: after.state };
}

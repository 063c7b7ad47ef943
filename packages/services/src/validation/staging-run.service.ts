import type { Db } from '@fleetplane/db';
import { chooseStagingBaseline, DEFAULT_GATING_SUITE_NAME } from '@fleetplane/domain';
import { precondition } from '../errors';
import { latestSuite, parseStoredSuite } from './suites.service';

/** The artifact a cluster serves now: its newest active cluster-wide deployment, else any active one. */
export async function servingArtifactOf(db: Db, clusterId: string): Promise<string | null> {
  const dep = await db.deployment.findFirst({
    where: { clusterId, state: 'active' },
    orderBy: [{ nodeId: { sort: 'asc', nulls: 'first' } }, { startedAt: 'desc' }],
    select: { artifactId: true },
  });
  return dep?.artifactId ?? null;
}

/**
 * Creates the validation run of a pipeline's validate step: the cluster's gating suite against the
 * staging node's engine (the endpoint and model its load command reported ready), linked to the pipeline
 * run and step, the candidate artifact and the node. Its checks are run by the step itself (not by the
 * validation queue), so the run has no start job. The baseline is the latest passing run of the artifact
 * the cluster serves now on the same suite.
 */
export async function createStagingValidationRun(
  tx: Db,
  input: {
    clusterId: string;
    nodeId: string;
    artifactId: string;
    pipelineRunId: string;
    pipelineStepId: string;
    endpointUrl: string;
    servedModelName: string;
  },
) {
  const cluster = await tx.cluster.findUniqueOrThrow({ where: { id: input.clusterId }, select: { name: true, gatingSuiteName: true } });
  const suiteName = cluster.gatingSuiteName ?? DEFAULT_GATING_SUITE_NAME;
  const suiteRow = await latestSuite(tx, suiteName).catch(() => null);
  if (!suiteRow) throw precondition(`Cluster "${cluster.name}" gates on suite "${suiteName}", which does not exist.`);
  const suite = parseStoredSuite(suiteRow);
  const servingArtifactId = await servingArtifactOf(tx, input.clusterId);
  const candidates = servingArtifactId
    ? await tx.validationRun.findMany({
        where: { artifactId: servingArtifactId, state: 'succeeded', verdict: 'pass', suite: { name: suite.name } },
        select: {
          id: true,
          clusterId: true,
          artifactId: true,
          state: true,
          verdict: true,
          finishedAt: true,
          suite: { select: { name: true } },
        },
        orderBy: { finishedAt: 'desc' },
        take: 50,
      })
    : [];
  const baselineRunId = chooseStagingBaseline(
    candidates.map((r) => ({ ...r, suiteName: r.suite.name })),
    { servingArtifactId, clusterId: input.clusterId, suiteName: suite.name },
  );
  const run = await tx.validationRun.create({
    data: {
      suiteId: suiteRow.id,
      clusterId: input.clusterId,
      artifactId: input.artifactId,
      baselineRunId,
      pipelineRunId: input.pipelineRunId,
      pipelineStepId: input.pipelineStepId,
      nodeId: input.nodeId,
      endpointUrl: input.endpointUrl,
      servedModelName: input.servedModelName,
      state: 'queued',
      checks: {
        create: suite.checks.map((c) => ({ checkKey: c.key, kind: c.kind, required: c.required, thresholds: c.thresholds as object })),
      },
    },
  });
  return { id: run.id, suite: `${suite.name} v${suite.version}`, baselineRunId };
}

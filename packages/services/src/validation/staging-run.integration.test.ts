import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPrismaClient, type PrismaClient } from '@fleetplane/db';
import '@fleetplane/db/testing';
import { SYSTEM_ACTOR } from '../context';
import { seedStagingScene } from '../pipelines/validate-step-test-support';
import { beginRun, loadCheckTarget, sweepLostRuns } from './run-lifecycle.service';
import { startValidationRun } from './runs.service';
import { createStagingValidationRun } from './staging-run.service';
import { syncSuites } from './suites.service';

let prisma: PrismaClient;
const suiteName = `stage-${randomBytes(3).toString('hex')}`;
beforeAll(async () => {
  prisma = createPrismaClient(inject('databaseUrl'));
  await syncSuites(prisma, [
    { name: suiteName, version: 1, checks: [{ key: 'endpoint', kind: 'endpoint', params: {}, thresholds: {} }] } as never,
  ]);
});
afterAll(() => prisma?.$disconnect());

describe('staging validation runs', () => {
  it("measure the staging node's engine, baseline on the serving artifact's latest pass, and stay out of the cluster's own runs", async () => {
    const s = await seedStagingScene(prisma, { suiteName });
    const suite = await prisma.validationSuite.findFirstOrThrow({ where: { name: suiteName } });
    const old = new Date(Date.now() - 3_600_000);
    // Two passing runs of the serving artifact (the newer one is the baseline) and a newer pass of another artifact.
    const passOf = (artifactId: string, finishedAt: Date) =>
      prisma.validationRun.create({
        data: { suiteId: suite.id, clusterId: s.cluster.id, artifactId, state: 'succeeded', verdict: 'pass', finishedAt },
      });
    await passOf(s.serving.id, old);
    const newest = await passOf(s.serving.id, new Date(Date.now() - 60_000));
    await passOf(s.candidate.id, new Date());

    const created = await prisma.$transaction((tx) =>
      createStagingValidationRun(tx, {
        clusterId: s.cluster.id,
        nodeId: s.node.id,
        artifactId: s.candidate.id,
        pipelineRunId: s.run.id,
        pipelineStepId: s.step.id,
        endpointUrl: 'http://127.0.0.1:18555',
        servedModelName: 'candidate-model',
      }),
    );
    expect(created.baselineRunId).toBe(newest.id);
    const target = await loadCheckTarget(prisma, created.id, 'endpoint');
    expect(target.ok && target.target.baseUrl).toBe('http://127.0.0.1:18555');
    expect(target.ok && target.target.servedModelName).toBe('candidate-model');
    await beginRun(prisma, created.id);
    const row = await prisma.validationRun.findUniqueOrThrow({ where: { id: created.id } });
    expect(row.context).toMatchObject({ endpointUrl: 'http://127.0.0.1:18555', servedModelName: 'candidate-model' });

    // An operator may still validate the cluster's own endpoint meanwhile, and its baseline is not the staging run.
    const manual = await startValidationRun({ prisma, actor: SYSTEM_ACTOR }, { clusterId: s.cluster.id, suiteName });
    expect(manual.baselineRunId).not.toBe(created.id);
    // The validation sweeper leaves the staging run to its pipeline step (it has no queue jobs of its own).
    await prisma.validationRun.update({ where: { id: created.id }, data: { createdAt: old } });
    const swept = await sweepLostRuns(prisma, async () => false, { graceMs: 0 });
    expect(swept.failed).not.toContain(created.id);
  });
});

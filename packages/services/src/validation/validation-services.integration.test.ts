import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { TValidationSuiteInput } from '@fleetplane/contracts';
import { createPrismaClient, type PrismaClient } from '@fleetplane/db';
import '@fleetplane/db/testing';
import { SYSTEM_ACTOR } from '../context';
import { compareValidationRun, listValidationRuns, startValidationRun } from './runs.service';
import { listSuites, syncSuites } from './suites.service';
import { finaliseRun, saveCheckResult } from './run-lifecycle.service';

let prisma: PrismaClient;
const tag = randomBytes(3).toString('hex');
beforeAll(() => {
  prisma = createPrismaClient(inject('databaseUrl'));
});
afterAll(() => prisma?.$disconnect());

const suite = (minAccuracy: number): TValidationSuiteInput => ({
  name: `s-${tag}`,
  version: 1,
  checks: [{ key: 'exact-answers', kind: 'exact_answer', params: { taskIds: ['arith-mul'] }, thresholds: { minAccuracy } }],
});

async function makeCluster(endpoint = true) {
  const site = await prisma.site.create({ data: { name: `site-${randomBytes(4).toString('hex')}`, region: 'eu', dataResidency: 'eu' } });
  return prisma.cluster.create({
    data: {
      name: `c-${randomBytes(4).toString('hex')}`,
      siteId: site.id,
      servingEngine: 'vllm',
      engineVersion: '0.11.2',
      ...(endpoint ? { endpointUrl: 'http://127.0.0.1:9', servedModelName: 'm' } : {}),
    },
  });
}

describe('validation suites as data', () => {
  it('stores a suite once, and a changed definition as a new version', async () => {
    expect(await syncSuites(prisma, [suite(0.9) as never])).toEqual([{ name: `s-${tag}`, version: 1, created: true }]);
    expect(await syncSuites(prisma, [suite(0.9) as never])).toEqual([{ name: `s-${tag}`, version: 1, created: false }]);
    expect(await syncSuites(prisma, [suite(0.8) as never])).toEqual([{ name: `s-${tag}`, version: 2, created: true }]);
    const listed = (await listSuites({ prisma })).filter((s) => s.name === `s-${tag}`);
    expect(listed).toEqual([
      expect.objectContaining({
        version: 2,
        checks: [{ key: 'exact-answers', kind: 'exact_answer', title: 'exact-answers', required: true }],
      }),
    ]);
    const rows = await prisma.validationSuite.findMany({ where: { name: `s-${tag}` }, orderBy: { version: 'asc' } });
    expect((rows[0]!.checks as { thresholds: { minAccuracy: number } }[])[0]!.thresholds.minAccuracy).toBe(0.9);
  });
});

describe('starting runs', () => {
  const ctx = () => ({ prisma, actor: SYSTEM_ACTOR });

  it('writes the run, one pending row per check and the outbox job in one go; defaults the baseline', async () => {
    await syncSuites(prisma, [suite(0.8) as never]);
    const c = await makeCluster();
    const first = await startValidationRun(ctx(), { clusterId: c.id, suiteName: `s-${tag}` });
    expect(first.baselineRunId).toBeNull();
    const rows = await prisma.validationCheckResult.findMany({ where: { runId: first.id } });
    expect(rows.map((r) => [r.checkKey, r.state])).toEqual([['exact-answers', 'pending']]);
    const outbox = await prisma.outboxMessage.findMany({ where: { jobId: `vstart-${first.id}` } });
    expect(outbox).toHaveLength(1);
    expect(outbox[0]!.payload).toEqual({ runId: first.id });
    expect(await prisma.auditEvent.count({ where: { action: 'validation.run.start', targetId: first.id } })).toBe(1);

    // Seal it as a pass, then the next run on the cluster picks it as baseline.
    await saveCheckResult(prisma, first.id, {
      key: 'exact-answers',
      kind: 'exact_answer',
      required: true,
      verdict: 'pass',
      score: 1,
      thresholds: {},
      metrics: { accuracy: 1 },
      samples: [],
      explanation: 'ok',
      startedAt: new Date().toISOString(),
      finishedAt: new Date().toISOString(),
      durationMs: 1,
    });
    const sealed = await finaliseRun(prisma, first.id);
    expect(sealed).toMatchObject({ state: 'succeeded', verdict: 'pass' });
    const second = await startValidationRun(ctx(), { clusterId: c.id, suiteName: `s-${tag}` });
    expect(second.baselineRunId).toBe(first.id);
    const cmp = await compareValidationRun(ctx(), second.id);
    expect(cmp.baselineRunId).toBe(first.id);
    expect(cmp.comparison?.gates.find((g) => g.metric === 'accuracy')).toMatchObject({ baseline: 1, candidate: null, verdict: 'skipped' });

    const listed = await listValidationRuns(ctx(), { clusterId: c.id, sortBy: 'createdAt', sortDir: 'asc' });
    expect(listed.items.map((r) => r.id)).toEqual([first.id, second.id]);
    expect((await listValidationRuns(ctx(), { clusterId: c.id, verdict: 'pass' })).items.map((r) => r.id)).toEqual([first.id]);
    expect((await listValidationRuns(ctx(), { clusterId: c.id, state: 'queued' })).total).toBe(1);
  });

  it('refuses clusters without an endpoint and unknown suites with clear messages', async () => {
    const bare = await makeCluster(false);
    await expect(startValidationRun(ctx(), { clusterId: bare.id, suiteName: `s-${tag}` })).rejects.toThrow(/has no endpoint URL/);
    const c = await makeCluster();
    await expect(startValidationRun(ctx(), { clusterId: c.id, suiteName: 'no-such-suite' })).rejects.toThrow(
      /Unknown suite "no-such-suite"/,
    );
    expect(await prisma.validationRun.count({ where: { clusterId: { in: [bare.id, c.id] } } })).toBe(0);
  });
});

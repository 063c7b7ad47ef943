// Per-cluster download limits through the step runner against the fake Hub and a real database:
// two runs for one cluster share its file slots and its bandwidth cap, measured at the Hub.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allowLoopbackForTests } from '../network/testing';
import { DownloadSlots, type BandwidthLimiter } from '@fleetplane/hub';
import { startFakeHub, tinyRepoSeed, type FakeHub } from '@fleetplane/fake-hub';
import { SYSTEM_ACTOR } from '../context';
import { runRepoCheck } from '../upstream/repo-check.service';
import { fastRetry, makeTrackedRepo, testPrisma, testSettings, uniqueRepoId } from '../upstream/upstream-test-support';
import type { UpstreamSettings } from '../shared/upstream-settings';
import { startPipeline } from './pipeline-runs.service';
import { ClusterDownloadLimits, MBIT } from './cluster-download-limits';
import { executePipelineStep, type StepRunnerDeps } from './step-runner.service';

const prisma = testPrisma();
const SHARD = 1024 * 1024;
const REPOS = Array.from({ length: 6 }, () => uniqueRepoId('limits'));
let hub: FakeHub;
let settings: UpstreamSettings;

beforeAll(async () => {
  // The fake Hub / webhook receiver listen on loopback, which only the admin setting allows.
  await allowLoopbackForTests(prisma);
  hub = await startFakeHub({ repos: REPOS.map((id) => tinyRepoSeed(id, SHARD)), onWarning: () => undefined });
  settings = await testSettings(hub.url);
});
afterAll(async () => {
  await hub.close();
  await prisma.$disconnect();
});

async function cluster(data: { downloadConcurrency: number | null; downloadBandwidthMbps: number | null }) {
  const suffix = randomBytes(4).toString('hex');
  const site = await prisma.site.create({ data: { name: `site-${suffix}`, region: 'eu', dataResidency: 'eu' } });
  return prisma.cluster.create({
    data: { siteId: site.id, name: `dl-${suffix}`, servingEngine: 'vllm', engineVersion: '0.11.0', ...data },
  });
}

async function stepFor(hubRepoId: string, targetKey: string) {
  const repo = await makeTrackedRepo(prisma, hubRepoId);
  await runRepoCheck({ prisma, settings, retry: fastRetry }, repo.id, { force: true });
  const revision = await prisma.modelRevision.findFirstOrThrow({ where: { trackedRepoId: repo.id } });
  const { id } = await startPipeline({ prisma, actor: SYSTEM_ACTOR }, { revisionId: revision.id, targetKey });
  return prisma.pipelineStep.findFirstOrThrow({ where: { runId: id } });
}

/** Start times of the large file transfers (CDN GETs) of these repos, in order. */
const cdnStarts = (repos: string[]) =>
  hub.requestLog
    .filter((r) => r.method === 'GET' && r.path.startsWith('/_cdn/') && repos.some((id) => r.path.includes(`/${id}/`)))
    .map((r) => r.at)
    .sort((a, b) => a - b);

/**
 * The caps seen from the Hub for two steps that ran under one file slot and `mbps`: the bytes cannot
 * arrive faster than the cap allows after its initial burst (rate / 4), and each 1 MiB transfer starts
 * only after the previous one was received and verified. Returns what the runs fetched and the starts.
 */
async function expectOneFileAtATimeUnderCap(steps: { runId: string }[], repos: string[], seconds: number, mbps: number) {
  const runs = await prisma.pipelineRun.findMany({ where: { id: { in: steps.map((s) => s.runId) } }, include: { revision: true } });
  const bytes = runs.reduce((n, r) => n + Number(r.revision.totalBytes), 0);
  const rate = mbps * MBIT;
  expect(seconds).toBeGreaterThanOrEqual((bytes - rate / 4) / rate - 0.05);
  expect(bytes / seconds).toBeLessThan(rate * 1.25);
  const starts = cdnStarts(repos);
  expect(starts.length).toBeGreaterThanOrEqual(4);
  const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
  expect(Math.min(...gaps.slice(0, 3))).toBeGreaterThan(150);
  return { bytes, starts };
}

describe('per-cluster download limits', () => {
  it('two runs for one cluster share its file slot and its bandwidth cap', async () => {
    // 1 file at a time, 16 Mbit/s = 2 MB/s, for 2 runs x 2 shards of 1 MiB (+ small files).
    const c = await cluster({ downloadConcurrency: 1, downloadBandwidthMbps: 16 });
    const limits = new ClusterDownloadLimits(prisma);
    const deps: StepRunnerDeps = { prisma, settings, diskMarginBytes: 0, retry: fastRetry, limitsFor: (k) => limits.forTarget(k) };
    const repos = REPOS.slice(0, 2);
    // One run addresses the cluster by id, the other by name: both share the same limits.
    const steps = [await stepFor(repos[0]!, c.id), await stepFor(repos[1]!, c.name)];
    const t0 = performance.now();
    const outcomes = await Promise.all(steps.map((s) => executePipelineStep(deps, s.id, { isFinalAttempt: true })));
    const seconds = (performance.now() - t0) / 1000;
    expect(outcomes).toEqual(['succeeded', 'succeeded']);

    // With one slot each transfer waits for the previous (~0.25 s for the first, inside the burst, then
    // ~0.5 s at 2 MB/s); without the slot all four start within milliseconds (second test).
    const { bytes, starts } = await expectOneFileAtATimeUnderCap(steps, repos, seconds, 16);
    expect(bytes).toBeGreaterThan(4 * SHARD);
    expect(starts[3]! - starts[0]!).toBeGreaterThan(1000);

    const logs = await prisma.pipelineLog.findMany({ where: { stepId: steps[0]!.id } });
    expect(logs.some((l) => l.message.includes(`Cluster ${c.name} download limits: at most 1 file at once, 16 Mbit/s`))).toBe(true);
  });

  it('does not limit runs whose target is not a limited cluster, and follows changed settings', async () => {
    const c = await cluster({ downloadConcurrency: null, downloadBandwidthMbps: null });
    const limits = new ClusterDownloadLimits(prisma);
    const deps: StepRunnerDeps = { prisma, settings, diskMarginBytes: 0, retry: fastRetry, limitsFor: (k) => limits.forTarget(k) };
    const repos = REPOS.slice(2, 4);
    const steps = [await stepFor(repos[0]!, c.id), await stepFor(repos[1]!, 'default')];
    expect(await limits.forTarget('default')).toBeUndefined();
    expect(await limits.forTarget(c.id)).toMatchObject({ limiter: undefined, slots: undefined });
    const t0 = performance.now();
    await Promise.all(steps.map((s) => executePipelineStep(deps, s.id, { isFinalAttempt: true })));
    expect(performance.now() - t0).toBeLessThan(1500);
    // Unlimited: the four 1 MiB transfers overlap.
    const starts = cdnStarts(repos);
    expect(starts.at(3)! - starts[0]!).toBeLessThan(300);

    await prisma.cluster.update({ where: { id: c.id }, data: { downloadConcurrency: 3, downloadBandwidthMbps: 100 } });
    const first = await limits.forTarget(c.name);
    expect(first?.slots).toBeInstanceOf(DownloadSlots);
    expect((first?.slots as DownloadSlots).capacity).toBe(3);
    expect((first?.limiter as BandwidthLimiter).bytesPerSecond).toBe(100 * MBIT);
    await prisma.cluster.update({ where: { id: c.id }, data: { downloadConcurrency: 5, downloadBandwidthMbps: 200 } });
    const second = await limits.forTarget(c.id);
    // The same shared objects, updated in place (running steps see the new limits too).
    expect(second?.slots).toBe(first?.slots);
    expect((second?.slots as DownloadSlots).capacity).toBe(5);
    expect(second?.limiter).toBe(first?.limiter);
    expect((second?.limiter as BandwidthLimiter).bytesPerSecond).toBe(200 * MBIT);
  });

  it("two workers share one cluster's caps through Redis", async () => {
    // Two ClusterDownloadLimits with their own Redis connections stand for two worker processes.
    const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
    const [ra, rb] = [new Redis(redisUrl), new Redis(redisUrl)];
    const keyPrefix = `fptest-${randomBytes(4).toString('hex')}`;
    try {
      const c = await cluster({ downloadConcurrency: 1, downloadBandwidthMbps: 16 });
      const [a, b] = [
        new ClusterDownloadLimits(prisma, { redis: ra, keyPrefix }),
        new ClusterDownloadLimits(prisma, { redis: rb, keyPrefix }),
      ];
      const depsFor = (limits: ClusterDownloadLimits): StepRunnerDeps => ({
        prisma,
        settings,
        diskMarginBytes: 0,
        retry: fastRetry,
        limitsFor: (k) => limits.forTarget(k),
      });
      const repos = REPOS.slice(4, 6);
      const steps = [await stepFor(repos[0]!, c.id), await stepFor(repos[1]!, c.id)];
      const t0 = performance.now();
      const outcomes = await Promise.all([
        executePipelineStep(depsFor(a), steps[0]!.id, { isFinalAttempt: true }),
        executePipelineStep(depsFor(b), steps[1]!.id, { isFinalAttempt: true }),
      ]);
      const seconds = (performance.now() - t0) / 1000;
      expect(outcomes).toEqual(['succeeded', 'succeeded']);

      // One file at a time across both "workers".
      await expectOneFileAtATimeUnderCap(steps, repos, seconds, 16);
      // Every slot was handed back.
      expect(await ra.zcard(`${keyPrefix}:download-slots:${c.id}`)).toBe(0);
      const logs = await prisma.pipelineLog.findMany({ where: { stepId: steps[0]!.id } });
      expect(logs.some((l) => l.message.includes('(shared by its runs across all workers)'))).toBe(true);

      // A changed setting reaches the Redis-backed objects steps already hold: two files at once now, a third waits.
      const held = await a.forTarget(c.id);
      await prisma.cluster.update({ where: { id: c.id }, data: { downloadConcurrency: 2 } });
      const now = await a.forTarget(c.id);
      expect(now?.slots).toBe(held?.slots);
      const releases = [await held!.slots!.acquire(), await held!.slots!.acquire()];
      const third = new AbortController();
      const waiting = held!.slots!.acquire(third.signal);
      await new Promise((r) => setTimeout(r, 500));
      third.abort();
      await expect(waiting).rejects.toThrow();
      for (const release of releases) release();
    } finally {
      ra.disconnect();
      rb.disconnect();
    }
  });
});

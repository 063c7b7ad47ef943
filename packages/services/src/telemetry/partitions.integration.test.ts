// Hourly partitions of the raw telemetry tables on real Postgres: created ahead idempotently (also by
// concurrent callers), ingest across an hour boundary, rows that arrive before their partition exists,
// retention that drops only whole expired partitions, and the readers (series, rollups, health) across them.
// Its own database: the partitions it creates and drops must not change what other files see.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, type PrismaClient } from '@fleetplane/db';
import { createTestDatabase, type TestDatabase } from '@fleetplane/db/testing';
import { partitionName, partitionStart, PARTITION_MS } from '@fleetplane/domain';
import { evaluateFleetHealth } from '../health/evaluate-health.service';
import { gpuSeries } from '../health/gpu-views.service';
import { authenticateAgent, ingestTelemetry } from './ingest.service';
import { ensurePartitions, ensureTelemetryPartitions, PARTITIONS_AHEAD_HOURS } from './partitions.service';
import { listPartitions } from './partitions.sql';
import { applyTelemetryRetention } from './retention.service';
import { rollupMinutes } from './rollups.service';
import { closeTelemetryPools, getTelemetryPool } from './telemetry-pool.sql';
import { batchFor, makeNode, type TestNode } from './test-support';

const H = PARTITION_MS;
let db: TestDatabase;
let prisma: PrismaClient;
let other: PrismaClient;

beforeAll(async () => {
  db = await createTestDatabase('fp_partitions');
  prisma = createPrismaClient(db.url, { max: 8 });
  // A second client, so concurrent callers really use different connections and processes' worth of pools.
  other = createPrismaClient(db.url, { max: 8 });
});

afterAll(async () => {
  await prisma?.$disconnect();
  await other?.$disconnect();
  await closeTelemetryPools();
  await db?.drop();
});

/** Which partition holds each stored GPU sample of the node, by sampled_at. */
async function gpuSampleHomes(nodeId: string): Promise<{ at: number; partition: string }[]> {
  const rows = await prisma.$queryRaw<{ at: Date; partition: string }[]>`
    SELECT sampled_at AS at, tableoid::regclass::text AS partition FROM gpu_sample WHERE node_id = ${nodeId} ORDER BY sampled_at`;
  return rows.map((r) => ({ at: r.at.getTime(), partition: r.partition }));
}

describe('ensureTelemetryPartitions', () => {
  it('creates the previous hour to six hours ahead once, however many callers race', async () => {
    const now = new Date();
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => ensureTelemetryPartitions(i % 2 ? other : prisma, { now, rawRetentionHours: 48 })),
    );
    const expected = Array.from({ length: PARTITIONS_AHEAD_HOURS + 2 }, (_, i) => new Date(partitionStart(now).getTime() + (i - 1) * H))
      .filter((h) => h.getTime() < now.getTime() + PARTITIONS_AHEAD_HOURS * H)
      .map((h) => h);
    for (const table of ['gpu_sample', 'engine_sample'] as const) {
      // Every hour created by exactly one caller.
      const created = results.flatMap((r) => r[table].created).sort();
      expect(created).toEqual(expected.map((h) => partitionName(table, h)));
      const parts = await listPartitions(prisma, table);
      expect(parts.filter((p) => p.isDefault).map((p) => p.name)).toEqual([`${table}_default`]);
      // A fresh database also has <table>_legacy: the migration's (empty) old table, bounded before 2000.
      expect(parts.find((p) => p.name === `${table}_legacy`)?.to).toEqual(new Date('2000-01-01T00:00:00Z'));
      const hourly = parts.filter((p) => /_p\d{10}$/.test(p.name));
      expect(hourly.map((p) => [p.name, p.from?.getTime(), p.to?.getTime()])).toEqual(
        expected.map((h) => [partitionName(table, h), h.getTime(), h.getTime() + H]),
      );
    }
    // And again: nothing left to do.
    const again = await ensureTelemetryPartitions(prisma, { now });
    expect(again.gpu_sample.created).toEqual([]);
    expect(again.engine_sample.created).toEqual([]);
  });
});

describe('ingest into hourly partitions', () => {
  let node: TestNode;
  beforeAll(async () => {
    node = await makeNode(prisma, 2);
  });

  it('stores one batch spanning an hour boundary in both partitions, and the readers see all of it', async () => {
    const now = new Date();
    await ensureTelemetryPartitions(prisma, { now });
    const boundary = partitionStart(now);
    const before = new Date(boundary.getTime() - 20_000);
    const after = boundary; // the first instant of the current hour, which is never in the future
    const batch = batchFor(node, before);
    batch.gpuSamples.push(...batchFor(node, after).gpuSamples);
    batch.engineSamples = [before, after].map((t, i) => ({
      sampledAt: t.toISOString(),
      engine: 'vllm',
      modelName: 'deepseek-ai/DeepSeek-V4-Flash',
      runningRequests: 2,
      waitingRequests: 0,
      kvCacheUsageFraction: 0.5,
      promptTokensTotal: 1000 * (i + 1),
      generationTokensTotal: 4000 * (i + 1),
      ttftSecondsSum: 1,
      ttftSecondsCount: 2,
    }));
    const pool = getTelemetryPool(db.url, 2);
    const outcome = await ingestTelemetry(pool, await authenticateAgent(pool, node.credential), batch, now);
    expect(outcome.stored).toEqual({ gpuSamples: 4, xidEvents: 0, engineSamples: 2 });

    const homes = await gpuSampleHomes(node.nodeId);
    const prev = partitionName('gpu_sample', new Date(boundary.getTime() - H));
    const cur = partitionName('gpu_sample', boundary);
    expect(homes).toEqual([
      { at: before.getTime(), partition: prev },
      { at: before.getTime(), partition: prev },
      { at: after.getTime(), partition: cur },
      { at: after.getTime(), partition: cur },
    ]);
    const engineHomes = await prisma.$queryRaw<{ partition: string }[]>`
      SELECT tableoid::regclass::text AS partition FROM engine_sample WHERE node_id = ${node.nodeId} ORDER BY sampled_at`;
    expect(engineHomes.map((r) => r.partition)).toEqual([
      partitionName('engine_sample', new Date(boundary.getTime() - H)),
      partitionName('engine_sample', boundary),
    ]);

    // The GPU chart reads across both partitions; the minute rollup of the two minutes around the boundary has both.
    const series = await gpuSeries({ prisma }, { gpuId: node.gpus[0]!.id, range: '1h' }, now);
    expect((series as { points: { t: Date }[] }).points.map((p) => p.t.getTime())).toEqual([before.getTime(), after.getTime()]);
    const buckets = await rollupMinutes(prisma, new Date(boundary.getTime() - 60_000), new Date(boundary.getTime() + 60_000));
    expect(buckets).toBe(4); // 2 GPUs x 2 minutes
    const counts = await prisma.gpuRollup.findMany({ where: { gpuId: node.gpus[0]!.id }, orderBy: { bucketStart: 'asc' } });
    expect(counts.map((r) => [r.bucketStart.getTime(), r.sampleCount])).toEqual([
      [boundary.getTime() - 60_000, 1],
      [boundary.getTime(), 1],
    ]);
    // Health finds each GPU's newest sample (in the current hour's partition) and calls the GPUs healthy.
    await evaluateFleetHealth(prisma, { now: new Date(after.getTime() + 5_000) });
    const gpus = await prisma.gpu.findMany({ where: { nodeId: node.nodeId }, select: { health: true } });
    expect(gpus.map((g) => g.health)).toEqual(['healthy', 'healthy']);
  });

  it('keeps a row whose hour has no partition yet in DEFAULT, and moves it into the partition created for it', async () => {
    const now = new Date();
    // Five hours back: before any partition this database has (an agent replaying a long backlog).
    const late = new Date(partitionStart(now).getTime() - 5 * H + 123_000);
    await prisma.gpuSample.create({ data: { gpuId: node.gpus[1]!.id, nodeId: node.nodeId, sampledAt: late, temperatureC: 61 } });
    const home = async () => (await gpuSampleHomes(node.nodeId)).filter((h) => h.at === late.getTime()).map((h) => h.partition);
    expect(await home()).toEqual(['gpu_sample_default']);

    const r = await ensurePartitions(prisma, 'gpu_sample', { from: now, to: now, strayFrom: new Date(now.getTime() - 48 * H) });
    expect(r).toEqual({ created: [partitionName('gpu_sample', partitionStart(late))], movedRows: 1 });
    expect(await home()).toEqual([partitionName('gpu_sample', partitionStart(late))]);
    const row = await prisma.gpuSample.findUniqueOrThrow({ where: { gpuId_sampledAt: { gpuId: node.gpus[1]!.id, sampledAt: late } } });
    expect(row.temperatureC).toBe(61);
    expect(await prisma.$queryRaw<{ n: number }[]>`SELECT COUNT(*)::int AS n FROM ONLY gpu_sample_default`).toEqual([{ n: 0 }]);
  });
});

describe('retention over partitions', () => {
  it('drops whole expired partitions only, keeps the straddling and current ones, deletes expired DEFAULT rows', async () => {
    const node = await makeNode(prisma, 1);
    const g = node.gpus[0]!;
    const now = new Date();
    const cutoff = new Date(now.getTime() - 48 * H);
    const h0 = partitionStart(cutoff); // the hour straddling the cutoff
    await ensurePartitions(prisma, 'gpu_sample', { from: new Date(h0.getTime() - 3 * H), to: new Date(h0.getTime() + 2 * H) });
    // One sample in each of those hours, each 10 s after the hour starts, plus one just inside the window.
    const times = [-3, -2, -1, 0, 1].map((k) => new Date(h0.getTime() + k * H + 10_000));
    times.push(new Date(cutoff.getTime() + 1_000));
    for (const t of times) await prisma.gpuSample.create({ data: { gpuId: g.id, nodeId: node.nodeId, sampledAt: t } });
    // Rows that went to DEFAULT: an expired one (a year ago) and a current one, both kept apart by dropping no DEFAULT.
    const ancient = new Date(now.getTime() - 365 * 24 * H);
    await prisma.gpuSample.create({ data: { gpuId: g.id, nodeId: node.nodeId, sampledAt: ancient } });
    const before = await listPartitions(prisma, 'gpu_sample');

    const result = await applyTelemetryRetention(prisma, { now, policy: { rawHours: 48 } });
    const dropped = result.partitions.gpu_sample.dropped.map((d) => d.name);
    // The three hours before the straddling one, and the migration's empty old table (bounded before 2000).
    const expectedDrops = ['gpu_sample_legacy', ...[-3, -2, -1].map((k) => partitionName('gpu_sample', new Date(h0.getTime() + k * H)))];
    expect(dropped).toEqual(expectedDrops);
    expect(result.partitions.gpu_sample.skipped).toEqual([]);
    expect(result.deleted.gpuSamples).toBe(1); // the year-old row in DEFAULT
    const after = await listPartitions(prisma, 'gpu_sample');
    expect(after.map((p) => p.name)).toEqual(before.map((p) => p.name).filter((n) => !expectedDrops.includes(n)));
    expect(after.map((p) => p.name)).toContain(partitionName('gpu_sample', partitionStart(now)));
    expect(after.map((p) => p.name)).toContain(partitionName('gpu_sample', h0));

    const left = await prisma.gpuSample.findMany({ where: { gpuId: g.id }, orderBy: { sampledAt: 'asc' } });
    // The straddling hour keeps its expired row until the whole hour has expired (at most an hour longer).
    expect(left.map((s) => s.sampledAt.getTime())).toEqual([times[3]!, times[5]!, times[4]!].map((t) => t.getTime()).sort((a, b) => a - b));

    // An hour later the straddling partition has fully expired and goes too.
    const later = await applyTelemetryRetention(prisma, { now: new Date(now.getTime() + H), policy: { rawHours: 48 } });
    expect(later.partitions.gpu_sample.dropped.map((d) => d.name)).toEqual([partitionName('gpu_sample', h0)]);
  });
});

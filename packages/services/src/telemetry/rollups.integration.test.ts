// Rollups and retention against the real database: values equal the domain maths over the same
// samples, reruns converge on the same rows, and retention deletes exactly what is past its window.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergeRollups, rollupReadings } from '@fleetplane/domain';
import { applyTelemetryRetention } from './retention.service';
import { ROLLUP_WATERMARK_KEY, rollupHours, rollupMinutes, runTelemetryRollup } from './rollups.service';
import { batchFor, gpuSample, makeNode, sendBatch, settleOutbox, testDeps, type TestNode } from './test-support';

const deps = testDeps();
const { prisma } = deps;
let node: TestNode;
// A fixed past hour so the numbers never depend on the clock: 10:00–11:00 UTC two hours ago.
const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 2 * 3_600_000;
const at = (minute: number, second: number) => new Date(hour + minute * 60_000 + second * 1000);

// GPU 0: three samples in minute 0 (one with utilisation not reported) and two in minute 1.
const readings = [
  { t: at(0, 0), util: 50, mem: 1000, temp: 40, power: 300 },
  { t: at(0, 20), util: null, mem: 3000, temp: 60, power: 500 },
  { t: at(0, 40), util: 100, mem: 2000, temp: 50, power: 400 },
  { t: at(1, 0), util: 10, mem: 500, temp: 30, power: 200 },
  { t: at(1, 30), util: 30, mem: 700, temp: 35, power: 250 },
];

beforeAll(async () => {
  node = await makeNode(prisma, 1);
  const g = node.gpus[0]!;
  const batch = batchFor(node, new Date(), {
    gpuSamples: readings.map((r) =>
      gpuSample(g.uuid, 0, g.pciBusId, r.t, { utilizationGpuPct: r.util, memoryUsedMib: r.mem, temperatureC: r.temp, powerDrawW: r.power }),
    ),
  });
  expect((await sendBatch(deps, node.credential, batch)).status).toBe(200);
  await settleOutbox(prisma, node.nodeId);
});
afterAll(async () => {
  await prisma.$disconnect();
  await deps.pool.end();
});

const rollup = (resolution: 'minute' | 'hour', bucket: Date) =>
  prisma.gpuRollup.findUnique({ where: { gpuId_resolution_bucketStart: { gpuId: node.gpus[0]!.id, resolution, bucketStart: bucket } } });

describe('telemetry rollups', () => {
  it('rolls raw samples into minute buckets with the domain maths (null is skipped, never 0)', async () => {
    await rollupMinutes(prisma, at(0, 0), at(2, 0));
    const m0 = await rollup('minute', at(0, 0));
    const expected = rollupReadings(
      readings.slice(0, 3).map((r) => ({ utilizationGpuPct: r.util, memoryUsedMib: r.mem, temperatureC: r.temp, powerDrawW: r.power })),
    );
    expect(m0).toMatchObject({
      sampleCount: 3,
      utilizationGpuAvg: 75,
      utilizationGpuMax: 100,
      memoryUsedMibAvg: 2000,
      memoryUsedMibMax: 3000,
      temperatureCAvg: 50,
      temperatureCMax: 60,
      powerDrawWAvg: 400,
      powerDrawWMax: 500,
    });
    expect(m0!.utilizationGpuAvg).toBe(expected.utilizationGpuAvg);
    expect(await rollup('minute', at(1, 0))).toMatchObject({ sampleCount: 2, utilizationGpuAvg: 20, utilizationGpuMax: 30 });
  });

  it('writes the cluster minute aggregate beside the GPU rows (sample-weighted utilisation, summed power)', async () => {
    await rollupMinutes(prisma, at(0, 0), at(2, 0));
    const clusterRows = await prisma.clusterRollup.findMany({
      where: { clusterId: node.clusterId, resolution: 'minute' },
      orderBy: { bucketStart: 'asc' },
    });
    expect(clusterRows.map((r) => [r.bucketStart.toISOString(), r.gpuCount, r.utilizationGpuAvg, r.powerDrawW])).toEqual([
      // Minute 0: utilisation 75 over the three samples (the null one is left out of the weight), power mean 400.
      [at(0, 0).toISOString(), 1, 75, 400],
      [at(1, 0).toISOString(), 1, 20, 225],
    ]);
    // A rerun recomputes the same buckets instead of adding rows.
    await rollupMinutes(prisma, at(0, 0), at(2, 0));
    expect(await prisma.clusterRollup.count({ where: { clusterId: node.clusterId } })).toBe(2);
  });

  it('merges minute rollups into the hour, weighted by sample count, and is idempotent', async () => {
    await rollupHours(prisma, at(0, 0), at(2, 0));
    const h = await rollup('hour', new Date(hour));
    const minutes = await prisma.gpuRollup.findMany({ where: { gpuId: node.gpus[0]!.id, resolution: 'minute' } });
    const expected = mergeRollups(minutes);
    expect(h).toMatchObject({ sampleCount: 5, utilizationGpuMax: 100, temperatureCMax: 60, memoryUsedMibMax: 3000 });
    expect(h!.utilizationGpuAvg).toBeCloseTo(expected.utilizationGpuAvg!, 10);
    expect(h!.temperatureCAvg).toBeCloseTo((40 + 60 + 50 + 30 + 35) / 5, 10);
    await rollupMinutes(prisma, at(0, 0), at(2, 0));
    await rollupHours(prisma, at(0, 0), at(2, 0));
    expect(await prisma.gpuRollup.count({ where: { gpuId: node.gpus[0]!.id } })).toBe(3);
    expect(await rollup('hour', new Date(hour))).toEqual(h);
  });

  it('folds a late sample into its bucket on the next backfill', async () => {
    const g = node.gpus[0]!;
    const late = batchFor(node, new Date(), {
      gpuSamples: [
        gpuSample(g.uuid, 0, g.pciBusId, at(1, 45), { utilizationGpuPct: 80, temperatureC: 70, memoryUsedMib: 900, powerDrawW: 600 }),
      ],
    });
    expect((await sendBatch(deps, node.credential, late)).status).toBe(200);
    // Ingest asked for a backfill of that hour through the outbox; run what it asked for.
    const msg = await prisma.outboxMessage.findFirstOrThrow({
      where: { jobId: { startsWith: `rollup-backfill-${node.nodeId}` } },
      orderBy: { createdAt: 'desc' },
    });
    const payload = msg.payload as { from: string; to: string };
    await settleOutbox(prisma, node.nodeId);
    const result = await runTelemetryRollup(prisma, { range: { from: new Date(payload.from), to: new Date(payload.to) } });
    expect(result.skipped).toBe(false);
    expect(await rollup('minute', at(1, 0))).toMatchObject({
      sampleCount: 3,
      utilizationGpuAvg: 40,
      utilizationGpuMax: 80,
      temperatureCMax: 70,
    });
    expect(await rollup('hour', new Date(hour))).toMatchObject({ sampleCount: 6, temperatureCMax: 70 });
  });

  it('advances a stored watermark on repeatable runs, a bounded step at a time', async () => {
    const now = new Date(Math.floor(Date.now() / 60_000) * 60_000 + 5_000);
    const end = new Date(Math.floor(now.getTime() / 60_000) * 60_000);
    const watermark = new Date(now.getTime() - 3 * 3_600_000);
    await prisma.setting.upsert({
      where: { key: ROLLUP_WATERMARK_KEY },
      create: { key: ROLLUP_WATERMARK_KEY, value: watermark.toISOString() },
      update: { value: watermark.toISOString() },
    });
    const first = await runTelemetryRollup(prisma, { now });
    // It starts an overlap before the watermark (or later, at the first sample) and moves at most an hour.
    expect(Date.parse(first.from)).toBeGreaterThanOrEqual(watermark.getTime() - 10 * 60_000);
    expect(Date.parse(first.to)).toBeLessThanOrEqual(Math.max(Date.parse(first.from), watermark.getTime()) + 3_600_000);
    expect((await prisma.setting.findUniqueOrThrow({ where: { key: ROLLUP_WATERMARK_KEY } })).value).toBe(first.to);
    let last = first;
    for (let i = 0; i < 5 && last.to !== end.toISOString(); i += 1) last = await runTelemetryRollup(prisma, { now });
    expect(last.to).toBe(end.toISOString());
    // The fixture hour was covered by the catch-up, without any backfill.
    expect(await rollup('minute', at(0, 0))).not.toBeNull();
  });

  it('jumps over time without samples in one run', async () => {
    const later = new Date(Date.now() + 30 * 86_400_000);
    const end = new Date(Math.floor(later.getTime() / 60_000) * 60_000);
    const watermark = new Date(later.getTime() - 3 * 3_600_000);
    await prisma.setting.upsert({
      where: { key: ROLLUP_WATERMARK_KEY },
      create: { key: ROLLUP_WATERMARK_KEY, value: watermark.toISOString() },
      update: { value: watermark.toISOString() },
    });
    const run = await runTelemetryRollup(prisma, { now: later });
    expect(run).toMatchObject({ to: end.toISOString(), minuteBuckets: 0, skipped: false });
    expect((await prisma.setting.findUniqueOrThrow({ where: { key: ROLLUP_WATERMARK_KEY } })).value).toBe(end.toISOString());
  });
});

describe('telemetry retention', () => {
  it('deletes raw samples, rollups and idempotency rows past their windows only', async () => {
    const n = await makeNode(prisma, 1);
    const g = n.gpus[0]!;
    const now = new Date();
    const old = new Date(now.getTime() - 50 * 3_600_000);
    const recent = new Date(now.getTime() - 47 * 3_600_000);
    for (const t of [old, recent]) {
      await prisma.gpuSample.create({ data: { gpuId: g.id, nodeId: n.nodeId, sampledAt: t } });
      await prisma.gpuRollup.create({ data: { gpuId: g.id, resolution: 'minute', bucketStart: t, sampleCount: 1 } });
    }
    await prisma.gpuRollup.create({
      data: { gpuId: g.id, resolution: 'minute', bucketStart: new Date(now.getTime() - 15 * 86_400_000), sampleCount: 1 },
    });
    await prisma.gpuRollup.create({
      data: { gpuId: g.id, resolution: 'hour', bucketStart: new Date(now.getTime() - 15 * 86_400_000), sampleCount: 60 },
    });
    await prisma.gpuRollup.create({
      data: { gpuId: g.id, resolution: 'hour', bucketStart: new Date(now.getTime() - 366 * 86_400_000), sampleCount: 60 },
    });
    await prisma.ingestBatch.create({
      data: { nodeId: n.nodeId, batchId: 'old-batch', receivedAt: new Date(now.getTime() - 8 * 86_400_000), sampleCount: 1 },
    });
    const result = await applyTelemetryRetention(prisma, { now, policy: { rawHours: 48 } });
    expect(result.deleted.gpuSamples).toBeGreaterThanOrEqual(1);
    expect((await prisma.gpuSample.findMany({ where: { gpuId: g.id } })).map((s) => s.sampledAt)).toEqual([recent]);
    const left = await prisma.gpuRollup.findMany({ where: { gpuId: g.id }, orderBy: { bucketStart: 'asc' } });
    expect(left.map((r) => [r.resolution, r.bucketStart.getTime()])).toEqual([
      ['hour', now.getTime() - 15 * 86_400_000],
      ['minute', old.getTime()],
      ['minute', recent.getTime()],
    ]);
    expect(await prisma.ingestBatch.count({ where: { nodeId: n.nodeId } })).toBe(0);
  });
});

// The dashboard's read models and /metrics against the real database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import type { TEngineSample } from '@fleetplane/contracts';
import { batchFor, gpuSample, makeNode, sendBatch, testDeps, type TestNode } from '../telemetry/test-support';
import { rollupMinutes } from '../telemetry/rollups.service';
import { evaluateFleetHealth } from './evaluate-health.service';
import { metricsScrapeAllowed, renderFleetMetrics } from './fleet-metrics.service';
import { fleetSummary } from '../inventory/fleet.service';
import { fleetUtilisation } from './fleet-utilisation.service';
import { clusterGpuGrid, gpuHealthDetail, gpuSeries } from './gpu-views.service';

const deps = testDeps();
const { prisma } = deps;
let a: TestNode;
let b: TestNode;
const now = new Date();

const engine = (at: Date, generated: number, prompt: number, kv: number): TEngineSample => ({
  sampledAt: at.toISOString(),
  engine: 'vllm',
  modelName: 'deepseek-ai/DeepSeek-V4-Flash',
  runningRequests: 4,
  waitingRequests: 1,
  kvCacheUsageFraction: kv,
  promptTokensTotal: prompt,
  generationTokensTotal: generated,
  ttftSecondsSum: null,
  ttftSecondsCount: null,
});

beforeAll(async () => {
  a = await makeNode(prisma, 2);
  b = await makeNode(prisma, 1, { clusterId: a.clusterId });
  const t1 = new Date(now.getTime() - 20_000);
  const t2 = new Date(now.getTime() - 10_000);
  for (const [node, at, util, gen, prompt, kv] of [
    [a, t1, 40, 1000, 500, 0.2],
    [a, t2, 60, 3000, 1500, 0.4],
    [b, t2, 90, 0, 0, 0.8],
  ] as const) {
    const batch = batchFor(node, at, { engineSamples: [engine(at, gen, prompt, kv)] });
    batch.gpuSamples = node.gpus.map((g) =>
      gpuSample(g.uuid, g.index, g.pciBusId, at, {
        utilizationGpuPct: util,
        powerDrawW: 400,
        memoryUsedMib: 1000,
        eccUncorrectedVolatile: node === b ? 1 : 0,
      }),
    );
    expect((await sendBatch(deps, node.credential, batch)).status).toBe(200);
  }
  await evaluateFleetHealth(prisma, { now });
});
afterAll(async () => {
  await prisma.$disconnect();
  await deps.pool.end();
});

describe('fleet views', () => {
  it('computes live utilisation per cluster: newest sample per GPU, tokens/s from counter rates, KV and health counts', async () => {
    const view = await fleetUtilisation({ prisma }, now);
    const c = view.clusters.find((x) => x.clusterId === a.clusterId)!;
    expect(c.reportingGpus).toBe(3);
    expect(c.utilizationGpuAvg).toBeCloseTo((60 + 60 + 90) / 3, 6);
    expect(c.powerDrawW).toBe(1200);
    expect(c.memoryUsedMib).toBe(3000);
    // Node a: 2000 generated tokens in 10 s; node b has one scrape only, so no rate yet.
    expect(c.generationTokensPerSecond).toBeCloseTo(200, 6);
    expect(c.promptTokensPerSecond).toBeCloseTo(100, 6);
    expect(c.kvCacheUsageFraction).toBeCloseTo((0.4 + 0.8) / 2, 6);
    expect(c.runningRequests).toBe(8);
    expect(c.gpusByHealth).toMatchObject({ healthy: 2, critical: 1 });
    expect(c.health).toBe('critical');
  });

  it('draws the hour of history from the per-cluster minute rollup', async () => {
    const minute = (t: number) => new Date(Math.floor(t / 60_000) * 60_000);
    await rollupMinutes(prisma, minute(now.getTime() - 60_000), new Date(minute(now.getTime()).getTime() + 60_000));
    const view = await fleetUtilisation({ prisma }, now);
    const c = view.clusters.find((x) => x.clusterId === a.clusterId)!;
    const stored = await prisma.clusterRollup.findMany({ where: { clusterId: a.clusterId }, orderBy: { bucketStart: 'asc' } });
    expect(stored.length).toBeGreaterThan(0);
    expect(c.history.map((p) => [p.t.toISOString(), p.utilizationGpuAvg, p.powerDrawW])).toEqual(
      stored.map((r) => [r.bucketStart.toISOString(), r.utilizationGpuAvg, r.powerDrawW]),
    );
    // Every sample of the cluster was 400 W; each GPU's minute mean is 400, summed over the GPUs seen.
    for (const r of stored) expect(r.powerDrawW).toBe(400 * r.gpuCount);
  });

  it('summarises the fleet from one pass over the GPUs: health, models, memory', async () => {
    const summary = await fleetSummary({ prisma });
    const gpus = await prisma.gpu.findMany({ select: { health: true, model: true, memoryMib: true } });
    expect(summary.gpuCount).toBe(gpus.length);
    expect(summary.gpuMemoryMib).toBe(gpus.reduce((n, g) => n + g.memoryMib, 0));
    expect(summary.gpusByHealth.critical).toBe(gpus.filter((g) => g.health === 'critical').length);
    const models = new Map<string, number>();
    for (const g of gpus) models.set(g.model, (models.get(g.model) ?? 0) + 1);
    expect(summary.gpuModels).toEqual(
      [...models].map(([model, count]) => ({ model, count })).sort((x, y) => y.count - x.count || x.model.localeCompare(y.model)),
    );
    expect(summary.nodeCount).toBe(await prisma.node.count());
  });

  it('counts a GPU whose clock runs ahead, and one whose sample was written past ingest, from their newest sample in the window', async () => {
    const ahead = await makeNode(prisma, 1);
    const g = ahead.gpus[0]!;
    // Its node's clock runs 60 s ahead (inside the tolerated skew): the newest stored sample is after `now`.
    for (const [at, util] of [
      [new Date(now.getTime() - 30_000), 30],
      [new Date(now.getTime() + 60_000), 99],
    ] as const) {
      const batch = batchFor(ahead, at);
      batch.gpuSamples[0] = gpuSample(g.uuid, g.index, g.pciBusId, at, { utilizationGpuPct: util, powerDrawW: 100 });
      expect((await sendBatch(deps, ahead.credential, batch)).status).toBe(200);
    }
    const direct = await makeNode(prisma, 1, { clusterId: ahead.clusterId });
    await prisma.gpuSample.create({
      data: {
        gpuId: direct.gpus[0]!.id,
        nodeId: direct.nodeId,
        sampledAt: new Date(now.getTime() - 5_000),
        utilizationGpuPct: 50,
        powerDrawW: 200,
      },
    });
    const view = await fleetUtilisation({ prisma }, now);
    const c = view.clusters.find((x) => x.clusterId === ahead.clusterId)!;
    expect(c.reportingGpus).toBe(2);
    expect(c.utilizationGpuAvg).toBeCloseTo((30 + 50) / 2, 6);
    expect(c.powerDrawW).toBe(300);
  });

  it('returns null, not 0, for a cluster that reports nothing', async () => {
    const quiet = await makeNode(prisma, 1);
    const view = await fleetUtilisation({ prisma }, now);
    const c = view.clusters.find((x) => x.clusterId === quiet.clusterId)!;
    expect(c).toMatchObject({
      reportingGpus: 0,
      utilizationGpuAvg: null,
      powerDrawW: null,
      generationTokensPerSecond: null,
      kvCacheUsageFraction: null,
    });
  });

  it('builds the node × GPU grid with verdicts, reasons and the newest reading', async () => {
    const grid = await clusterGpuGrid({ prisma }, { clusterId: a.clusterId });
    expect(grid.nodes.map((n) => n.hostname).sort()).toEqual([a.hostname, b.hostname].sort());
    const gb = grid.nodes.find((n) => n.id === b.nodeId)!.gpus[0]!;
    expect(gb.health).toBe('critical');
    expect(gb.healthReasons[0]).toMatchObject({ code: 'ecc_uncorrected' });
    expect(gb.latest).toMatchObject({ utilizationGpuPct: 90, eccUncorrectedVolatile: 1 });
    await expect(clusterGpuGrid({ prisma }, { clusterId: 'missing' })).rejects.toThrow('Cluster missing does not exist');
  });

  it('pages the grid worst first, with whole-cluster counts, a health filter and a hostname search', async () => {
    const full = await clusterGpuGrid({ prisma }, { clusterId: a.clusterId });
    // Node b has the critical GPU, so it leads whatever the hostnames.
    expect(full.nodes.map((n) => n.id)).toEqual([b.nodeId, a.nodeId]);
    expect(full).toMatchObject({ total: 2, page: 1, pageSize: 24 });
    expect(full.summary.gpus).toMatchObject({ healthy: 2, critical: 1 });
    expect(full.summary.nodes.critical + full.summary.nodes.healthy + full.summary.nodes.warning).toBe(2);

    const second = await clusterGpuGrid({ prisma }, { clusterId: a.clusterId, page: 2, pageSize: 1 });
    expect(second.nodes.map((n) => n.id)).toEqual([a.nodeId]);
    expect(second.total).toBe(2);
    // Only that page's GPUs carry readings: the page is all the server reads.
    expect(second.nodes[0]!.gpus).toHaveLength(2);
    expect(second.nodes[0]!.gpus[0]!.latest).toMatchObject({ utilizationGpuPct: 60 });
    const past = await clusterGpuGrid({ prisma }, { clusterId: a.clusterId, page: 5, pageSize: 1 });
    expect(past).toMatchObject({ nodes: [], total: 2 });

    const critical = await clusterGpuGrid({ prisma }, { clusterId: a.clusterId, health: ['critical'] });
    expect(critical.nodes.map((n) => n.id)).toEqual([b.nodeId]);
    expect(critical.total).toBe(1);
    // Counts stay those of the whole cluster, so the picture does not change with the filter.
    expect(critical.summary.gpus).toEqual(full.summary.gpus);

    const byName = await clusterGpuGrid({ prisma }, { clusterId: a.clusterId, hostname: a.hostname.toUpperCase() });
    expect(byName.nodes.map((n) => n.id)).toEqual([a.nodeId]);
    const none = await clusterGpuGrid({ prisma }, { clusterId: a.clusterId, hostname: '%' });
    expect(none).toMatchObject({ nodes: [], total: 0 });
    await expect(clusterGpuGrid({ prisma }, { clusterId: a.clusterId, pageSize: 101 })).rejects.toThrow();
  });

  it('serves the GPU page and its series from raw samples and rollups', async () => {
    const detail = await gpuHealthDetail({ prisma }, b.gpus[0]!.id);
    expect(detail.alerts).toEqual([expect.objectContaining({ rule: 'ecc_uncorrected', state: 'open' })]);
    expect(detail.node.cluster.id).toBe(a.clusterId);
    const hour = await gpuSeries({ prisma }, { gpuId: a.gpus[0]!.id, range: '1h' }, now);
    expect(hour.resolution).toBe('raw');
    expect(hour.points.map((p) => p.utilizationGpuAvg)).toEqual([40, 60]);
    await rollupMinutes(prisma, new Date(now.getTime() - 3_600_000), new Date(now.getTime() + 60_000));
    const day = await gpuSeries({ prisma }, { gpuId: a.gpus[0]!.id, range: '24h' }, new Date(now.getTime() + 60_000));
    expect(day.resolution).toBe('minute');
    expect(day.points.reduce((n, p) => n + (p.utilizationGpuAvg === null ? 0 : 1), 0)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...day.points.map((p) => p.utilizationGpuMax ?? 0))).toBe(60);
  });
});

describe('/metrics exposition', () => {
  it('renders fleet gauges from the database and the ingest counters in valid Prometheus text', async () => {
    const { contentType, body } = await renderFleetMetrics(prisma, now);
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = new Map(parsePrometheusTextFormat(body).map((f) => [f.name, f]));
    for (const name of [
      'fleetplane_gpus',
      'fleetplane_nodes',
      'fleetplane_clusters',
      'fleetplane_alerts_live',
      'fleetplane_cluster_gpu_utilization_avg_percent',
      'fleetplane_cluster_gpu_power_draw_watts',
      'fleetplane_telemetry_gpu_samples_accepted_total',
      'fleetplane_telemetry_batches_rejected_total',
      'fleetplane_telemetry_batches_duplicate_total',
    ]) {
      expect(families.has(name), name).toBe(true);
    }
    const gpus = families.get('fleetplane_gpus')!;
    expect(gpus.type).toBe('GAUGE');
    expect(gpus.metrics.map((m) => m.labels?.health).sort()).toEqual(['critical', 'healthy', 'offline', 'unknown', 'warning']);
    const cluster = await prisma.cluster.findUniqueOrThrow({ where: { id: a.clusterId } });
    const util = families.get('fleetplane_cluster_gpu_utilization_avg_percent')!.metrics.find((m) => m.labels?.cluster === cluster.name);
    expect(Number(util?.value)).toBeCloseTo(70, 6);
    // The agent API counts what it accepts (apps/web/src/server/metrics.integration.test.ts); here the family is there.
    expect(families.get('fleetplane_telemetry_gpu_samples_accepted_total')!.metrics).toHaveLength(1);
    const rejected = families
      .get('fleetplane_telemetry_batches_rejected_total')!
      .metrics.map((m) => m.labels?.reason)
      .sort();
    expect(rejected).toEqual(['forbidden', 'internal', 'invalid_payload', 'payload_too_large', 'rate_limited', 'unauthorized']);
  });
});

describe('metricsScrapeAllowed', () => {
  it('lets anyone scrape without a configured token, and only the exact token with one', () => {
    expect(metricsScrapeAllowed(undefined, null)).toBe(true);
    expect(metricsScrapeAllowed(undefined, 'anything')).toBe(true);
    const token = 'scrape-token-0123456789';
    for (const wrong of [null, 'nope', `${token}x`, token.slice(1)]) expect(metricsScrapeAllowed(token, wrong), String(wrong)).toBe(false);
    expect(metricsScrapeAllowed(token, token)).toBe(true);
  });
});

// Capacity services against the real database: the baseline catalogs the migration inserts, audited
// catalog edits, the planner over stored / on-disk config.json and cluster inventory, the revision
// and cluster compatibility views, and the cost of a cluster from its own telemetry.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_API_PRICES, DEFAULT_ENGINES, DEFAULT_GPUS } from '@fleetplane/domain';
import { v4FlashConfig } from '@fleetplane/domain/capacity/test-support';
import type { ServiceContext } from '../context';
import { testDeps, unique, randomGpuUuid } from '../telemetry/test-support';
import {
  listApiPrices,
  listCatalogEngines,
  listCatalogGpus,
  seedCapacityCatalogs,
  updateApiPrice,
  updateCatalogGpu,
} from './catalog.service';
import { compatibilityForCluster, compatibilityForRevision } from './compatibility.service';
import { clusterCost } from './cost.service';
import { renderFleetMetrics } from '../health/fleet-metrics.service';
import { planCapacity } from './planner.service';

const deps = testDeps();
const { prisma } = deps;
const ctx: ServiceContext = { prisma, actor: { type: 'system', id: null, label: 'capacity-test' } };

const tempDirs: string[] = [];
afterAll(async () => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  await prisma.$disconnect();
  await deps.pool.end();
});

async function cluster(
  opts: {
    engine?: 'vllm' | 'sglang';
    version?: string;
    gpuModel?: string;
    memoryMib?: number;
    gpus?: number;
    hourly?: number;
    served?: string;
  } = {},
) {
  const site = await prisma.site.create({ data: { name: unique('site'), region: 'us-east', dataResidency: 'us' } });
  const c = await prisma.cluster.create({
    data: {
      name: unique('cl'),
      siteId: site.id,
      servingEngine: opts.engine ?? 'sglang',
      engineVersion: opts.version ?? '0.5.4',
      maxContextTokens: 131072,
      gpuHourlyCostUsd: opts.hourly ?? 3.59,
      servedModelName: opts.served ?? 'deepseek-ai/DeepSeek-V4-Flash',
    },
  });
  const node = await prisma.node.create({ data: { clusterId: c.id, hostname: unique('n') } });
  const gpus = [];
  for (let i = 0; i < (opts.gpus ?? 1); i += 1) {
    gpus.push(
      await prisma.gpu.create({
        data: {
          nodeId: node.id,
          uuid: randomGpuUuid(),
          index: i,
          model: opts.gpuModel ?? 'NVIDIA H200',
          memoryMib: opts.memoryMib ?? 143771,
          interconnect: 'nvswitch',
        },
      }),
    );
  }
  return { ...c, nodeId: node.id, gpus };
}

async function artifact(
  opts: { format?: 'fp4_fp8' | 'fp8'; sizeBytes?: bigint; config?: unknown; storageUri?: string; repo?: string } = {},
) {
  const fam = await prisma.modelFamily.upsert({
    where: { slug: 'deepseek-v4-flash' },
    create: { slug: 'deepseek-v4-flash', name: 'Flash', totalParamsB: 284, activeParamsB: 13, contextLength: 1_048_576 },
    update: {},
  });
  const repo = await prisma.trackedRepo.create({
    data: { familyId: fam.id, hubRepoId: opts.repo ?? `deepseek-ai/${unique('DeepSeek-V4-Flash')}`, filePatterns: ['*'] },
  });
  const sha = randomGpuUuid()
    .replace(/[^0-9a-f]/gi, '')
    .toLowerCase()
    .padEnd(40, '0')
    .slice(0, 40);
  const revision = await prisma.modelRevision.create({ data: { trackedRepoId: repo.id, commitSha: sha, changeClass: 'initial' } });
  const a = await prisma.artifact.create({
    data: {
      revisionId: revision.id,
      format: opts.format ?? 'fp4_fp8',
      quantisation: opts.format === 'fp8' ? 'FP8' : 'FP4+FP8',
      sizeBytes: opts.sizeBytes ?? 159_896_000_000n,
      digest: unique('sha256'),
      storageUri: opts.storageUri ?? 'file:///nonexistent/fleetplane/artifact',
    },
  });
  if (opts.config !== undefined)
    await prisma.artifactModelConfig.create({ data: { artifactId: a.id, source: 'config.json', body: opts.config as object } });
  return { ...a, revision };
}

describe('catalogs', () => {
  it('every install starts with the baseline the migration inserts, equal to the domain defaults', async () => {
    const gpus = await listCatalogGpus(ctx);
    for (const g of DEFAULT_GPUS)
      expect(
        gpus.find((x) => x.model === g.model),
        g.model,
      ).toMatchObject(g);
    const engines = await listCatalogEngines(ctx);
    for (const e of DEFAULT_ENGINES) expect(engines.find((x) => x.kind === e.kind)).toEqual(e);
    const prices = await listApiPrices(ctx);
    for (const p of DEFAULT_API_PRICES) expect(prices.find((x) => x.family === p.family)).toEqual(p);
  });

  it('seeding again adds nothing and keeps admin edits', async () => {
    const before = await prisma.catalogGpu.count();
    await seedCapacityCatalogs(prisma);
    expect(await prisma.catalogGpu.count()).toBe(before);
  });

  it('edits are versioned in the audit log with before and after', async () => {
    const row = await prisma.catalogGpu.create({
      data: {
        model: unique('GPU'),
        vendor: 'nvidia',
        generation: 'hopper',
        memoryMib: 81559,
        computeCapability: '9.0',
        fp8TensorCores: true,
        fp4TensorCores: false,
        interconnect: 'pcie',
        typicalHourlyUsd: 2,
      },
    });
    await updateCatalogGpu(ctx, {
      id: row.id,
      data: {
        model: row.model,
        vendor: 'nvidia',
        generation: 'hopper',
        memoryMib: 81559,
        computeCapability: '9.0',
        fp8TensorCores: true,
        fp4TensorCores: false,
        interconnect: 'pcie',
        typicalHourlyUsd: 2.25,
      },
    });
    const event = await prisma.auditEvent.findFirstOrThrow({ where: { action: 'catalog.gpu.update', targetId: row.id } });
    expect(event.before).toMatchObject({ typicalHourlyUsd: 2 });
    expect(event.after).toMatchObject({ typicalHourlyUsd: 2.25 });

    const family = unique('fam');
    await updateApiPrice(ctx, { family, data: { inputPerM: 0.1, outputPerM: 0.2, cacheHitInputPerM: 0.001, asOf: '2026-11-01' } });
    await updateApiPrice(ctx, { family, data: { inputPerM: 0.12, outputPerM: 0.2, cacheHitInputPerM: 0.001, asOf: '2026-12-01' } });
    const events = await prisma.auditEvent.findMany({
      where: { action: 'catalog.api_price.update', targetId: family },
      orderBy: { occurredAt: 'asc' },
    });
    expect(events.map((e) => e.before)).toEqual([null, expect.objectContaining({ inputPerM: 0.1, asOf: '2026-11-01' })]);
  });
});

describe('planCapacity', () => {
  it('the demo case: FP4+FP8 Flash on one H200 under SGLang 0.5.4 gets a verdict with reason and source, and does not fit', async () => {
    const c = await cluster();
    const a = await artifact({ config: v4FlashConfig() });
    const r = await planCapacity(ctx, {
      model: { kind: 'artifact', artifactId: a.id },
      target: { kind: 'cluster', clusterId: c.id },
      contextTokens: 32768,
      concurrency: 4,
    });
    expect(r.errors).toEqual([]);
    expect(r.target).toMatchObject({ gpuModel: 'NVIDIA H200', gpuCount: 1, engine: 'sglang', engineVersion: '0.5.4' });
    const fp4 = r.compatibility!.verdicts.find((v) => v.rule === 'fp4_experts')!;
    expect(fp4.status).toBe('fail');
    expect(fp4.reason).toMatch(/SGLang 0\.5\.4 predates 0\.5\.12/);
    expect(fp4.source).toMatch(/deepseek_v4_nvfp4_sm90/);
    expect(r.plan!.fits).toBe(false);
    expect(r.plan!.limitingFactor).toBe('weights');
    expect(r.launchCommand).toContain('--moe-runner-backend marlin');
  });

  it("reads config.json beside the artifact's files, keeps it, and plans a GPU model and count", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fp-artifact-'));
    tempDirs.push(dir);
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify(v4FlashConfig()));
    const a = await artifact({ storageUri: pathToFileURL(dir).href });
    const r = await planCapacity(ctx, {
      model: { kind: 'artifact', artifactId: a.id },
      target: { kind: 'gpu', gpuModel: 'NVIDIA B200', gpuCount: 1 },
      engine: 'vllm',
      engineVersion: '0.20.0',
      contextTokens: 65536,
      concurrency: 8,
    });
    expect(r.errors).toEqual([]);
    expect(r.plan!.fits).toBe(true);
    expect(r.compatibility!.compatible).toBe(true);
    expect(r.launchCommand).toMatch(new RegExp(`^vllm serve ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    expect(await prisma.artifactModelConfig.findUnique({ where: { artifactId: a.id } })).not.toBeNull();
  });

  it('says what is missing: no config.json, an unknown GPU, fields absent from a pasted config', async () => {
    const a = await artifact();
    const r = await planCapacity(ctx, {
      model: { kind: 'artifact', artifactId: a.id },
      target: { kind: 'gpu', gpuModel: 'NVIDIA Q9000', gpuCount: 2 },
      engine: 'vllm',
      contextTokens: 1024,
      concurrency: 1,
    });
    expect(r.plan).toBeNull();
    expect(r.errors.join('\n')).toMatch(/no stored config\.json/);
    expect(r.errors.join('\n')).toMatch(/Unknown GPU model "NVIDIA Q9000"/);
    const { hidden_size: _h, ...partial } = v4FlashConfig();
    const p = await planCapacity(ctx, {
      model: { kind: 'config', configJson: JSON.stringify(partial), weightsBytes: 160e9, format: 'fp4_fp8' },
      target: { kind: 'gpu', gpuModel: 'NVIDIA B200', gpuCount: 1 },
      engine: 'vllm',
      contextTokens: 1024,
      concurrency: 1,
    });
    expect(p.errors).toEqual(['config.json is missing hidden_size (a positive integer)']);
    const ctxTooLong = await planCapacity(ctx, {
      model: { kind: 'config', configJson: JSON.stringify(v4FlashConfig()), weightsBytes: 160e9, format: 'fp4_fp8' },
      target: { kind: 'gpu', gpuModel: 'NVIDIA B200', gpuCount: 1 },
      engine: 'vllm',
      contextTokens: 2_000_000,
      concurrency: 1,
    });
    expect(ctxTooLong.errors[0]).toMatch(/above the model's maximum/);
  });
});

describe('compatibility views', () => {
  it('the revision page: each artifact against each cluster; the cluster page: what it serves', async () => {
    const h100 = await cluster({ engine: 'vllm', version: '0.20.0', gpuModel: 'NVIDIA H100 80GB HBM3', memoryMib: 81559, gpus: 8 });
    const a = await artifact({ format: 'fp8', sizeBytes: 284_000_000_000n, config: v4FlashConfig() });
    const rev = await compatibilityForRevision(ctx, a.revision.id);
    const pair = rev.verdicts.find((v) => v.clusterId === h100.id)!;
    expect(pair.report!.compatible).toBe(true);
    expect(pair.fits).toBe(true);

    await prisma.deployment.create({ data: { clusterId: h100.id, artifactId: a.id, state: 'active' } });
    const served = await compatibilityForCluster(ctx, h100.id);
    expect(served.verdicts).toHaveLength(1);
    expect(served.verdicts[0]!.artifactId).toBe(a.id);
  });
});

describe('clusterCost', () => {
  it('prices the window from GPU-hours, token counters and rollups, against the hosted API', async () => {
    const c = await cluster({ gpus: 2, hourly: 3.59 });
    const now = new Date();
    const at = (hoursAgo: number) => new Date(now.getTime() - hoursAgo * 3600_000);
    // One sample before the window (the baseline), then increases inside it, with an engine restart.
    const rows = [
      [25, 1_000, 500],
      [20, 41_000, 10_500],
      [10, 81_000, 20_500],
      [5, 20_000, 5_000], // restart: counters start again from zero
    ] as const;
    for (const [h, prompt, gen] of rows) {
      await prisma.engineSample.create({
        data: { nodeId: c.nodeId, clusterId: c.id, sampledAt: at(h), promptTokensTotal: prompt, generationTokensTotal: gen },
      });
    }
    for (const g of c.gpus) {
      await prisma.gpuRollup.create({
        data: { gpuId: g.id, resolution: 'minute', bucketStart: at(3), sampleCount: 6, utilizationGpuAvg: 50, powerDrawWAvg: 700 },
      });
    }
    const r = await clusterCost(ctx, { clusterId: c.id, window: '24h', powerUsdPerKwh: 0.15 }, now);
    // Prompt: 40,000 + 40,000 + 20,000 (after the reset); generation: 10,000 + 10,000 + 5,000.
    expect(r.report!.tokens).toEqual({ prompt: 100_000, generation: 25_000, cached: 0, total: 125_000 });
    expect(r.report!.gpuHours).toBe(48);
    expect(r.report!.computeUsd).toBeCloseTo(172.32, 6);
    expect(r.averagePowerWatts).toBe(1400);
    expect(r.utilisation).toBe(0.5);
    expect(r.report!.powerUsd).toBeCloseTo(5.04, 6);
    expect(r.apiFamily).toBe('deepseek-v4-flash');
    expect(r.report!.apiUsd).toBeCloseTo((100_000 * 0.14 + 25_000 * 0.28) / 1e6, 10);
    expect(r.series).toHaveLength(24);
    expect(r.series.reduce((n, p) => n + p.promptTokens, 0)).toBe(100_000);
    expect(r.report!.atFullUtilisation!.monthlyTokens).toBeCloseTo((125_000 / 24 / 0.5) * 730, 3);

    // The same figures in /metrics, Prometheus-named.
    const { body } = await renderFleetMetrics(prisma, now);
    expect(body).toContain(`fleetplane_cluster_cost_usd_per_hour{cluster="${c.name}"} 7.18`);
    expect(body).toContain(`fleetplane_cluster_tokens_24h{cluster="${c.name}",kind="prompt"} 100000`);
    expect(body).toMatch(new RegExp(`fleetplane_cluster_effective_usd_per_million_tokens\\{cluster="${c.name}",direction="output"\\} \\d`));
    expect(body).toContain(`fleetplane_cluster_savings_usd_24h{cluster="${c.name}"}`);
  });

  it('counts GPU time only from when the cluster first reported, so a new cluster is not charged for the whole window', async () => {
    const c = await cluster({ gpus: 2, hourly: 3.59 });
    const now = new Date();
    const at = (hoursAgo: number) => new Date(now.getTime() - hoursAgo * 3600_000);
    await prisma.engineSample.create({
      data: { nodeId: c.nodeId, clusterId: c.id, sampledAt: at(2), promptTokensTotal: 0, generationTokensTotal: 0 },
    });
    await prisma.engineSample.create({
      data: { nodeId: c.nodeId, clusterId: c.id, sampledAt: at(1), promptTokensTotal: 60_000, generationTokensTotal: 20_000 },
    });
    const r = await clusterCost(ctx, { clusterId: c.id, window: '24h', powerUsdPerKwh: null }, now);
    expect(r.report!.gpuHours).toBeCloseTo(4, 6);
    expect(r.report!.computeUsd).toBeCloseTo(4 * 3.59, 6);
    // The buckets before the first report cost nothing; the bucket it falls in is paid from that moment on.
    expect(r.series.slice(0, 21).every((p) => p.selfHostedUsd === 0)).toBe(true);
    expect(r.series.reduce((n, p) => n + p.selfHostedUsd, 0)).toBeCloseTo(4 * 3.59, 6);
    expect(r.notes.join('\n')).toMatch(/GPU time counted from .* first reported telemetry/);
  });

  it('a cluster with no telemetry still has its GPU cost and says what is missing', async () => {
    const c = await cluster({ served: 'some-other-model' });
    const r = await clusterCost(ctx, { clusterId: c.id, window: '1h' });
    expect(r.report).toBeNull();
    expect(r.notes.join('\n')).toMatch(/Could not tell which model family/);
    expect(r.series[0]!.selfHostedUsd).toBeCloseTo(3.59 / 12, 10);
  });
});

import { COST_WINDOW_HOURS, ZClusterCostInput, type TClusterCostInput } from '@fleetplane/contracts';
import type { PrismaClient } from '@fleetplane/db';
import { apiCostUsd, computeCost, counterDelta, type TApiPrice, type TCostReport } from '@fleetplane/domain';
import type { ServiceContext } from '../context';
import { notFound } from '../errors';
import { listApiPrices } from './catalog.service';
import { clusterFirstSeen, clusterRollupAverages, engineTokenCounters } from './cost.sql';

/**
 * Cost of a cluster over a window from its own telemetry: GPU-hours at the cluster's $/GPU-hour,
 * optional power from the measured draw, the engines' token counters, average GPU utilisation;
 * then the pure cost maths against the hosted API's price for the model it serves.
 */

const BUCKETS: Record<keyof typeof COST_WINDOW_HOURS, number> = { '1h': 12, '24h': 24, '7d': 28, '30d': 30 };

export interface TCostPoint {
  /** Bucket start, ISO. */
  at: string;
  promptTokens: number;
  generationTokens: number;
  selfHostedUsd: number;
  apiUsd: number;
  /** Self-hosted $ per 1M tokens in this bucket; null without traffic. */
  blendedPerM: number | null;
}

export interface TClusterCost {
  cluster: { id: string; name: string; gpuCount: number; gpuHourlyUsd: number };
  window: { from: string; to: string; hours: number };
  api: TApiPrice | null;
  apiFamily: string | null;
  report: TCostReport | null;
  averagePowerWatts: number | null;
  /** Average GPU utilisation over the window, 0..1; null without telemetry. */
  utilisation: number | null;
  series: TCostPoint[];
  notes: string[];
}

/** The model family the cluster serves: its active deployment's repo, else a guess from the served name. */
async function servedFamily(prisma: PrismaClient, clusterId: string, servedModelName: string | null): Promise<string | null> {
  const deployment = await prisma.deployment.findFirst({
    where: { clusterId, state: { in: ['active', 'rolling_out'] } },
    orderBy: { startedAt: 'desc' },
    select: { artifact: { select: { revision: { select: { trackedRepo: { select: { family: { select: { slug: true } } } } } } } } },
  });
  const slug = deployment?.artifact.revision.trackedRepo.family.slug;
  if (slug) return slug;
  const name = (servedModelName ?? '').toLowerCase();
  if (/v4.?pro/.test(name)) return 'deepseek-v4-pro';
  if (/v4.?flash/.test(name)) return 'deepseek-v4-flash';
  return null;
}

export async function clusterCost(
  ctx: Pick<ServiceContext, 'prisma'>,
  request: TClusterCostInput,
  now = new Date(),
): Promise<TClusterCost> {
  const input = ZClusterCostInput.parse(request);
  const cluster = await ctx.prisma.cluster.findUnique({
    where: { id: input.clusterId },
    select: {
      id: true,
      name: true,
      gpuHourlyCostUsd: true,
      servedModelName: true,
      nodes: { select: { id: true, _count: { select: { gpus: true } } } },
    },
  });
  if (!cluster) throw notFound('Cluster', input.clusterId);
  const hours = COST_WINDOW_HOURS[input.window];
  const to = now;
  const from = new Date(to.getTime() - hours * 3600_000);
  const gpuCount = cluster.nodes.reduce((n, node) => n + node._count.gpus, 0);
  const gpuHourlyUsd = Number(cluster.gpuHourlyCostUsd);
  const notes: string[] = [];

  const [prices, family, samples, telemetry, firstSeenRows] = await Promise.all([
    listApiPrices(ctx),
    servedFamily(ctx.prisma, cluster.id, cluster.servedModelName),
    engineTokenCounters(ctx.prisma, cluster.id, from, to),
    clusterRollupAverages(ctx.prisma, cluster.id, hours <= 24 ? 'minute' : 'hour', from, to),
    clusterFirstSeen(ctx.prisma, cluster.id),
  ]);

  // GPU-hours count from when Fleetplane first saw the cluster report, not from before it existed here:
  // a cluster enrolled five minutes ago has not cost a day of GPU time in this window, and pricing its
  // five minutes of tokens against 24 GPU-hours would overstate $/1M tokens by orders of magnitude.
  // A cluster that never reported is priced for the whole window (and says so below).
  const firstSeen = firstSeenRows[0]?.first_seen ?? null;
  const billedFrom = firstSeen && firstSeen > from ? firstSeen : from;
  // At least a minute: a first sample a moment ago (or dated slightly ahead, within the clock tolerance) is still a price.
  const billedHours = Math.max(1 / 60, (to.getTime() - billedFrom.getTime()) / 3600_000);
  if (billedFrom > from) notes.push(`GPU time counted from ${billedFrom.toISOString()}, when this cluster first reported telemetry`);

  const api = prices.find((p) => p.family === family) ?? null;
  if (!family) notes.push('Could not tell which model family this cluster serves: no hosted API comparison');
  else if (!api) notes.push(`No hosted API price for ${family} in the catalog`);

  // Counter increases per node, each credited to the bucket of the later sample.
  const bucketCount = BUCKETS[input.window];
  const bucketMs = (hours * 3600_000) / bucketCount;
  const series: TCostPoint[] = Array.from({ length: bucketCount }, (_, i) => ({
    at: new Date(from.getTime() + i * bucketMs).toISOString(),
    promptTokens: 0,
    generationTokens: 0,
    // Only the part of the bucket after the cluster first reported is paid for.
    selfHostedUsd:
      (gpuCount * gpuHourlyUsd * Math.max(0, Math.min(bucketMs, from.getTime() + (i + 1) * bucketMs - billedFrom.getTime()))) / 3600_000,
    apiUsd: 0,
    blendedPerM: null,
  }));
  let prompt = 0;
  let generation = 0;
  const last = new Map<string, { prompt: number | null; generation: number | null }>();
  for (const s of samples) {
    const prev = last.get(s.node_id);
    last.set(s.node_id, { prompt: s.prompt ?? prev?.prompt ?? null, generation: s.generation ?? prev?.generation ?? null });
    if (!prev || s.sampled_at <= from) continue;
    const bucket = series[Math.min(bucketCount - 1, Math.floor((s.sampled_at.getTime() - from.getTime()) / bucketMs))]!;
    if (prev.prompt !== null && s.prompt !== null) {
      const d = counterDelta(prev.prompt, s.prompt);
      prompt += d;
      bucket.promptTokens += d;
    }
    if (prev.generation !== null && s.generation !== null) {
      const d = counterDelta(prev.generation, s.generation);
      generation += d;
      bucket.generationTokens += d;
    }
  }
  const cached = prompt * input.assumedCacheHitShare;
  if (input.assumedCacheHitShare > 0)
    notes.push(
      `Cache hits assumed at ${Math.round(input.assumedCacheHitShare * 100)}% of prompt tokens (the engines' cached-token counter is not collected yet)`,
    );
  for (const p of series) {
    const t = p.promptTokens + p.generationTokens;
    p.blendedPerM = t > 0 ? (p.selfHostedUsd / t) * 1e6 : null;
    if (api) p.apiUsd = apiCostUsd(api, p.promptTokens, p.promptTokens * input.assumedCacheHitShare, p.generationTokens);
  }

  const t = telemetry[0];
  const utilisation = t?.util != null ? Math.min(1, Math.max(0, t.util / 100)) : null;
  // Average per-GPU draw times the cluster's GPU count: GPUs that reported stand in for the rest.
  const averagePowerWatts = t?.power != null ? t.power * gpuCount : null;
  if (utilisation === null) notes.push('No GPU utilisation telemetry in this window');
  if (input.powerUsdPerKwh !== null && averagePowerWatts === null) notes.push('No measured power draw in this window: power cost left out');

  const report = api
    ? computeCost({
        windowHours: billedHours,
        gpuCount,
        gpuHourlyUsd,
        power:
          input.powerUsdPerKwh !== null && averagePowerWatts !== null
            ? { averageWatts: averagePowerWatts, usdPerKwh: input.powerUsdPerKwh }
            : null,
        promptTokens: prompt,
        generationTokens: generation,
        cachedPromptTokens: cached,
        utilisation,
        api,
      })
    : null;

  return {
    cluster: { id: cluster.id, name: cluster.name, gpuCount, gpuHourlyUsd },
    window: { from: from.toISOString(), to: to.toISOString(), hours },
    api,
    apiFamily: family,
    report,
    averagePowerWatts,
    utilisation,
    series,
    notes,
  };
}

/** Every cluster's cost over the last 24 h, for /metrics. */
export async function fleetCostSnapshot(prisma: PrismaClient, now = new Date()) {
  const clusters = await prisma.cluster.findMany({ select: { id: true } });
  return Promise.all(clusters.map((c) => clusterCost({ prisma }, { clusterId: c.id, window: '24h' }, now)));
}

import { HEALTH_STATUSES, type THealthStatus } from '@fleetplane/contracts';
import type { PrismaClient } from '@fleetplane/db';
import { clusterTokensPerSecond, type CounterSample } from '@fleetplane/domain';
import {
  clusterMinuteHistory,
  gpuHealthByCluster,
  lastTwoEngineScrapes,
  liveGpuTotalsByCluster,
  type EngineScrapeRow,
} from './fleet-utilisation.sql';

/** A GPU counts as reporting when its newest sample is at most this old (a few 10 s agent intervals). */
export const LIVE_WINDOW_SECONDS = 120;
/** The overview's sparkline: the last hour of minute rollups. */
export const HISTORY_MINUTES = 60;

function emptyCounts(): Record<THealthStatus, number> {
  return Object.fromEntries(HEALTH_STATUSES.map((s) => [s, 0])) as Record<THealthStatus, number>;
}

/**
 * Live utilisation per cluster for the overview: GPU utilisation, memory and power from each GPU's
 * newest sample, tokens/s from the last two engine scrapes per node (counter rates, resets handled),
 * KV-cache usage and queue depth from the newest scrape, GPU health counts, and an hour of minute
 * rollups for the sparkline. null always means "nothing reported", never 0.
 */
export async function fleetUtilisation(ctx: { prisma: PrismaClient }, now = new Date()) {
  const { prisma } = ctx;
  const liveFrom = new Date(now.getTime() - LIVE_WINDOW_SECONDS * 1000);
  const historyFrom = new Date(now.getTime() - HISTORY_MINUTES * 60_000);
  const [clusters, live, byHealth, engine, history] = await Promise.all([
    prisma.cluster.findMany({
      orderBy: { name: 'asc' },
      select: {
        id: true,
        name: true,
        health: true,
        servingEngine: true,
        site: { select: { name: true } },
        _count: { select: { nodes: true } },
      },
    }),
    liveGpuTotalsByCluster(prisma, liveFrom, now),
    gpuHealthByCluster(prisma),
    lastTwoEngineScrapes(prisma, liveFrom, now),
    clusterMinuteHistory(prisma, historyFrom),
  ]);

  const liveBy = new Map(live.map((r) => [r.cluster_id, r]));
  const healthBy = new Map<string, Record<THealthStatus, number>>();
  for (const r of byHealth) {
    const counts = healthBy.get(r.cluster_id) ?? emptyCounts();
    counts[r.health] += r.count;
    healthBy.set(r.cluster_id, counts);
  }
  const engineBy = new Map<string, Map<string, EngineScrapeRow[]>>();
  for (const r of engine) {
    const nodes = engineBy.get(r.cluster_id) ?? new Map<string, EngineScrapeRow[]>();
    const list = nodes.get(r.node_id) ?? [];
    list.push(r);
    nodes.set(r.node_id, list);
    engineBy.set(r.cluster_id, nodes);
  }
  const historyBy = new Map<string, { t: Date; utilizationGpuAvg: number | null; powerDrawW: number | null }[]>();
  for (const r of history) {
    const list = historyBy.get(r.cluster_id) ?? [];
    list.push({ t: r.bucket_start, utilizationGpuAvg: r.util, powerDrawW: r.power });
    historyBy.set(r.cluster_id, list);
  }

  const items = clusters.map((c) => {
    const l = liveBy.get(c.id);
    const gpusByHealth = healthBy.get(c.id) ?? emptyCounts();
    const nodes = [...(engineBy.get(c.id)?.values() ?? [])];
    // Newest first per node: [0] is the newest scrape, [1] the one before.
    const pair = (rows: EngineScrapeRow[], key: 'generation_tokens_total' | 'prompt_tokens_total') => {
      const sample = (r: EngineScrapeRow | undefined): CounterSample | null => (r ? { sampledAt: r.sampled_at, value: r[key] } : null);
      return { prev: sample(rows[1]), next: sample(rows[0]) };
    };
    const newest = nodes.map((rows) => rows[0]!).filter(Boolean);
    const kv = newest.map((r) => r.kv_cache_usage_fraction).filter((v): v is number => v !== null);
    const sum = (values: (number | null)[]) => {
      const present = values.filter((v): v is number => v !== null);
      return present.length ? present.reduce((a, b) => a + b, 0) : null;
    };
    return {
      clusterId: c.id,
      name: c.name,
      site: c.site.name,
      servingEngine: c.servingEngine,
      health: c.health,
      nodeCount: c._count.nodes,
      gpuCount: Object.values(gpusByHealth).reduce((a, b) => a + b, 0),
      gpusByHealth,
      reportingGpus: l?.reporting ?? 0,
      utilizationGpuAvg: l?.util_avg ?? null,
      memoryUsedMib: l?.mem_used ?? null,
      memoryTotalMib: l?.mem_total ?? null,
      powerDrawW: l?.power ?? null,
      powerLimitW: l?.power_limit ?? null,
      temperatureMaxC: l?.temp_max ?? null,
      generationTokensPerSecond: clusterTokensPerSecond(nodes.map((rows) => pair(rows, 'generation_tokens_total'))),
      promptTokensPerSecond: clusterTokensPerSecond(nodes.map((rows) => pair(rows, 'prompt_tokens_total'))),
      kvCacheUsageFraction: kv.length ? kv.reduce((a, b) => a + b, 0) / kv.length : null,
      runningRequests: sum(newest.map((r) => r.running_requests)),
      waitingRequests: sum(newest.map((r) => r.waiting_requests)),
      history: historyBy.get(c.id) ?? [],
    };
  });
  const reporting = items.reduce((a, c) => a + c.reportingGpus, 0);
  const weighted = items.filter((c) => c.utilizationGpuAvg !== null);
  return {
    at: now,
    clusters: items,
    fleet: {
      reportingGpus: reporting,
      gpuCount: items.reduce((a, c) => a + c.gpuCount, 0),
      utilizationGpuAvg: weighted.length
        ? weighted.reduce((a, c) => a + c.utilizationGpuAvg! * c.reportingGpus, 0) /
          Math.max(
            1,
            weighted.reduce((a, c) => a + c.reportingGpus, 0),
          )
        : null,
      powerDrawW: items.some((c) => c.powerDrawW !== null) ? items.reduce((a, c) => a + (c.powerDrawW ?? 0), 0) : null,
      generationTokensPerSecond: items.some((c) => c.generationTokensPerSecond !== null)
        ? items.reduce((a, c) => a + (c.generationTokensPerSecond ?? 0), 0)
        : null,
    },
  };
}

import {
  GPU_SERIES_RANGE_SECONDS,
  ZClusterGridInput,
  ZGpuSeriesInput,
  type TClusterGridInput,
  type TGpuSeriesInput,
  type THealthStatus,
} from '@fleetplane/contracts';
import { MAX_CLOCK_SKEW_SECONDS } from '@fleetplane/contracts';
import type { PrismaClient } from '@fleetplane/db';
import type { HealthReason } from '@fleetplane/domain';
import { notFound } from '../errors';
import { clusterGridPage, newestSamplesOf, type LatestSampleRow } from './gpu-views.sql';

function latestView(r: LatestSampleRow | undefined) {
  if (!r) return null;
  return {
    sampledAt: r.sampled_at,
    utilizationGpuPct: r.utilization_gpu_pct,
    memoryUsedMib: r.memory_used_mib,
    memoryTotalMib: r.memory_total_mib,
    temperatureC: r.temperature_c,
    powerDrawW: r.power_draw_w,
    powerLimitW: r.power_limit_w,
    smClockMhz: r.sm_clock_mhz,
    clocksEventReasons: r.clocks_event_reasons === null ? null : Number(r.clocks_event_reasons),
    eccCorrectedVolatile: r.ecc_corrected_volatile === null ? null : Number(r.ecc_corrected_volatile),
    eccUncorrectedVolatile: r.ecc_uncorrected_volatile === null ? null : Number(r.ecc_uncorrected_volatile),
  };
}

const reasons = (v: unknown) => (Array.isArray(v) ? (v as HealthReason[]) : []);

async function latestSamples(prisma: PrismaClient, gpuIds: string[]): Promise<Map<string, LatestSampleRow>> {
  if (gpuIds.length === 0) return new Map();
  // The newest reading not in the future (beyond the skew tolerance), as health evaluation reads it.
  const newestAllowed = new Date(Date.now() + MAX_CLOCK_SKEW_SECONDS * 1000);
  const rows = await newestSamplesOf(prisma, gpuIds, newestAllowed);
  return new Map(rows.map((r) => [r.gpu_id, r]));
}

type HealthCounts = Record<THealthStatus, number>;
const zeroCounts = (): HealthCounts => ({ unknown: 0, healthy: 0, warning: 0, critical: 0, offline: 0 });

/**
 * The cluster page's node × GPU grid: health counts for the whole cluster (the picture at a glance) and one
 * page of nodes, worst first, with every GPU's verdict, reasons and newest reading. Paged on the server so a
 * 1,000-node cluster costs the same per refresh as a 20-node one (bench:fleet measured 4.6 MB and ~600 ms
 * for the unpaged grid at 1,000 nodes).
 */
export async function clusterGpuGrid(ctx: { prisma: PrismaClient }, input: TClusterGridInput) {
  const { clusterId, page, pageSize, health, hostname } = ZClusterGridInput.parse(input);
  const cluster = await ctx.prisma.cluster.findUnique({ where: { id: clusterId }, select: { id: true, name: true, health: true } });
  if (!cluster) throw notFound('Cluster', clusterId);

  const {
    nodeCounts,
    gpuCounts,
    total,
    nodeIds: ids,
  } = await clusterGridPage(ctx.prisma, {
    clusterId,
    search: hostname ? hostname.toLowerCase() : null,
    health: health && health.length > 0 ? health : null,
    limit: pageSize,
    offset: (page - 1) * pageSize,
  });
  const nodes = await ctx.prisma.node.findMany({
    where: { id: { in: ids } },
    select: {
      id: true,
      hostname: true,
      health: true,
      healthReasons: true,
      lastSeenAt: true,
      reportIntervalSeconds: true,
      agentVersion: true,
      gpus: {
        orderBy: { index: 'asc' },
        select: { id: true, index: true, uuid: true, model: true, memoryMib: true, health: true, healthReasons: true, lastSampleAt: true },
      },
    },
  });
  const order = new Map(ids.map((id, i) => [id, i]));
  nodes.sort((x, y) => order.get(x.id)! - order.get(y.id)!);
  const latest = await latestSamples(
    ctx.prisma,
    nodes.flatMap((n) => n.gpus.map((g) => g.id)),
  );
  const summary = { nodes: zeroCounts(), gpus: zeroCounts() };
  for (const r of nodeCounts) summary.nodes[r.health] += r.count;
  for (const r of gpuCounts) summary.gpus[r.health] += r.count;
  return {
    ...cluster,
    summary,
    total,
    page,
    pageSize,
    nodes: nodes.map((n) => ({
      ...n,
      healthReasons: reasons(n.healthReasons),
      gpus: n.gpus.map((g) => ({ ...g, healthReasons: reasons(g.healthReasons), latest: latestView(latest.get(g.id)) })),
    })),
  };
}

/** The GPU page: identity, verdict and reasons, newest reading, recent XIDs and live alerts. */
export async function gpuHealthDetail(ctx: { prisma: PrismaClient }, id: string) {
  const gpu = await ctx.prisma.gpu.findUnique({
    where: { id },
    include: {
      node: {
        select: {
          id: true,
          hostname: true,
          health: true,
          lastSeenAt: true,
          driverVersion: true,
          cudaVersion: true,
          cluster: { select: { id: true, name: true } },
        },
      },
    },
  });
  if (!gpu) throw notFound('GPU', id);
  const [latest, xids, alerts] = await Promise.all([
    latestSamples(ctx.prisma, [gpu.id]),
    ctx.prisma.xidEvent.findMany({
      where: { gpuId: gpu.id },
      orderBy: { occurredAt: 'desc' },
      take: 25,
      select: {
        id: true,
        occurredAt: true,
        xid: true,
        pid: true,
        processName: true,
        message: true,
        pciBusId: true,
        kind: true,
        gpuInstanceId: true,
        undated: true,
      },
    }),
    ctx.prisma.alert.findMany({
      where: { gpuId: gpu.id, state: { in: ['open', 'acknowledged'] } },
      orderBy: { openedAt: 'desc' },
      select: { id: true, title: true, severity: true, state: true, openedAt: true, rule: true },
    }),
  ]);
  return { ...gpu, healthReasons: reasons(gpu.healthReasons), latest: latestView(latest.get(gpu.id)), xids, alerts };
}

export interface GpuSeriesPoint {
  t: Date;
  utilizationGpuAvg: number | null;
  utilizationGpuMax: number | null;
  memoryUsedMibAvg: number | null;
  temperatureCAvg: number | null;
  temperatureCMax: number | null;
  powerDrawWAvg: number | null;
  powerDrawWMax: number | null;
}

/**
 * Chart data: the last hour from raw samples, the last day from minute rollups, the last week from
 * hour rollups. Rollups carry averages and maxima; raw points carry the reading as both.
 */
export async function gpuSeries(ctx: { prisma: PrismaClient }, input: TGpuSeriesInput, now = new Date()) {
  const { gpuId, range } = ZGpuSeriesInput.parse(input);
  const gpu = await ctx.prisma.gpu.findUnique({ where: { id: gpuId }, select: { id: true, memoryMib: true } });
  if (!gpu) throw notFound('GPU', gpuId);
  const from = new Date(now.getTime() - GPU_SERIES_RANGE_SECONDS[range] * 1000);
  let points: GpuSeriesPoint[];
  if (range === '1h') {
    const rows = await ctx.prisma.gpuSample.findMany({
      where: { gpuId, sampledAt: { gte: from, lte: now } },
      orderBy: { sampledAt: 'asc' },
      select: { sampledAt: true, utilizationGpuPct: true, memoryUsedMib: true, temperatureC: true, powerDrawW: true },
    });
    points = rows.map((r) => ({
      t: r.sampledAt,
      utilizationGpuAvg: r.utilizationGpuPct,
      utilizationGpuMax: r.utilizationGpuPct,
      memoryUsedMibAvg: r.memoryUsedMib,
      temperatureCAvg: r.temperatureC,
      temperatureCMax: r.temperatureC,
      powerDrawWAvg: r.powerDrawW,
      powerDrawWMax: r.powerDrawW,
    }));
  } else {
    const rows = await ctx.prisma.gpuRollup.findMany({
      where: { gpuId, resolution: range === '24h' ? 'minute' : 'hour', bucketStart: { gte: from, lte: now } },
      orderBy: { bucketStart: 'asc' },
    });
    points = rows.map((r) => ({
      t: r.bucketStart,
      utilizationGpuAvg: r.utilizationGpuAvg,
      utilizationGpuMax: r.utilizationGpuMax,
      memoryUsedMibAvg: r.memoryUsedMibAvg,
      temperatureCAvg: r.temperatureCAvg,
      temperatureCMax: r.temperatureCMax,
      powerDrawWAvg: r.powerDrawWAvg,
      powerDrawWMax: r.powerDrawWMax,
    }));
  }
  return {
    gpuId,
    range,
    from,
    to: now,
    memoryTotalMib: gpu.memoryMib,
    resolution: range === '1h' ? 'raw' : range === '24h' ? 'minute' : 'hour',
    points,
  };
}

import { GPU_SERIES_RANGE_SECONDS, ZClusterGridInput, ZGpuSeriesInput, type TGpuSeriesInput } from '@fleetplane/contracts';
import { MAX_CLOCK_SKEW_SECONDS } from '@fleetplane/contracts';
import type { PrismaClient } from '@fleetplane/db';
import type { HealthReason } from '@fleetplane/domain';
import type { z } from 'zod';
import { notFound } from '../errors';

interface LatestRow {
  gpu_id: string;
  sampled_at: Date;
  utilization_gpu_pct: number | null;
  memory_used_mib: number | null;
  memory_total_mib: number | null;
  temperature_c: number | null;
  power_draw_w: number | null;
  power_limit_w: number | null;
  clocks_event_reasons: bigint | null;
  ecc_corrected_volatile: bigint | null;
  ecc_uncorrected_volatile: bigint | null;
  sm_clock_mhz: number | null;
}

function latestView(r: LatestRow | undefined) {
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

async function latestSamples(prisma: PrismaClient, gpuIds: string[]): Promise<Map<string, LatestRow>> {
  if (gpuIds.length === 0) return new Map();
  // The newest reading not in the future (beyond the skew tolerance), as health evaluation reads it.
  const newestAllowed = new Date(Date.now() + MAX_CLOCK_SKEW_SECONDS * 1000);
  const rows = await prisma.$queryRaw<LatestRow[]>`
    SELECT s.gpu_id, s.sampled_at, s.utilization_gpu_pct, s.memory_used_mib, s.memory_total_mib, s.temperature_c, s.power_draw_w,
           s.power_limit_w, s.clocks_event_reasons, s.ecc_corrected_volatile, s.ecc_uncorrected_volatile, s.sm_clock_mhz
      FROM unnest(${gpuIds}::text[]) AS ids(id) CROSS JOIN LATERAL (
        SELECT * FROM gpu_sample s WHERE s.gpu_id = ids.id AND s.sampled_at <= ${newestAllowed} ORDER BY s.sampled_at DESC LIMIT 1) s`;
  return new Map(rows.map((r) => [r.gpu_id, r]));
}

/** The cluster page's node × GPU grid: every GPU's verdict with its reasons and newest reading. */
export async function clusterGpuGrid(ctx: { prisma: PrismaClient }, input: z.input<typeof ZClusterGridInput>) {
  const { clusterId } = ZClusterGridInput.parse(input);
  const cluster = await ctx.prisma.cluster.findUnique({
    where: { id: clusterId },
    select: {
      id: true,
      name: true,
      health: true,
      nodes: {
        orderBy: { hostname: 'asc' },
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
            select: {
              id: true,
              index: true,
              uuid: true,
              model: true,
              memoryMib: true,
              health: true,
              healthReasons: true,
              lastSampleAt: true,
            },
          },
        },
      },
    },
  });
  if (!cluster) throw notFound('Cluster', clusterId);
  const latest = await latestSamples(
    ctx.prisma,
    cluster.nodes.flatMap((n) => n.gpus.map((g) => g.id)),
  );
  return {
    ...cluster,
    nodes: cluster.nodes.map((n) => ({
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

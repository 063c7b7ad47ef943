import type { HealthStatus as DbHealthStatus, PrismaClient } from '@fleetplane/db';
import { MAX_CLOCK_SKEW_SECONDS } from '@fleetplane/contracts';
import { unreportedReading, type GpuReading, type THealthThresholds, type XidObservation } from '@fleetplane/domain';
import { eccChangePoints, gpuXidsSince, newestSampleOfEveryGpu, type GpuSampleRow } from './health-inputs.sql';

export interface GpuHealthInput {
  id: string;
  uuid: string;
  index: number;
  model: string;
  nodeId: string;
  clusterId: string;
  hostname: string;
  health: DbHealthStatus;
  healthReasons: unknown;
  latest: GpuReading | null;
  recent: GpuReading[];
  xids: XidObservation[];
}

const num = (v: bigint | number | null) => (v === null ? null : Number(v));

function reading(r: GpuSampleRow, uuid: string, index: number, name: string): GpuReading {
  return {
    sampledAt: r.sampled_at,
    uuid,
    index,
    name,
    memoryTotalMib: r.memory_total_mib,
    memoryUsedMib: r.memory_used_mib,
    utilizationGpuPct: r.utilization_gpu_pct,
    utilizationMemoryPct: r.utilization_memory_pct,
    temperatureC: r.temperature_c,
    powerDrawW: r.power_draw_w,
    powerLimitW: r.power_limit_w,
    smClockMhz: r.sm_clock_mhz,
    eccCorrectedVolatile: num(r.ecc_corrected_volatile),
    eccUncorrectedVolatile: num(r.ecc_uncorrected_volatile),
    clocksEventReasons: num(r.clocks_event_reasons),
    remappedRowsCorrectable: r.remapped_rows_correctable,
    remappedRowsUncorrectable: r.remapped_rows_uncorrectable,
    remappedRowsPending: r.remapped_rows_pending,
    remappedRowsFailure: r.remapped_rows_failure,
    ...(r.error_states && r.error_states.length > 0 ? { errorStates: r.error_states } : {}),
  };
}

/**
 * Everything the health rules read, in four set-based queries: the newest sample of every GPU (one
 * backwards index probe each), the points where each GPU's corrected-ECC counter changed inside the
 * ECC window (the domain's counter maths gives the same increase from change points as from every
 * sample, and steady counters then cost one row), and the XIDs inside the XID window.
 */
export async function loadGpuInputs(prisma: PrismaClient, now: Date, t: THealthThresholds) {
  const [gpus, nodes, clusters] = await Promise.all([
    prisma.gpu.findMany({
      select: {
        id: true,
        uuid: true,
        index: true,
        model: true,
        nodeId: true,
        health: true,
        healthReasons: true,
        node: { select: { clusterId: true, hostname: true } },
      },
    }),
    prisma.node.findMany({
      select: {
        id: true,
        clusterId: true,
        hostname: true,
        lastSeenAt: true,
        reportIntervalSeconds: true,
        clockOffsetMs: true,
        health: true,
        healthReasons: true,
      },
    }),
    prisma.cluster.findMany({ select: { id: true, health: true } }),
  ]);
  const eccFrom = new Date(now.getTime() - t.eccWindowSeconds * 1000);
  const xidFrom = new Date(now.getTime() - t.xidWindowSeconds * 1000);
  // The newest sample not in the future: one stored from a node whose clock ran ahead (before ingest
  // refused such batches) must not stay "latest" and freeze the verdict until its date.
  const newestAllowed = new Date(now.getTime() + MAX_CLOCK_SKEW_SECONDS * 1000);
  const [latest, ecc, xids] = await Promise.all([
    newestSampleOfEveryGpu(prisma, newestAllowed),
    eccChangePoints(prisma, eccFrom, newestAllowed),
    gpuXidsSince(prisma, xidFrom),
  ]);
  const latestByGpu = new Map(latest.map((r) => [r.gpu_id, r]));
  const eccByGpu = new Map<string, typeof ecc>();
  for (const r of ecc) {
    const list = eccByGpu.get(r.gpu_id) ?? [];
    list.push(r);
    eccByGpu.set(r.gpu_id, list);
  }
  const xidsByGpu = new Map<string, typeof xids>();
  for (const x of xids) {
    const list = xidsByGpu.get(x.gpu_id) ?? [];
    list.push(x);
    xidsByGpu.set(x.gpu_id, list);
  }
  const inputs: GpuHealthInput[] = gpus.map((g) => {
    const row = latestByGpu.get(g.id);
    const blank = row ? reading(row, g.uuid, g.index, g.model) : null;
    return {
      id: g.id,
      uuid: g.uuid,
      index: g.index,
      model: g.model,
      nodeId: g.nodeId,
      clusterId: g.node.clusterId,
      hostname: g.node.hostname,
      health: g.health,
      healthReasons: g.healthReasons,
      latest: blank,
      // Only the ECC counter matters in `recent`; every other reading is "not reported".
      recent: (eccByGpu.get(g.id) ?? []).map((e) => ({
        ...unreportedReading({ uuid: g.uuid, index: g.index, name: g.model, sampledAt: e.sampled_at }),
        eccCorrectedVolatile: Number(e.ecc_corrected_volatile),
      })),
      xids: (xidsByGpu.get(g.id) ?? []).map((x) => ({ occurredAt: x.occurred_at, xid: x.xid, gpuUuid: g.uuid, message: x.message })),
    };
  });
  return {
    gpus: inputs,
    nodes: nodes.map((n) => ({ ...n, clockOffsetMs: n.clockOffsetMs === null ? null : Number(n.clockOffsetMs) })),
    clusters,
  };
}

/**
 * Does telemetry storage stay fast as it grows? Measures the operations that touch the sample tables —
 * ingest of one agent batch, the dashboard's live and chart queries, /metrics, a health pass, a minute
 * rollup and retention — first on a fleet with ten minutes of history (the reference), then on the
 * same fleet with a full raw-retention window (48 h at the agent's 10 s interval), 14 days of minute
 * rollups and a year of hour rollups, plus an hour of samples past retention for the retention job
 * to delete. Prints p50/p99 per operation in both states and the ratio full / reference.
 *
 *   npx tsx tools/bench/src/bench-telemetry-storage.ts [--gpus 256] [--raw-hours 48] [--repeats 30] [--json out.json]
 *
 * In-process against a fresh migrated database (no web server: this isolates the database side).
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { TTelemetryBatch } from '@fleetplane/contracts';
import { exampleGpuSample } from '@fleetplane/contracts/testing';
import { createPrismaClient, type PrismaClient } from '@fleetplane/db';
import { createTestDatabase } from '@fleetplane/db/testing';
import {
  applyTelemetryRetention,
  authenticateAgent,
  ensurePartitions,
  closeTelemetryPools,
  clusterGpuGrid,
  evaluateFleetHealth,
  fleetUtilisation,
  getTelemetryPool,
  gpuSeries,
  hashSecret,
  ingestTelemetry,
  newSecret,
  NODE_CREDENTIAL_PREFIX,
  renderFleetMetrics,
  rollupMinutes,
  secretPrefix,
} from '@fleetplane/services';
import { partitionStart } from '@fleetplane/domain';
import { percentile } from './proc';

const { values: args } = parseArgs({
  options: {
    gpus: { type: 'string', default: '256' },
    'raw-hours': { type: 'string', default: '48' },
    repeats: { type: 'string', default: '30' },
    json: { type: 'string' },
  },
});
const GPUS_PER_NODE = 8;
const NODES = Math.max(1, Math.round(Number(args.gpus) / GPUS_PER_NODE));
const RAW_HOURS = Number(args['raw-hours']);
const REPEATS = Number(args.repeats);
const INTERVAL_S = 10;

interface FleetNode {
  nodeId: string;
  hostname: string;
  credential: string;
  gpus: { id: string; uuid: string; index: number; pciBusId: string }[];
}

async function createFleet(prisma: PrismaClient): Promise<{ clusterId: string; nodes: FleetNode[] }> {
  const site = await prisma.site.create({ data: { name: 'bench-site', region: 'eu-west', dataResidency: 'eu' } });
  const cluster = await prisma.cluster.create({
    data: { name: 'bench-cluster', siteId: site.id, servingEngine: 'vllm', engineVersion: '0.11.2' },
  });
  const nodes: FleetNode[] = [];
  for (let n = 0; n < NODES; n += 1) {
    const hostname = `bench-node-${String(n).padStart(3, '0')}`;
    const node = await prisma.node.create({ data: { clusterId: cluster.id, hostname } });
    const gpus = [];
    for (let i = 0; i < GPUS_PER_NODE; i += 1) {
      const pciBusId = `00000000:${(0x18 + i * 0x10).toString(16).toUpperCase()}:00.0`;
      const uuid = `GPU-${randomUUID()}`;
      const gpu = await prisma.gpu.create({
        data: { nodeId: node.id, uuid, index: i, model: 'NVIDIA H100 80GB HBM3', memoryMib: 81559, interconnect: 'nvswitch', pciBusId },
      });
      gpus.push({ id: gpu.id, uuid, index: i, pciBusId });
    }
    const credential = newSecret(NODE_CREDENTIAL_PREFIX);
    await prisma.nodeCredential.create({
      data: { nodeId: node.id, tokenHash: hashSecret(credential), tokenPrefix: secretPrefix(credential) },
    });
    nodes.push({ nodeId: node.id, hostname, credential, gpus });
  }
  return { clusterId: cluster.id, nodes };
}

function batchFor(node: FleetNode, at: Date): TTelemetryBatch {
  return {
    batchId: randomUUID(),
    sentAt: at.toISOString(),
    host: { hostname: node.hostname, agentVersion: '0.1.0', driverVersion: '580.95.05', cudaVersion: '13.0' },
    gpuSamples: node.gpus.map((g) =>
      exampleGpuSample({
        sampledAt: at.toISOString(),
        uuid: g.uuid,
        index: g.index,
        pciBusId: g.pciBusId,
        memoryUsedMib: 60_000 + Math.round(Math.random() * 10_000),
        utilizationGpuPct: Math.round(Math.random() * 100),
        temperatureC: 55 + Math.round(Math.random() * 20),
        powerDrawW: 300 + Math.round(Math.random() * 350),
      }),
    ),
    xidEvents: [],
    engineSamples: [],
    droppedSamples: 0,
  };
}

/**
 * Synthetic history written by Postgres itself (generate_series), in hour-sized slices so no single
 * statement holds millions of rows in memory. Rows end `endAgoMinutes` before now.
 */
async function fillRaw(prisma: PrismaClient, now: Date, fromHoursAgo: number, toMinutesAgo: number): Promise<number> {
  let rows = 0;
  const toMs = now.getTime() - toMinutesAgo * 60_000;
  for (let start = now.getTime() - fromHoursAgo * 3_600_000; start < toMs; start += 3_600_000) {
    // Hour slices, the last one cut at `toMinutesAgo`.
    const stop = Math.min(start + 3_600_000, toMs);
    rows += await prisma.$executeRaw`
      INSERT INTO gpu_sample (gpu_id, sampled_at, node_id, utilization_gpu_pct, utilization_memory_pct, memory_used_mib, memory_total_mib,
                              temperature_c, power_draw_w, power_limit_w, sm_clock_mhz, ecc_corrected_volatile, ecc_uncorrected_volatile,
                              clocks_event_reasons, remapped_rows_correctable, remapped_rows_uncorrectable, remapped_rows_pending, remapped_rows_failure)
      SELECT g.id, t, g.node_id, (random() * 100)::float8, 40, 60000 + (random() * 10000)::int, 81559, 55 + random() * 20, 300 + random() * 350, 700,
             1980, 0, 0, 0, 0, 0, false, false
        FROM gpu g CROSS JOIN generate_series(${new Date(start)}::timestamptz, ${new Date(stop - 1)}::timestamptz, ${`${INTERVAL_S} seconds`}::interval) AS t
      ON CONFLICT DO NOTHING`;
  }
  return rows;
}

/** Rollup buckets from `fromDaysAgo` up to `toDaysAgo` (exclusive), a day per statement. */
async function fillRollups(
  prisma: PrismaClient,
  now: Date,
  resolution: 'minute' | 'hour',
  fromDaysAgo: number,
  toDaysAgo: number,
): Promise<number> {
  const step = resolution === 'minute' ? '1 minute' : '1 hour';
  const stepMs = resolution === 'minute' ? 60_000 : 3_600_000;
  let rows = 0;
  for (let d = fromDaysAgo; d > toDaysAgo; d -= 1) {
    const from = new Date(now.getTime() - d * 86_400_000);
    const to = new Date(now.getTime() - (d - 1) * 86_400_000 - stepMs);
    rows += await prisma.$executeRaw`
      INSERT INTO gpu_rollup (gpu_id, resolution, bucket_start, sample_count, utilization_gpu_avg, utilization_gpu_max, memory_used_mib_avg,
                              memory_used_mib_max, temperature_c_avg, temperature_c_max, power_draw_w_avg, power_draw_w_max)
      SELECT g.id, ${resolution}::"RollupResolution", date_trunc(${resolution}, t), ${resolution === 'minute' ? 6 : 360}, random() * 100, 100, 65000, 70000,
             65, 75, 500, 650
        FROM gpu g CROSS JOIN generate_series(${from}::timestamptz, ${to}::timestamptz, ${step}::interval) AS t
      ON CONFLICT DO NOTHING`;
  }
  return rows;
}

async function timeIt(repeats: number, fn: (i: number) => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  await fn(-1); // warm caches and prepared statements
  const ms: number[] = [];
  for (let i = 0; i < repeats; i += 1) {
    const t0 = performance.now();
    await fn(i);
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 50), p99: percentile(ms, 99) };
}

async function main() {
  console.log(
    `bench:telemetry-storage — ${NODES * GPUS_PER_NODE} GPUs (${NODES} nodes), ${RAW_HOURS} h raw at ${INTERVAL_S} s, 14 d minute and 365 d hour rollups`,
  );
  console.log(
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const db = await createTestDatabase('fp_bench_storage');
  const prisma = createPrismaClient(db.url, { max: 4 });
  const pool = getTelemetryPool(db.url, 4);
  try {
    const { clusterId, nodes } = await createFleet(prisma);
    // The raw tables are partitioned by hour: every hour the fill writes gets its partition first, as the
    // worker's retention job would have created them while the data arrived.
    const fillFrom = new Date(Date.now() - (RAW_HOURS + 2) * 3_600_000);
    for (const table of ['gpu_sample', 'engine_sample'] as const) {
      await ensurePartitions(prisma, table, { from: fillFrom, to: new Date(Date.now() + 6 * 3_600_000) });
    }
    const identities = await Promise.all(nodes.map((n) => authenticateAgent(pool, n.credential)));
    const now = new Date(Math.floor(Date.now() / 60_000) * 60_000);
    let ingestClock = now.getTime() - 5 * 60_000;

    const operations: Record<string, (i: number) => Promise<unknown>> = {
      'ingest one 8-GPU batch': (i) => {
        const n = Math.abs(i) % nodes.length;
        ingestClock += 1; // a fresh instant per batch: (gpu, sampled_at) is the key
        return ingestTelemetry(pool, identities[n]!, batchFor(nodes[n]!, new Date(ingestClock)), now);
      },
      'fleet overview (fleetUtilisation)': () => fleetUtilisation({ prisma }, now),
      'cluster node × GPU grid': () => clusterGpuGrid({ prisma }, { clusterId }),
      'GPU chart, last hour (raw)': (i) =>
        gpuSeries({ prisma }, { gpuId: nodes[Math.abs(i) % nodes.length]!.gpus[0]!.id, range: '1h' }, now),
      'GPU chart, last day (minute rollups)': (i) =>
        gpuSeries({ prisma }, { gpuId: nodes[Math.abs(i) % nodes.length]!.gpus[1]!.id, range: '24h' }, now),
      'GPU chart, last week (hour rollups)': (i) =>
        gpuSeries({ prisma }, { gpuId: nodes[Math.abs(i) % nodes.length]!.gpus[2]!.id, range: '7d' }, now),
      '/metrics scrape': () => renderFleetMetrics(prisma, now),
      'health pass (every GPU, node, cluster)': () => evaluateFleetHealth(prisma, { now }),
      'minute rollup of one minute': () =>
        rollupMinutes(prisma, new Date(now.getTime() - 3 * 60_000), new Date(now.getTime() - 2 * 60_000)),
    };

    const measureAll = async (label: string) => {
      const out: Record<string, { p50: number; p99: number }> = {};
      for (const [name, fn] of Object.entries(operations)) {
        const repeats = name.startsWith('ingest')
          ? REPEATS * 10
          : name.startsWith('health')
            ? Math.max(5, Math.round(REPEATS / 3))
            : REPEATS;
        out[name] = await timeIt(repeats, fn);
        console.log(`  [${label}] ${name}: p50 ${out[name].p50.toFixed(1)} ms, p99 ${out[name].p99.toFixed(1)} ms`);
      }
      return out;
    };

    // The reference holds exactly what the views read (an hour of raw samples, a day of minute rollups,
    // a week of hour rollups), so each query returns the same rows in both states: only the tables grow.
    console.log('reference: 1 h of raw samples, 1 d of minute and 7 d of hour rollups');
    await fillRaw(prisma, now, 1, 0);
    await fillRollups(prisma, now, 'minute', 1, 0);
    await fillRollups(prisma, now, 'hour', 7, 0);
    await prisma.$executeRawUnsafe('VACUUM ANALYZE gpu_sample');
    await prisma.$executeRawUnsafe('VACUUM ANALYZE gpu_rollup');
    const reference = await measureAll('reference');

    console.log(`filling ${RAW_HOURS} h of raw samples, 14 d of minute and 365 d of hour rollups, and 1 h past retention…`);
    const t0 = performance.now();
    const raw = await fillRaw(prisma, new Date(now.getTime() - 3_600_000), RAW_HOURS - 1, 0);
    const expired = await fillRaw(prisma, new Date(now.getTime() - RAW_HOURS * 3_600_000), 1, 0);
    const minutes = await fillRollups(prisma, now, 'minute', 14, 1);
    const hours = await fillRollups(prisma, now, 'hour', 365, 7);
    await prisma.$executeRawUnsafe('VACUUM ANALYZE gpu_sample');
    await prisma.$executeRawUnsafe('VACUUM ANALYZE gpu_rollup');
    const fillS = (performance.now() - t0) / 1000;
    const [sizes] = await prisma.$queryRaw<{ raw_rows: number; raw_mb: number; rollup_rows: number; rollup_mb: number }[]>`
      SELECT (SELECT COUNT(*) FROM gpu_sample)::int AS raw_rows, (SELECT SUM(pg_total_relation_size(relid)) FROM pg_partition_tree('gpu_sample')) / 1048576.0 AS raw_mb,
             (SELECT COUNT(*) FROM gpu_rollup)::int AS rollup_rows, pg_total_relation_size('gpu_rollup') / 1048576.0 AS rollup_mb`;
    const { raw_rows, raw_mb, rollup_rows, rollup_mb } = sizes!;
    console.log(
      `  wrote ${raw + expired} raw rows, ${minutes + hours} rollup rows in ${fillS.toFixed(0)} s; gpu_sample ${raw_rows} rows / ${Number(raw_mb).toFixed(0)} MB, gpu_rollup ${rollup_rows} rows / ${Number(rollup_mb).toFixed(0)} MB`,
    );

    console.log('full: a whole retention window');
    const full = await measureAll('full');

    const r0 = performance.now();
    const cutoff = new Date(now.getTime() - RAW_HOURS * 3_600_000);
    const [counted] = await prisma.$queryRaw<{ rows: number; inside: number }[]>`
      SELECT COUNT(*)::int AS rows, COUNT(*) FILTER (WHERE sampled_at >= ${cutoff})::int AS inside FROM gpu_sample`;
    const { rows: rawBefore, inside: insideBefore } = counted!;
    const retention = await applyTelemetryRetention(prisma, { now, policy: { rawHours: RAW_HOURS } });
    const retentionS = (performance.now() - r0) / 1000;
    const [afterCount] = await prisma.$queryRaw<{ rows: number }[]>`SELECT COUNT(*)::int AS rows FROM gpu_sample`;
    const rawAfter = afterCount!.rows;
    const deletedRaw = rawBefore - rawAfter;
    const droppedParts = retention.partitions.gpu_sample.dropped.map((d) => d.name);
    console.log(
      `retention: removed ${deletedRaw} of ${expired} expired raw rows in ${retentionS.toFixed(2)} s by dropping ${droppedParts.join(', ') || 'no partition'} ` +
        `(the hour straddling the cutoff is kept whole until it has expired)`,
    );

    console.log('\n| operation | reference p50 / p99 (ms) | full p50 / p99 (ms) | ratio p50 / p99 |\n|---|---|---|---|');
    for (const name of Object.keys(operations)) {
      const a = reference[name]!;
      const b = full[name]!;
      console.log(
        `| ${name} | ${a.p50.toFixed(1)} / ${a.p99.toFixed(1)} | ${b.p50.toFixed(1)} / ${b.p99.toFixed(1)} | ${(b.p50 / a.p50).toFixed(2)} / ${(b.p99 / a.p99).toFixed(2)} |`,
      );
    }
    if (args.json) {
      writeFileSync(
        args.json,
        JSON.stringify(
          {
            gpus: NODES * GPUS_PER_NODE,
            rawHours: RAW_HOURS,
            rawRows: raw_rows,
            rawMb: raw_mb,
            rollupRows: rollup_rows,
            rollupMb: rollup_mb,
            fillSeconds: fillS,
            reference,
            full,
            retention: { deletedRaw, expired, seconds: retentionS },
          },
          null,
          2,
        ),
      );
    }
    // Everything older than the start of the hour holding the cutoff is gone; nothing newer than the cutoff is.
    const [left] = await prisma.$queryRaw<{ older: number; inside: number }[]>`
      SELECT COUNT(*) FILTER (WHERE sampled_at < ${partitionStart(cutoff)})::int AS older, COUNT(*) FILTER (WHERE sampled_at >= ${cutoff})::int AS inside
        FROM gpu_sample`;
    if (left!.older !== 0) throw new Error(`retention left ${left!.older} raw rows older than the hour holding the cutoff`);
    if (left!.inside !== insideBefore) throw new Error(`retention removed ${insideBefore - left!.inside} raw rows inside the window`);
  } finally {
    await prisma.$disconnect();
    await closeTelemetryPools();
    if (!process.env.KEEP_TEST_DATABASE) await db.drop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

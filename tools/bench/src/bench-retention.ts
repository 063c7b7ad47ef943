/**
 * Telemetry retention at fleet size: today's row deletes against dropping hourly partitions, in the same run
 * and on the same rows, plus bytes per row of every telemetry table (projected to a 48 h window at 8,000 GPUs)
 * and the repeatable rollup job's time per run at this size.
 *
 *   npx tsx tools/bench/src/bench-retention.ts [--gpus 8000] [--hours 3] [--expire-hours 1] [--repeats 3] [--json out.json]
 *
 * Method, on a fresh migrated database (no web server, no worker: this isolates Postgres):
 *  1. a fleet of --gpus GPUs (8 per node); --hours of raw GPU samples at the agent's 10 s interval written by
 *     Postgres itself in time order (all GPUs of one instant together, as ingest writes them) into the hourly
 *     partitions of gpu_sample; the same hours of engine samples (one per node), minute rollups and ingest_batch
 *     rows (one per node and interval), for bytes per row;
 *  2. the old layout: gpu_sample_plain, a plain table with the same columns, key, indexes and foreign keys, filled
 *     with the same rows partition by partition (same physical time order); both VACUUM ANALYZEd;
 *  3. the oldest --expire-hours hours expire (the cutoff is an hour boundary, so both remove exactly the same rows):
 *     - delete: the retention statement of before this change (20,000 rows by ctid through the time index,
 *       repeated until done) on gpu_sample_plain, each run under EXPLAIN (ANALYZE, WAL, TIMING OFF) for its exact
 *       WAL, the backend's read/write bytes from /proc/<pid>/io; then the VACUUM that must follow (autovacuum would
 *       run it) with the WAL Postgres wrote meanwhile (server-wide LSN difference: includes anyone else's writes);
 *     - drop: applyPartitionRetention on gpu_sample (what the retention job now runs), with the same LSN difference;
 *  4. (run before step 3) the repeatable rollup job in steady state (watermark one minute back: 11 minutes of raw
 *     samples for the minute buckets, the hours they touch for the hour buckets), --repeats times.
 * Machine load average, busy and steal (/proc/stat) are printed per phase: the VM is shared.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { Prisma, createPrismaClient, type PrismaClient } from '@fleetplane/db';
import { createTestDatabase } from '@fleetplane/db/testing';
import { partitionName, partitionStart, PARTITION_MS } from '@fleetplane/domain';
import {
  applyPartitionRetention,
  deleteExpiredRows,
  ensurePartitions,
  RETENTION_BATCH_ROWS,
  rollupMinutes,
  ROLLUP_WATERMARK_KEY,
  runTelemetryRollup,
} from '@fleetplane/services';
import { machineCpuBetween, machineCpuTicks, type MachineCpuTicks } from './machine-cpu';

const { values: args } = parseArgs({
  options: {
    gpus: { type: 'string', default: '8000' },
    hours: { type: 'string', default: '3' },
    'expire-hours': { type: 'string', default: '1' },
    repeats: { type: 'string', default: '3' },
    json: { type: 'string' },
  },
});
const GPUS_PER_NODE = 8;
const NODES = Math.max(1, Math.round(Number(args.gpus) / GPUS_PER_NODE));
const GPUS = NODES * GPUS_PER_NODE;
const HOURS = Number(args.hours);
const EXPIRE_HOURS = Number(args['expire-hours']);
const REPEATS = Number(args.repeats);
const INTERVAL_S = 10;
const H = PARTITION_MS;
if (!(EXPIRE_HOURS >= 1 && EXPIRE_HOURS < HOURS)) throw new Error('--expire-hours must be at least 1 and less than --hours');

const f = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const mb = (bytes: number) => `${f(bytes / 1048576, 0)} MB`;

interface Phase {
  seconds: number;
  busyPct: number | null;
  stealPct: number | null;
  load1m: number;
}
async function phase<T>(fn: () => Promise<T>): Promise<[T, Phase]> {
  const c0: MachineCpuTicks | null = machineCpuTicks();
  const t0 = performance.now();
  const out = await fn();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = machineCpuBetween(c0, machineCpuTicks());
  return [out, { seconds, busyPct: cpu?.busyPct ?? null, stealPct: cpu?.stealPct ?? null, load1m: loadavg()[0]! }];
}
const machine = (p: Phase) =>
  `busy ${p.busyPct === null ? '?' : f(p.busyPct)}%, steal ${p.stealPct === null ? '?' : f(p.stealPct, 1)}%, load ${f(p.load1m, 1)}`;

async function walLsn(prisma: PrismaClient): Promise<string> {
  const [r] = await prisma.$queryRaw<{ lsn: string }[]>`SELECT pg_current_wal_lsn()::text AS lsn`;
  return r!.lsn;
}
async function walSince(prisma: PrismaClient, lsn: string): Promise<number> {
  const [r] = await prisma.$queryRaw<{ bytes: number }[]>`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), ${lsn}::pg_lsn)::float8 AS bytes`;
  return r!.bytes;
}

/** Bytes and rows of a table, summed over its partitions when it has any. */
async function size(prisma: PrismaClient, table: string, where = Prisma.empty) {
  const [r] = await prisma.$queryRaw<{ total: number; heap: number; indexes: number; rows: number }[]>`
    SELECT SUM(pg_total_relation_size(c.oid))::float8 AS total, SUM(pg_table_size(c.oid))::float8 AS heap,
           SUM(pg_indexes_size(c.oid))::float8 AS indexes,
           (SELECT COUNT(*) FROM ${Prisma.raw(table)} ${where})::float8 AS rows
      FROM pg_class c
     WHERE c.relkind = 'r' AND (c.oid = ${table}::regclass OR c.oid IN (SELECT relid FROM pg_partition_tree(${table}::regclass)))`;
  return { ...r!, perRow: r!.total / Math.max(1, r!.rows) };
}

async function createFleet(prisma: PrismaClient) {
  const site = await prisma.site.create({ data: { name: 'bench-site', region: 'eu-west', dataResidency: 'eu' } });
  const cluster = await prisma.cluster.create({
    data: { name: 'bench-cluster', siteId: site.id, servingEngine: 'vllm', engineVersion: '0.11.2' },
  });
  await prisma.$executeRaw`
    INSERT INTO node (id, cluster_id, hostname, updated_at)
    SELECT 'bn' || lpad(n::text, 5, '0'), ${cluster.id}, 'bench-node-' || lpad(n::text, 5, '0'), now() FROM generate_series(1, ${NODES}) n`;
  await prisma.$executeRaw`
    INSERT INTO gpu (id, node_id, uuid, index, model, memory_mib, interconnect, pci_bus_id, updated_at)
    SELECT 'bg' || lpad(n::text, 5, '0') || '-' || i, 'bn' || lpad(n::text, 5, '0'), 'GPU-' || gen_random_uuid(), i, 'NVIDIA H100 80GB HBM3',
           81559, 'nvswitch', '00000000:' || upper(to_hex(24 + i * 16)) || ':00.0', now()
      FROM generate_series(1, ${NODES}) n CROSS JOIN generate_series(0, ${GPUS_PER_NODE - 1}) i`;
  return cluster.id;
}

/** Raw GPU samples of [from, to) in 10-minute slices, in time order (every GPU of an instant together). */
async function fillGpuSamples(prisma: PrismaClient, table: string, from: number, to: number) {
  for (let start = from; start < to; start += 600_000) {
    const stop = Math.min(start + 600_000, to);
    await prisma.$executeRaw`
      INSERT INTO ${Prisma.raw(table)} (gpu_id, sampled_at, node_id, utilization_gpu_pct, utilization_memory_pct, memory_used_mib, memory_total_mib,
                              temperature_c, power_draw_w, power_limit_w, sm_clock_mhz, ecc_corrected_volatile, ecc_uncorrected_volatile,
                              clocks_event_reasons, remapped_rows_correctable, remapped_rows_uncorrectable, remapped_rows_pending, remapped_rows_failure)
      SELECT g.id, t, g.node_id, (random() * 100)::float8, 40, 60000 + (random() * 10000)::int, 81559, 55 + random() * 20, 300 + random() * 350, 700,
             1980, 0, 0, 0, 0, 0, false, false
        FROM generate_series(${new Date(start)}::timestamptz, ${new Date(stop - 1)}::timestamptz, ${`${INTERVAL_S} seconds`}::interval) AS t
        CROSS JOIN gpu g
       ORDER BY t, g.id`;
  }
}

async function main() {
  console.log(
    `bench:retention — ${f(GPUS)} GPUs (${f(NODES)} nodes), ${HOURS} h of raw samples at ${INTERVAL_S} s, the oldest ${EXPIRE_HOURS} h expiring`,
  );
  console.log(
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const db = await createTestDatabase('fp_bench_retention');
  const prisma = createPrismaClient(db.url, { max: 4 });
  const direct = new pg.Client({ connectionString: db.url });
  await direct.connect();
  const result: Record<string, unknown> = { gpus: GPUS, nodes: NODES, hours: HOURS, expireHours: EXPIRE_HOURS, loadAtStart: loadavg() };
  try {
    const clusterId = await createFleet(prisma);
    const now = Date.now();
    const end = Math.floor(now / 60_000) * 60_000;
    const first = partitionStart(new Date(end)).getTime() - (HOURS - 1) * H; // whole hours, the last one up to `end`
    for (const table of ['gpu_sample', 'engine_sample'] as const) {
      await ensurePartitions(prisma, table, { from: new Date(first), to: new Date(end + 6 * H) });
    }

    // The migration's empty legacy partitions go first, so the timed drop below is only the expired hours.
    for (const table of ['gpu_sample', 'engine_sample'] as const) {
      await applyPartitionRetention(prisma, table, new Date(first), new Date(end), (relation, column, c) =>
        deleteExpiredRows(prisma, relation, column, c),
      );
    }

    // ── 1. fill ──
    const [, fillRaw] = await phase(() => fillGpuSamples(prisma, 'gpu_sample', first, end));
    const [, fillOther] = await phase(async () => {
      await prisma.$executeRaw`
        INSERT INTO engine_sample (node_id, cluster_id, sampled_at, running_requests, waiting_requests, kv_cache_usage_fraction,
                                   prompt_tokens_total, generation_tokens_total, ttft_seconds_sum, ttft_seconds_count)
        SELECT n.id, ${clusterId}, t, 12, 3, random(), 1e9 + random() * 1e6, 4e9 + random() * 1e6, 1e5 * random(), 1e6
          FROM generate_series(${new Date(first)}::timestamptz, ${new Date(end - 1)}::timestamptz, ${`${INTERVAL_S} seconds`}::interval) t CROSS JOIN node n
         ORDER BY t, n.id`;
      await prisma.$executeRaw`
        INSERT INTO ingest_batch (node_id, batch_id, received_at, sample_count)
        SELECT n.id, gen_random_uuid()::text, t, ${GPUS_PER_NODE}
          FROM generate_series(${new Date(first)}::timestamptz, ${new Date(end - 1)}::timestamptz, ${`${INTERVAL_S} seconds`}::interval) t CROSS JOIN node n
         ORDER BY t, n.id`;
      // Minute rollups of the whole window, by the job's own code (also what the hour rollup reads below).
      for (let t = first; t < end; t += 600_000) await rollupMinutes(prisma, new Date(t), new Date(Math.min(t + 600_000, end)));
    });
    await prisma.$executeRawUnsafe('VACUUM ANALYZE gpu_sample, engine_sample, ingest_batch, gpu_rollup');
    console.log(
      `fill: ${HOURS} h of raw samples in ${f(fillRaw.seconds)} s (${machine(fillRaw)}); engine, ingest_batch, minute rollups in ${f(fillOther.seconds)} s`,
    );

    // ── 2. bytes per row, projected ──
    const sizes = {
      gpu_sample: await size(prisma, 'gpu_sample'),
      engine_sample: await size(prisma, 'engine_sample'),
      gpu_rollup: await size(prisma, 'gpu_rollup'),
      ingest_batch: await size(prisma, 'ingest_batch'),
    };
    // Rows each table holds at its retention for 8,000 GPUs (1,000 nodes) reporting every 10 s.
    const perDay = 86_400 / INTERVAL_S;
    const projected = {
      gpu_sample: { rows: 8000 * perDay * 2, window: '48 h' },
      engine_sample: { rows: 1000 * perDay * 2, window: '48 h' },
      gpu_rollup: { rows: 8000 * 1440 * 14 + 8000 * 24 * 365, window: '14 d minute + 365 d hour' },
      ingest_batch: { rows: 1000 * perDay * 7, window: '7 d' },
    };
    console.log(
      '\n| table | rows measured | bytes/row (heap + indexes) | at 8,000 GPUs: window | rows | size |\n|---|---|---|---|---|---|',
    );
    for (const [t, s] of Object.entries(sizes)) {
      const p = projected[t as keyof typeof projected];
      console.log(
        `| ${t} | ${f(s.rows)} | ${f(s.perRow)} (${f(s.heap / s.rows)} + ${f(s.indexes / s.rows)}) | ${p.window} | ${f(p.rows / 1e6, 1)} M | ${f((p.rows * s.perRow) / 1e9, 1)} GB |`,
      );
    }
    result.sizes = sizes;
    result.projected = Object.fromEntries(
      Object.entries(projected).map(([t, p]) => [t, { ...p, bytes: p.rows * sizes[t as keyof typeof sizes].perRow }]),
    );

    // ── 3. the repeatable rollup job at this size (before retention removes the oldest hour) ──
    const runs: { seconds: number; minuteBuckets: number; hourBuckets: number; machine: Phase }[] = [];
    for (let i = 0; i < REPEATS; i += 1) {
      const watermark = new Date(end - 60_000);
      await prisma.setting.upsert({
        where: { key: ROLLUP_WATERMARK_KEY },
        create: { key: ROLLUP_WATERMARK_KEY, value: watermark.toISOString() },
        update: { value: watermark.toISOString() },
      });
      const [run, p] = await phase(() => runTelemetryRollup(prisma, { now: new Date(end + 5_000) }));
      runs.push({ seconds: p.seconds, minuteBuckets: run.minuteBuckets, hourBuckets: run.hourBuckets, machine: p });
      console.log(
        `rollup run ${i + 1}: ${f(p.seconds, 2)} s, ${f(run.minuteBuckets)} minute and ${f(run.hourBuckets)} hour buckets (${run.from} → ${run.to}; ${machine(p)})`,
      );
    }
    result.rollupRuns = runs;

    // ── 4. the old layout, same rows ──
    const [, copy] = await phase(async () => {
      await prisma.$executeRawUnsafe(`CREATE TABLE gpu_sample_plain (LIKE gpu_sample INCLUDING DEFAULTS)`);
      await prisma.$executeRawUnsafe(`ALTER TABLE gpu_sample_plain ADD PRIMARY KEY (gpu_id, sampled_at)`);
      await prisma.$executeRawUnsafe(`CREATE INDEX ON gpu_sample_plain (sampled_at)`);
      await prisma.$executeRawUnsafe(`CREATE INDEX ON gpu_sample_plain (node_id, sampled_at)`);
      await prisma.$executeRawUnsafe(
        `ALTER TABLE gpu_sample_plain ADD FOREIGN KEY (gpu_id) REFERENCES gpu(id) ON DELETE CASCADE ON UPDATE CASCADE`,
      );
      await prisma.$executeRawUnsafe(
        `ALTER TABLE gpu_sample_plain ADD FOREIGN KEY (node_id) REFERENCES node(id) ON DELETE CASCADE ON UPDATE CASCADE`,
      );
      for (let t = first; t < end; t += H) {
        await prisma.$executeRawUnsafe(
          `INSERT INTO gpu_sample_plain SELECT * FROM ${partitionName('gpu_sample', new Date(t))} ORDER BY sampled_at, gpu_id`,
        );
      }
      await prisma.$executeRawUnsafe('VACUUM ANALYZE gpu_sample_plain');
    });
    const plainSize = await size(prisma, 'gpu_sample_plain');
    console.log(
      `\nold layout: gpu_sample_plain ${f(plainSize.rows)} rows, ${mb(plainSize.total)} (${f(plainSize.perRow)} bytes/row), copied in ${f(copy.seconds)} s`,
    );
    result.plainSize = plainSize;

    // ── 5. retention: delete vs drop ──
    const cutoff = new Date(first + EXPIRE_HOURS * H);
    const expired = Number(
      (await direct.query(`SELECT COUNT(*) AS n FROM gpu_sample_plain WHERE sampled_at < $1`, [cutoff])).rows[0].n as string,
    );
    const pid = (await direct.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const io = () => {
      try {
        const text = readFileSync(`/proc/${pid}/io`, 'utf8');
        const n = (k: string) => Number(new RegExp(`^${k}: (\\d+)`, 'm').exec(text)?.[1] ?? NaN);
        return { read: n('read_bytes'), write: n('write_bytes') };
      } catch {
        return { read: NaN, write: NaN };
      }
    };
    const io0 = io();
    const [del, delPhase] = await phase(async () => {
      let rows = 0;
      let wal = 0;
      let statements = 0;
      for (;;) {
        // The exact statement deleteExpiredRows runs, under EXPLAIN for its WAL.
        const r = await direct.query(
          `EXPLAIN (ANALYZE, WAL, TIMING OFF, FORMAT JSON)
           DELETE FROM gpu_sample_plain WHERE ctid = ANY(ARRAY(
             SELECT ctid FROM gpu_sample_plain WHERE sampled_at < $1 LIMIT ${RETENTION_BATCH_ROWS}))`,
          [cutoff],
        );
        type Node = { 'Actual Rows': number; 'WAL Bytes': number; Plans?: Node[] };
        const plan = (r.rows[0] as { 'QUERY PLAN': { Plan: Node }[] })['QUERY PLAN'][0]!.Plan;
        statements += 1;
        wal += plan['WAL Bytes'];
        // The DELETE node itself reports 0 rows; its TID scan child returns the rows it deleted.
        const step = plan.Plans?.[0]?.['Actual Rows'] ?? 0;
        rows += step;
        if (step < RETENTION_BATCH_ROWS) break;
      }
      return { rows, wal, statements };
    });
    const io1 = io();
    const lsnVacuum = await walLsn(prisma);
    const [, vacuum] = await phase(() => direct.query('VACUUM gpu_sample_plain'));
    const vacuumWal = await walSince(prisma, lsnVacuum);
    // The same deletion through the service function, on a second copy of the expired hours, for its plain time
    // (the EXPLAIN and counting above add their own work).
    await prisma.$executeRawUnsafe(
      `INSERT INTO gpu_sample_plain SELECT * FROM gpu_sample WHERE sampled_at < '${cutoff.toISOString()}' ORDER BY sampled_at, gpu_id`,
    );
    await prisma.$executeRawUnsafe('VACUUM ANALYZE gpu_sample_plain');
    const [serviceRows, servicePhase] = await phase(async () => {
      let total = 0;
      for (;;) {
        const n = await deleteExpiredRows(prisma, Prisma.raw('gpu_sample_plain'), Prisma.raw('sampled_at'), cutoff);
        total += n;
        if (n === 0) break;
      }
      return total;
    });

    const lsnDrop = await walLsn(prisma);
    const [dropped, dropPhase] = await phase(() =>
      applyPartitionRetention(prisma, 'gpu_sample', cutoff, new Date(end), (relation, column, c) =>
        deleteExpiredRows(prisma, relation, column, c),
      ),
    );
    const dropWal = await walSince(prisma, lsnDrop);
    const remaining = Number((await direct.query(`SELECT COUNT(*) AS n FROM gpu_sample WHERE sampled_at < $1`, [cutoff])).rows[0].n);
    const droppedRows = expired - remaining;
    if (del.rows !== expired || serviceRows !== expired || remaining !== 0) {
      throw new Error(
        `rows removed differ: expired ${expired}, delete ${del.rows}, service delete ${serviceRows}, partitions left ${remaining}`,
      );
    }
    const ratio = (servicePhase.seconds + vacuum.seconds) / dropPhase.seconds;
    console.log(`\nretention of ${f(EXPIRE_HOURS)} h (${f(expired)} rows):`);
    console.log('| method | time | rows/s | WAL | backend read / write | machine |\n|---|---|---|---|---|---|');
    console.log(
      `| row delete, ${f(del.statements)} statements of ${f(RETENTION_BATCH_ROWS)} (as before) | ${f(delPhase.seconds, 2)} s | ${f(expired / delPhase.seconds)} | ${mb(del.wal)} (exact) | ${mb(io1.read - io0.read)} / ${mb(io1.write - io0.write)} | ${machine(delPhase)} |`,
    );
    console.log(`| … then VACUUM of the table | ${f(vacuum.seconds, 2)} s | | ${mb(vacuumWal)} (server-wide) | | ${machine(vacuum)} |`);
    console.log(
      `| row delete through deleteExpiredRows, no EXPLAIN | ${f(servicePhase.seconds, 2)} s | ${f(expired / servicePhase.seconds)} | | | ${machine(servicePhase)} |`,
    );
    console.log(
      `| partition drop (${dropped.dropped.map((d) => d.name).join(', ')}) | ${f(dropPhase.seconds * 1000, 1)} ms | ${f(droppedRows / dropPhase.seconds)} | ${f(dropWal / 1024, 1)} kB (server-wide) | | ${machine(dropPhase)} |`,
    );
    console.log(
      `ratio (row delete + vacuum) / partition drop: ${f(ratio)}x; row delete alone / drop: ${f(servicePhase.seconds / dropPhase.seconds)}x`,
    );
    // Keeping up: the job runs every 10 min; an hour of expiry at this size is GPUS * 360 rows.
    const perHourRows = (GPUS * 3600) / INTERVAL_S;
    const deleteSecondsPerHour = (perHourRows / expired) * (servicePhase.seconds + vacuum.seconds);
    console.log(
      `keeping up at ${f(GPUS)} GPUs: ${f(perHourRows)} rows expire per hour; row deletes need ${f(deleteSecondsPerHour, 1)} s of that hour (${f((100 * deleteSecondsPerHour) / 3600, 2)}%), ` +
        `capped at ${f(50 * RETENTION_BATCH_ROWS)} rows per 10-minute run (${f(6 * 50 * RETENTION_BATCH_ROWS)} per hour: enough up to ${f((6 * 50 * RETENTION_BATCH_ROWS * INTERVAL_S) / 3600)} GPUs); ` +
        `a partition drop needs ${f((dropPhase.seconds * 1000) / EXPIRE_HOURS, 1)} ms per hour`,
    );
    result.retention = {
      expiredRows: expired,
      delete: { ...del, ...delPhase, backendIo: { read: io1.read - io0.read, write: io1.write - io0.write } },
      vacuum: { ...vacuum, walServerWide: vacuumWal },
      serviceDelete: servicePhase,
      drop: { ...dropPhase, walServerWide: dropWal, partitions: dropped.dropped },
      ratioDeletePlusVacuumToDrop: ratio,
      deleteSecondsPerHourOfExpiry: deleteSecondsPerHour,
    };
  } finally {
    await direct.end();
    await prisma.$disconnect();
    if (args.json) writeFileSync(args.json, JSON.stringify(result, null, 2));
    if (!process.env.KEEP_TEST_DATABASE) await db.drop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

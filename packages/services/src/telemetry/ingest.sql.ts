// The telemetry ingest hot path's statements (decision 14): named (prepared) statements on the plain pg
// pool, so each pooled connection parses and plans them once; one read and ONE data-modifying statement
// per batch. ingest.service.ts decides what to write; this module only says how.
import type { TTelemetryBatch } from '@fleetplane/contracts';
import { withPoolTransaction, type TelemetryPool } from './telemetry-pool.sql';

export interface GpuRow {
  id: string;
  uuid: string;
  node_id: string;
  pci_bus_id: string | null;
  interconnect: string;
}

export interface CredentialRow {
  id: string;
  node_id: string;
  cluster_id: string;
  hostname: string;
  revoked_at: Date | null;
}

const AUTH_SQL = {
  name: 'fp-ingest-auth',
  text: `SELECT c.id, c.node_id, n.cluster_id, n.hostname, c.revoked_at
           FROM node_credential c JOIN node n ON n.id = c.node_id
          WHERE c.token_hash = $1`,
};

/** The node credential with this hash and its node, revoked or not; null when there is none. */
export async function findNodeCredential(pool: TelemetryPool, tokenHash: string): Promise<CredentialRow | null> {
  const { rows } = await pool.query<CredentialRow>({ ...AUTH_SQL, values: [tokenHash] });
  return rows[0] ?? null;
}

/** Stores a node's measured clock offset alone (a batch refused for its dates stores nothing else). */
export async function recordClockOffset(pool: TelemetryPool, nodeId: string, clockOffsetMs: number): Promise<void> {
  await pool.query({
    name: 'fp-ingest-skew',
    text: 'UPDATE node SET clock_offset_ms = $2::bigint, updated_at = now() WHERE id = $1',
    values: [nodeId, clockOffsetMs],
  });
}

/** Every GPU the batch names plus this node's own GPUs (for PCI matching), and whether the batch is known. */
const LOOKUP_SQL = `
  SELECT EXISTS (SELECT 1 FROM node_credential WHERE id = $4 AND revoked_at IS NULL) AS live,
         EXISTS (SELECT 1 FROM ingest_batch WHERE node_id = $1 AND batch_id = $3) AS seen,
         COALESCE(json_agg(json_build_object('id', g.id, 'uuid', g.uuid, 'node_id', g.node_id, 'pci_bus_id', g.pci_bus_id, 'interconnect', g.interconnect))
                  FILTER (WHERE g.id IS NOT NULL), '[]') AS gpus
    FROM (SELECT 1) one LEFT JOIN gpu g ON g.node_id = $1 OR g.uuid = ANY($2::text[])`;

/** The batch's read: is the credential still live, was this batch stored before, and the GPUs it concerns. */
export async function lookupBatch(
  pool: TelemetryPool,
  q: { nodeId: string; gpuUuids: string[]; batchId: string; credentialId: string },
): Promise<{ live: boolean; seen: boolean; gpus: GpuRow[] }> {
  const { rows } = await pool.query<{ live: boolean; seen: boolean; gpus: GpuRow[] }>({
    name: 'fp-ingest-lookup',
    text: LOOKUP_SQL,
    values: [q.nodeId, q.gpuUuids, q.batchId, q.credentialId],
  });
  return rows[0]!;
}

/**
 * The samples travel to Postgres as JSON objects with one-letter keys (a = uuid, b = sampledAt, …):
 * the batch's long key names are most of its bytes, and shorter text makes both JSON.stringify and
 * Postgres' json_to_recordset about a quarter cheaper per row (measured; docs/performance.md).
 */
export const SAMPLE_FIELDS = [
  ['a', 'uuid', 'text'],
  ['b', 'sampledAt', 'timestamptz'],
  ['c', 'utilizationGpuPct', 'float8'],
  ['d', 'utilizationMemoryPct', 'float8'],
  ['e', 'memoryUsedMib', 'int8'],
  ['f', 'memoryTotalMib', 'int8'],
  ['g', 'temperatureC', 'float8'],
  ['h', 'powerDrawW', 'float8'],
  ['i', 'powerLimitW', 'float8'],
  ['j', 'smClockMhz', 'int8'],
  ['k', 'eccCorrectedVolatile', 'int8'],
  ['l', 'eccUncorrectedVolatile', 'int8'],
  ['m', 'clocksEventReasons', 'int8'],
  ['n', 'remappedRowsCorrectable', 'int8'],
  ['o', 'remappedRowsUncorrectable', 'int8'],
  ['p', 'remappedRowsPending', 'bool'],
  ['q', 'remappedRowsFailure', 'bool'],
  ['r', 'errorStates', 'jsonb'],
] as const;
const SAMPLE_COLUMNS = SAMPLE_FIELDS.map(([key, , type]) => `${key} ${type}`).join(', ');

/** JSON for the write statement: the sample fields under their one-letter keys (SAMPLE_FIELDS). */
export function compactSamplesJson(samples: TTelemetryBatch['gpuSamples']): string {
  return JSON.stringify(
    samples.map((s) => ({
      a: s.uuid,
      b: s.sampledAt,
      c: s.utilizationGpuPct,
      d: s.utilizationMemoryPct,
      e: s.memoryUsedMib,
      f: s.memoryTotalMib,
      g: s.temperatureC,
      h: s.powerDrawW,
      i: s.powerLimitW,
      j: s.smClockMhz,
      k: s.eccCorrectedVolatile,
      l: s.eccUncorrectedVolatile,
      m: s.clocksEventReasons,
      n: s.remappedRowsCorrectable,
      o: s.remappedRowsUncorrectable,
      p: s.remappedRowsPending,
      q: s.remappedRowsFailure,
      // Left out (so null) when there is none: almost every sample, and the cheapest JSON is no JSON.
      r: s.errorStates && s.errorStates.length > 0 ? s.errorStates : undefined,
    })),
  );
}

/**
 * The whole write is ONE statement, so it is one transaction with one commit: the idempotency row and,
 * only when that row is new (`EXISTS (SELECT 1 FROM ins)`), the samples, XIDs, engine samples, node
 * and GPU liveness, the credential's last use and any rollup backfill. Postgres parses the JSON arrays
 * itself (no per-row parameters, no 65,535-parameter limit) and resolves UUIDs to GPU ids through the
 * unique index. A concurrent copy of the same batch waits on the ingest_batch key, finds it taken and
 * writes nothing.
 */
const WRITE_SQL = {
  name: 'fp-ingest-write',
  text: `
  WITH live AS (SELECT 1 FROM node_credential WHERE id = $16 AND revoked_at IS NULL),
  ins AS (
    INSERT INTO ingest_batch (node_id, batch_id, received_at, sample_count)
    SELECT $1::text, $2::text, $3::timestamptz, $4::int WHERE EXISTS (SELECT 1 FROM live)
    ON CONFLICT (node_id, batch_id) DO NOTHING RETURNING node_id),
  smp AS (
    INSERT INTO gpu_sample (gpu_id, sampled_at, node_id, utilization_gpu_pct, utilization_memory_pct, memory_used_mib,
      memory_total_mib, temperature_c, power_draw_w, power_limit_w, sm_clock_mhz, ecc_corrected_volatile,
      ecc_uncorrected_volatile, clocks_event_reasons, remapped_rows_correctable, remapped_rows_uncorrectable,
      remapped_rows_pending, remapped_rows_failure, error_states)
    SELECT g.id, s.b, $1, s.c, s.d, LEAST(s.e, 2147483647)::int, LEAST(s.f, 2147483647)::int, s.g, s.h, s.i, LEAST(s.j, 2147483647)::int,
      s.k, s.l, s.m, LEAST(s.n, 2147483647)::int, LEAST(s.o, 2147483647)::int, s.p, s.q, s.r
    FROM json_to_recordset($5::json) AS s(${SAMPLE_COLUMNS})
    JOIN gpu g ON g.uuid = s.a AND g.node_id = $1
    WHERE EXISTS (SELECT 1 FROM ins)
    ON CONFLICT (gpu_id, sampled_at) DO NOTHING
    RETURNING 1),
  xid AS (
    INSERT INTO xid_event (id, node_id, gpu_id, occurred_at, xid, pci_bus_id, pid, process_name, message, fingerprint, kind, gpu_instance_id, undated)
    SELECT x.id, $1, x.gpu, x.at, x.xid, x.pci, x.pid, x.proc, x.msg, x.fp, x.kind::"XidEventKind", x.gi, x.und
      FROM json_to_recordset($10::json) AS x(id text, gpu text, at timestamptz, xid int, pci text, pid int, proc text, msg text, fp text, kind text, gi int, und bool)
     WHERE EXISTS (SELECT 1 FROM ins)
    ON CONFLICT (fingerprint) DO NOTHING
    RETURNING 1),
  eng AS (
    INSERT INTO engine_sample (node_id, cluster_id, sampled_at, running_requests, waiting_requests, kv_cache_usage_fraction,
      prompt_tokens_total, generation_tokens_total, ttft_seconds_sum, ttft_seconds_count, ttft_buckets,
      requests_finished_total, requests_failed_total)
    SELECT $1, $12, e."sampledAt", e."runningRequests", e."waitingRequests", e."kvCacheUsageFraction",
      e."promptTokensTotal", e."generationTokensTotal", e."ttftSecondsSum", e."ttftSecondsCount", e."ttftBuckets",
      e."requestsFinishedTotal", e."requestsFailedTotal"
      FROM json_to_recordset($11::json) AS e("sampledAt" timestamptz, "runningRequests" float8, "waitingRequests" float8,
        "kvCacheUsageFraction" float8, "promptTokensTotal" float8, "generationTokensTotal" float8, "ttftSecondsSum" float8, "ttftSecondsCount" float8,
        "ttftBuckets" jsonb, "requestsFinishedTotal" float8, "requestsFailedTotal" float8)
     WHERE EXISTS (SELECT 1 FROM ins)
    RETURNING 1),
  nod AS (
    UPDATE node SET last_seen_at = GREATEST(COALESCE(last_seen_at, $3::timestamptz), $3::timestamptz), agent_version = $6,
           driver_version = COALESCE($7, driver_version), cuda_version = COALESCE($8, cuda_version), clock_offset_ms = $17::bigint, updated_at = now()
     WHERE id = $1 AND EXISTS (SELECT 1 FROM ins)
    RETURNING 1),
  gtouch AS (
    UPDATE gpu AS g
       SET last_sample_at = GREATEST(g.last_sample_at, v.last),
           index = CASE WHEN g.last_sample_at IS NULL OR v.last >= g.last_sample_at THEN v.idx ELSE g.index END,
           pci_bus_id = CASE WHEN g.last_sample_at IS NULL OR v.last >= g.last_sample_at THEN v.pci ELSE g.pci_bus_id END,
           last_utilization_gpu_pct = CASE WHEN g.last_sample_at IS NULL OR v.last >= g.last_sample_at THEN v.u ELSE g.last_utilization_gpu_pct END,
           last_memory_used_mib = CASE WHEN g.last_sample_at IS NULL OR v.last >= g.last_sample_at THEN LEAST(v.mu, 2147483647)::int ELSE g.last_memory_used_mib END,
           last_memory_total_mib = CASE WHEN g.last_sample_at IS NULL OR v.last >= g.last_sample_at THEN LEAST(v.mt, 2147483647)::int ELSE g.last_memory_total_mib END,
           last_power_draw_w = CASE WHEN g.last_sample_at IS NULL OR v.last >= g.last_sample_at THEN v.pw ELSE g.last_power_draw_w END,
           last_power_limit_w = CASE WHEN g.last_sample_at IS NULL OR v.last >= g.last_sample_at THEN v.pl ELSE g.last_power_limit_w END,
           last_temperature_c = CASE WHEN g.last_sample_at IS NULL OR v.last >= g.last_sample_at THEN v.t ELSE g.last_temperature_c END,
           updated_at = now()
      FROM json_to_recordset($9::json) AS v(id text, last timestamptz, idx int, pci text, u float8, mu int8, mt int8, pw float8, pl float8, t float8)
     WHERE g.id = v.id AND g.node_id = $1 AND EXISTS (SELECT 1 FROM ins)
    RETURNING 1),
  outbox AS (
    INSERT INTO outbox_message (id, queue, job_name, job_id, payload, created_at)
    SELECT r.id, $14, $15, r."jobId", r.payload, $3::timestamptz
      FROM json_to_recordset($13::json) AS r(id text, "jobId" text, payload jsonb)
     WHERE EXISTS (SELECT 1 FROM ins)
    ON CONFLICT (queue, job_id) DO NOTHING
    RETURNING 1),
  cred AS (
    -- Throttled so a node reporting every 10 s does not rewrite its credential row every 10 s.
    UPDATE node_credential SET last_used_at = $3::timestamptz
     WHERE id = $16 AND (last_used_at IS NULL OR last_used_at < $3::timestamptz - interval '1 minute')
    RETURNING 1)
  SELECT EXISTS (SELECT 1 FROM live) AS live, (SELECT count(*) FROM ins)::int AS fresh, (SELECT count(*) FROM smp)::int AS samples, (SELECT count(*) FROM xid)::int AS xids,
         (SELECT count(*) FROM eng)::int AS engine, (SELECT count(*) FROM nod)::int AS nodes, (SELECT count(*) FROM gtouch)::int AS gpus,
         (SELECT count(*) FROM outbox)::int AS backfills, (SELECT count(*) FROM cred)::int AS creds`,
};

/** Everything one batch writes; the arrays are the rows of each table, already resolved to ids. */
export interface BatchWrite {
  nodeId: string;
  clusterId: string;
  credentialId: string;
  batchId: string;
  receivedAt: Date;
  /** Samples, XIDs and engine samples in the batch (the idempotency row's count). */
  itemCount: number;
  gpuSamples: TTelemetryBatch['gpuSamples'];
  host: TTelemetryBatch['host'];
  /** Per GPU, its newest sample in the batch: time, index, PCI slot and the gauges kept on the GPU row (gpu.last_*). */
  gpuTouches: {
    id: string | undefined;
    last: string;
    idx: number;
    pci: string | null;
    u: number | null;
    mu: number | null;
    mt: number | null;
    pw: number | null;
    pl: number | null;
    t: number | null;
  }[];
  xids: object[];
  engineSamples: TTelemetryBatch['engineSamples'];
  backfills: { id: string; jobId: string; payload: object }[];
  backfillQueue: string;
  backfillJobName: string;
  clockOffsetMs: number;
}

export interface BatchWriteResult {
  /** False when the credential was revoked between the read and the write: nothing was stored. */
  live: boolean;
  /** 0 when the batch id was stored before (a duplicate): nothing was stored. */
  fresh: number;
  samples: number;
  xids: number;
  engine: number;
}

const DEADLOCK = '40P01';

/** The batch's one write statement (see WRITE_SQL). Two batches of one node racing on its rows can deadlock; the loser runs once more. */
export async function writeBatch(pool: TelemetryPool, w: BatchWrite): Promise<BatchWriteResult> {
  const values = [
    w.nodeId,
    w.batchId,
    w.receivedAt,
    w.itemCount,
    compactSamplesJson(w.gpuSamples),
    w.host.agentVersion,
    w.host.driverVersion,
    w.host.cudaVersion,
    JSON.stringify(w.gpuTouches),
    JSON.stringify(w.xids),
    JSON.stringify(w.engineSamples),
    w.clusterId,
    JSON.stringify(w.backfills),
    w.backfillQueue,
    w.backfillJobName,
    w.credentialId,
    w.clockOffsetMs,
  ];
  try {
    return (await pool.query<BatchWriteResult>({ ...WRITE_SQL, values })).rows[0]!;
  } catch (e) {
    if ((e as { code?: string }).code !== DEADLOCK) throw e;
    return (await pool.query<BatchWriteResult>({ ...WRITE_SQL, values })).rows[0]!;
  }
}

/**
 * Registers GPUs a node reports for the first time, each with its `gpu.register` audit event, in one
 * short transaction. A UUID another request registered first is skipped (ON CONFLICT): the caller looks
 * it up with gpusByUuid. Returns the rows inserted.
 */
export function registerGpus(
  pool: TelemetryPool,
  r: {
    nodeId: string;
    interconnect: string;
    gpus: { id: string; uuid: string; idx: number; model: string; mem: number; pci: string | null }[];
    audit: { at: Date; actorLabel: string; eventFor: (row: GpuRow) => { id: string; target: string; after: object } };
  },
): Promise<GpuRow[]> {
  return withPoolTransaction(pool, async (client) => {
    const inserted = await client.query<GpuRow>(
      `INSERT INTO gpu (id, node_id, uuid, index, model, memory_mib, interconnect, pci_bus_id, updated_at)
       SELECT r.id, $2, r.uuid, r.idx, r.model, r.mem, $3::"Interconnect", r.pci, now()
         FROM json_to_recordset($1::json) AS r(id text, uuid text, idx int, model text, mem int, pci text)
       ON CONFLICT (uuid) DO NOTHING
       RETURNING id, uuid, node_id, pci_bus_id, interconnect::text AS interconnect`,
      [JSON.stringify(r.gpus), r.nodeId, r.interconnect],
    );
    await client.query(
      `INSERT INTO audit_event (id, occurred_at, actor_type, actor_label, action, target_type, target_id, after)
       SELECT a.id, $2, 'agent', $3, 'gpu.register', 'gpu', a.target, a.after
         FROM json_to_recordset($1::json) AS a(id text, target text, after jsonb)`,
      [JSON.stringify(inserted.rows.map(r.audit.eventFor)), r.audit.at, r.audit.actorLabel],
    );
    return inserted.rows;
  });
}

/** The GPUs with these UUIDs, whichever node they belong to. */
export async function gpusByUuid(pool: TelemetryPool, uuids: string[]): Promise<GpuRow[]> {
  const { rows } = await pool.query<GpuRow>(
    `SELECT id, uuid, node_id, pci_bus_id, interconnect::text AS interconnect FROM gpu WHERE uuid = ANY($1::text[])`,
    [uuids],
  );
  return rows;
}

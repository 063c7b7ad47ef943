import { createHash } from 'node:crypto';
import type pg from 'pg';
import {
  MAX_CLOCK_SKEW_SECONDS,
  normalisePciBusId,
  rollupBackfillJobId,
  telemetryRollupJob,
  type TTelemetryBatch,
  type TTelemetryResponse,
} from '@fleetplane/contracts';
import { bucketStart } from '@fleetplane/domain';
import { newRowId } from '../shared/ids';
import { hashSecret } from '../shared/secrets';
import { AgentApiError } from '../shared/agent-api-error';

/** Who is calling: resolved from the Bearer credential, never from anything in the body. */
export interface AgentIdentity {
  credentialId: string;
  /** sha256 of the credential (the cache key); absent when the identity did not come from authenticateAgent. */
  credentialHash?: string;
  nodeId: string;
  clusterId: string;
  hostname: string;
}

/**
 * Samples older than this when they arrive (an agent replaying its disk queue after an outage) fall
 * outside the repeatable rollup's window, so ingest schedules a backfill of their hours.
 */
export const LATE_SAMPLE_SECONDS = 10 * 60;

// Revoked or unknown look the same from outside: no hint which credentials exist.
const UNAUTHORIZED = 'This node credential is unknown or was revoked. Re-enroll the node with a new join token.';

// Named (prepared) statements: each pooled connection parses and plans them once.
const AUTH_SQL = {
  name: 'fp-ingest-auth',
  text: `SELECT c.id, c.node_id, n.cluster_id, n.hostname, c.revoked_at
           FROM node_credential c JOIN node n ON n.id = c.node_id
          WHERE c.token_hash = $1`,
};

/**
 * Credential hash → identity, for a minute. Only the mapping is cached, never the verdict: the read and
 * the write of every batch re-check in SQL that the credential is not revoked (the write in the same
 * statement that stores the rows), so a revoked credential stores nothing from the moment the
 * revocation commits, and the cache saves one round trip per batch. Bounded; per process.
 */
const IDENTITY_TTL_MS = 60_000;
const IDENTITY_CACHE_MAX = 50_000;
const identities = new Map<string, { who: AgentIdentity; until: number }>();

export function forgetAgentIdentity(credentialHash: string): void {
  identities.delete(credentialHash);
}

export async function authenticateAgent(pool: pg.Pool, credential: string, now = Date.now()): Promise<AgentIdentity> {
  const hash = hashSecret(credential);
  const cached = identities.get(hash);
  if (cached && cached.until > now) return cached.who;
  const { rows } = await pool.query<{ id: string; node_id: string; cluster_id: string; hostname: string; revoked_at: Date | null }>({
    ...AUTH_SQL,
    values: [hash],
  });
  const row = rows[0];
  if (!row || row.revoked_at) {
    identities.delete(hash);
    throw new AgentApiError('unauthorized', UNAUTHORIZED);
  }
  const who = { credentialId: row.id, credentialHash: hash, nodeId: row.node_id, clusterId: row.cluster_id, hostname: row.hostname };
  if (identities.size >= IDENTITY_CACHE_MAX) identities.delete(identities.keys().next().value!);
  identities.set(hash, { who, until: now + IDENTITY_TTL_MS });
  return who;
}

function revoked(who: AgentIdentity): AgentApiError {
  if (who.credentialHash) forgetAgentIdentity(who.credentialHash);
  return new AgentApiError('unauthorized', UNAUTHORIZED);
}

interface GpuRow {
  id: string;
  uuid: string;
  node_id: string;
  pci_bus_id: string | null;
  interconnect: string;
}

export interface IngestOutcome extends TTelemetryResponse {
  registeredGpus: string[];
}

/** Every GPU the batch names plus this node's own GPUs (for PCI matching), and whether the batch is known. */
const LOOKUP_SQL = `
  SELECT EXISTS (SELECT 1 FROM node_credential WHERE id = $4 AND revoked_at IS NULL) AS live,
         EXISTS (SELECT 1 FROM ingest_batch WHERE node_id = $1 AND batch_id = $3) AS seen,
         COALESCE(json_agg(json_build_object('id', g.id, 'uuid', g.uuid, 'node_id', g.node_id, 'pci_bus_id', g.pci_bus_id, 'interconnect', g.interconnect))
                  FILTER (WHERE g.id IS NOT NULL), '[]') AS gpus
    FROM (SELECT 1) one LEFT JOIN gpu g ON g.node_id = $1 OR g.uuid = ANY($2::text[])`;

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
           updated_at = now()
      FROM json_to_recordset($9::json) AS v(id text, last timestamptz, idx int, pci text)
     WHERE g.id = v.id AND EXISTS (SELECT 1 FROM ins)
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

const DEADLOCK = '40P01';

/**
 * Stores one validated batch for the authenticated node, all or nothing. Two round trips in the
 * common case (three when the credential is not in the identity cache): one read (credential still
 * live? known batch? which GPUs?) and one write statement. A batch id seen before is acknowledged as a duplicate and nothing is written.
 * A GPU UUID registered to another node refuses the whole batch (403): an agent may only ever write
 * for its own node. GPUs the node reports for the first time are registered first.
 */
export async function ingestTelemetry(
  pool: pg.Pool,
  who: AgentIdentity,
  batch: TTelemetryBatch,
  receivedAt = new Date(),
): Promise<IngestOutcome> {
  const ahead = futureDated(batch, receivedAt);
  if (ahead) {
    // Nothing of the batch is stored; the node's clock offset is, so its health says why it went quiet.
    await pool.query({
      name: 'fp-ingest-skew',
      text: 'UPDATE node SET clock_offset_ms = $2::bigint, updated_at = now() WHERE id = $1',
      values: [who.nodeId, clockOffset(batch, receivedAt)],
    });
    throw ahead;
  }
  const duplicate: IngestOutcome = {
    accepted: true,
    duplicate: true,
    stored: { gpuSamples: 0, xidEvents: 0, engineSamples: 0 },
    registeredGpus: [],
  };
  const named = new Set<string>();
  for (const s of batch.gpuSamples) named.add(s.uuid);
  for (const x of batch.xidEvents) if (x.gpuUuid) named.add(x.gpuUuid);
  const lookup = await pool.query<{ live: boolean; seen: boolean; gpus: GpuRow[] }>({
    name: 'fp-ingest-lookup',
    text: LOOKUP_SQL,
    values: [who.nodeId, [...named], batch.batchId, who.credentialId],
  });
  const { live, seen, gpus: rows } = lookup.rows[0]!;
  if (!live) throw revoked(who);
  if (seen) return duplicate;
  const gpus = new Map(rows.map((r) => [r.uuid, r]));
  for (const uuid of named) {
    const row = gpus.get(uuid);
    if (row && row.node_id !== who.nodeId) throw foreignGpu(uuid, who);
  }
  const registeredGpus = await registerUnknownGpus(pool, who, batch, gpus, receivedAt);

  const values = [
    who.nodeId,
    batch.batchId,
    receivedAt,
    batch.gpuSamples.length + batch.xidEvents.length + batch.engineSamples.length,
    compactSamplesJson(batch.gpuSamples),
    batch.host.agentVersion,
    batch.host.driverVersion,
    batch.host.cudaVersion,
    JSON.stringify(gpuTouches(batch, gpus)),
    JSON.stringify(xidRows(who, batch, gpus)),
    JSON.stringify(batch.engineSamples),
    who.clusterId,
    JSON.stringify(backfillRows(who, batch, receivedAt)),
    telemetryRollupJob.queue,
    telemetryRollupJob.name,
    who.credentialId,
    clockOffset(batch, receivedAt),
  ];
  let result: pg.QueryResult<{ live: boolean; fresh: number; samples: number; xids: number; engine: number }>;
  try {
    result = await pool.query({ ...WRITE_SQL, values });
  } catch (e) {
    // Two batches of one node racing on its rows can deadlock; the loser simply runs once more.
    if ((e as { code?: string }).code !== DEADLOCK) throw e;
    result = await pool.query({ ...WRITE_SQL, values });
  }
  const out = result.rows[0]!;
  // Revoked between the read and the write: the statement stored nothing.
  if (!out.live) throw revoked(who);
  if (out.fresh === 0) return { ...duplicate, registeredGpus };
  return {
    accepted: true,
    duplicate: false,
    stored: { gpuSamples: out.samples, xidEvents: out.xids, engineSamples: out.engine },
    registeredGpus,
  };
}

/**
 * The node's clock minus ours in ms: what the agent measured (v1 revision 2), else estimated from the
 * batch's `sentAt`, which the agent stamps just before sending (off by the network and queueing delay,
 * milliseconds against a tolerance of minutes).
 */
export function clockOffset(batch: TTelemetryBatch, receivedAt: Date): number {
  return batch.clockOffsetMs ?? Date.parse(batch.sentAt) - receivedAt.getTime();
}

/**
 * Refuses a batch with any timestamp more than MAX_CLOCK_SKEW_SECONDS ahead of the server's clock: a
 * sample from "2099" would stay its GPU's newest reading, and freeze its health, until 2099. The error
 * names the first offending field and by how much it is ahead; every offending field is listed (capped).
 */
export function futureDated(batch: TTelemetryBatch, receivedAt: Date): AgentApiError | null {
  const limit = receivedAt.getTime() + MAX_CLOCK_SKEW_SECONDS * 1000;
  const issues: { path: string; message: string; aheadMs: number }[] = [];
  const check = (path: string, iso: string) => {
    const at = Date.parse(iso);
    if (at > limit && issues.length < 100)
      issues.push({
        path,
        message: `${iso} is ${describeAhead(at - receivedAt.getTime())} ahead of the server clock`,
        aheadMs: at - receivedAt.getTime(),
      });
  };
  check('sentAt', batch.sentAt);
  batch.gpuSamples.forEach((s, i) => check(`gpuSamples.${i}.sampledAt`, s.sampledAt));
  batch.xidEvents.forEach((x, i) => check(`xidEvents.${i}.occurredAt`, x.occurredAt));
  batch.engineSamples.forEach((e, i) => check(`engineSamples.${i}.sampledAt`, e.sampledAt));
  const [first] = issues;
  if (!first) return null;
  return new AgentApiError(
    'invalid_payload',
    `Clock skew: ${first.path} (${first.message}, server time ${receivedAt.toISOString()}) is more than the tolerated ${MAX_CLOCK_SKEW_SECONDS / 60} min ahead. ` +
      `Fix the node's clock (NTP/chrony); nothing from this batch was stored.`,
    issues.map(({ path, message }) => ({ path, message })),
  );
}

function describeAhead(ms: number): string {
  const seconds = ms / 1000;
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h`;
  if (seconds < 63_072_000) return `${Math.round(seconds / 86_400)} days`;
  return `${Math.round(seconds / 31_557_600)} years`;
}

function foreignGpu(uuid: string, who: AgentIdentity): AgentApiError {
  return new AgentApiError(
    'forbidden',
    `GPU ${uuid} is registered to another node; this credential may only report for node ${who.hostname}. Nothing from this batch was stored.`,
  );
}

type Sample = TTelemetryBatch['gpuSamples'][number];

function newestByUuid(samples: readonly Sample[], keep: (uuid: string) => boolean): Map<string, Sample> {
  const newest = new Map<string, { sample: Sample; at: number }>();
  // One collection's samples share a timestamp string: parse each distinct string once.
  const parsed = new Map<string, number>();
  for (const s of samples) {
    if (!keep(s.uuid)) continue;
    let at = parsed.get(s.sampledAt);
    if (at === undefined) parsed.set(s.sampledAt, (at = Date.parse(s.sampledAt)));
    const seen = newest.get(s.uuid);
    if (!seen || at > seen.at) newest.set(s.uuid, { sample: s, at });
  }
  return new Map([...newest].map(([uuid, v]) => [uuid, v.sample]));
}

/**
 * A GPU the node reports for the first time is registered (never dropped), in its own short transaction
 * with an audit event, before the batch is written. It gets its siblings' interconnect, PCIe (the safe
 * guess) when it has none.
 */
async function registerUnknownGpus(
  pool: pg.Pool,
  who: AgentIdentity,
  batch: TTelemetryBatch,
  gpus: Map<string, GpuRow>,
  now: Date,
): Promise<string[]> {
  const unknown = newestByUuid(batch.gpuSamples, (uuid) => !gpus.has(uuid));
  if (unknown.size === 0) return [];
  const interconnect = [...gpus.values()].find((g) => g.node_id === who.nodeId)?.interconnect ?? 'pcie';
  const rows = [...unknown.values()].map((s) => ({
    id: newRowId(),
    uuid: s.uuid,
    idx: s.index,
    model: s.name,
    mem: s.memoryTotalMib ?? 0,
    pci: s.pciBusId,
  }));
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const inserted = await client.query<GpuRow>(
      `INSERT INTO gpu (id, node_id, uuid, index, model, memory_mib, interconnect, pci_bus_id, updated_at)
       SELECT r.id, $2, r.uuid, r.idx, r.model, r.mem, $3::"Interconnect", r.pci, now()
         FROM json_to_recordset($1::json) AS r(id text, uuid text, idx int, model text, mem int, pci text)
       ON CONFLICT (uuid) DO NOTHING
       RETURNING id, uuid, node_id, pci_bus_id, interconnect::text AS interconnect`,
      [JSON.stringify(rows), who.nodeId, interconnect],
    );
    await client.query(
      `INSERT INTO audit_event (id, occurred_at, actor_type, actor_label, action, target_type, target_id, after)
       SELECT a.id, $2, 'agent', $3, 'gpu.register', 'gpu', a.target, a.after
         FROM json_to_recordset($1::json) AS a(id text, target text, after jsonb)`,
      [
        JSON.stringify(
          inserted.rows.map((r) => {
            const s = unknown.get(r.uuid)!;
            return {
              id: newRowId(),
              target: r.id,
              after: {
                uuid: r.uuid,
                nodeId: who.nodeId,
                index: s.index,
                model: s.name,
                memoryMib: s.memoryTotalMib,
                pciBusId: s.pciBusId,
                interconnect,
              },
            };
          }),
        ),
        now,
        `agent:${who.hostname}`,
      ],
    );
    await client.query('COMMIT');
    for (const r of inserted.rows) gpus.set(r.uuid, r);
    if (inserted.rows.length < rows.length) {
      // Another request registered one of them first: if that was another node, this batch is refused.
      const missing = rows.filter((r) => !gpus.has(r.uuid)).map((r) => r.uuid);
      const { rows: raced } = await client.query<GpuRow>(
        `SELECT id, uuid, node_id, pci_bus_id, interconnect::text AS interconnect FROM gpu WHERE uuid = ANY($1::text[])`,
        [missing],
      );
      for (const r of raced) {
        if (r.node_id !== who.nodeId) throw foreignGpu(r.uuid, who);
        gpus.set(r.uuid, r);
      }
    }
    return inserted.rows.map((r) => r.uuid);
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}

/** lastSampleAt moves forward only; index and PCI slot follow the newest sample (they can change across boots). */
function gpuTouches(batch: TTelemetryBatch, gpus: Map<string, GpuRow>) {
  return [...newestByUuid(batch.gpuSamples, () => true).values()]
    .map((s) => ({ id: gpus.get(s.uuid)?.id, last: s.sampledAt, idx: s.index, pci: s.pciBusId }))
    .filter((r) => r.id)
    .sort((a, b) => (a.id! < b.id! ? -1 : 1));
}

/** Kernel lines re-read after an agent restart hash to the same fingerprint and are stored once. */
export function xidFingerprint(nodeId: string, rawLine: string): string {
  return createHash('sha256').update(`${nodeId}\n${rawLine}`).digest('hex');
}

/** XIDs join their GPU by UUID when the agent knew it, else by the normalised PCI id among this node's GPUs. */
function xidRows(who: AgentIdentity, batch: TTelemetryBatch, gpus: Map<string, GpuRow>) {
  if (batch.xidEvents.length === 0) return [];
  const byPci = new Map<string, string>();
  for (const g of gpus.values()) {
    const pci = g.node_id === who.nodeId && g.pci_bus_id ? normalisePciBusId(g.pci_bus_id) : null;
    if (pci) byPci.set(pci, g.id);
  }
  return batch.xidEvents.map((x) => ({
    id: newRowId(),
    gpu: (x.gpuUuid ? gpus.get(x.gpuUuid)?.id : undefined) ?? byPci.get(x.pciBusId) ?? null,
    at: x.occurredAt,
    xid: x.xid,
    pci: x.pciBusId,
    pid: x.pid,
    proc: x.processName,
    msg: x.message,
    fp: xidFingerprint(who.nodeId, x.rawLine),
    kind: x.kind ?? 'xid',
    gi: x.gpuInstanceId ?? null,
    und: x.undated ?? false,
  }));
}

/** Old samples (a replayed backlog) get a rollup backfill of their hours through the outbox, in the same write. */
function backfillRows(who: AgentIdentity, batch: TTelemetryBatch, receivedAt: Date) {
  const cutoff = receivedAt.getTime() - LATE_SAMPLE_SECONDS * 1000;
  const hours = new Set<number>();
  let previous = '';
  for (const s of batch.gpuSamples) {
    if (s.sampledAt === previous) continue;
    previous = s.sampledAt;
    const at = Date.parse(s.sampledAt);
    if (at < cutoff) hours.add(bucketStart(new Date(at), 'hour').getTime());
  }
  return [...hours].map((h) => ({
    id: newRowId(),
    jobId: rollupBackfillJobId(who.nodeId, new Date(h), receivedAt),
    payload: { from: new Date(h).toISOString(), to: new Date(h + 3_600_000).toISOString() },
  }));
}

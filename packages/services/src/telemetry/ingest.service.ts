import { createHash } from 'node:crypto';
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
import { findNodeCredential, gpusByUuid, lookupBatch, recordClockOffset, registerGpus, writeBatch, type GpuRow } from './ingest.sql';
import type { TelemetryPool } from './telemetry-pool.sql';

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

export async function authenticateAgent(pool: TelemetryPool, credential: string, now = Date.now()): Promise<AgentIdentity> {
  const hash = hashSecret(credential);
  const cached = identities.get(hash);
  if (cached && cached.until > now) return cached.who;
  const row = await findNodeCredential(pool, hash);
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

export interface IngestOutcome extends TTelemetryResponse {
  registeredGpus: string[];
}

/**
 * Stores one validated batch for the authenticated node, all or nothing. Two round trips in the
 * common case (three when the credential is not in the identity cache): one read (credential still
 * live? known batch? which GPUs?) and one write statement. A batch id seen before is acknowledged as a duplicate and nothing is written.
 * A GPU UUID registered to another node refuses the whole batch (403): an agent may only ever write
 * for its own node. GPUs the node reports for the first time are registered first.
 */
export async function ingestTelemetry(
  pool: TelemetryPool,
  who: AgentIdentity,
  batch: TTelemetryBatch,
  receivedAt = new Date(),
): Promise<IngestOutcome> {
  const ahead = futureDated(batch, receivedAt);
  if (ahead) {
    // Nothing of the batch is stored; the node's clock offset is, so its health says why it went quiet.
    await recordClockOffset(pool, who.nodeId, clockOffset(batch, receivedAt));
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
  const {
    live,
    seen,
    gpus: rows,
  } = await lookupBatch(pool, {
    nodeId: who.nodeId,
    gpuUuids: [...named],
    batchId: batch.batchId,
    credentialId: who.credentialId,
  });
  if (!live) throw revoked(who);
  if (seen) return duplicate;
  const gpus = new Map(rows.map((r) => [r.uuid, r]));
  for (const uuid of named) {
    const row = gpus.get(uuid);
    if (row && row.node_id !== who.nodeId) throw foreignGpu(uuid, who);
  }
  const registeredGpus = await registerUnknownGpus(pool, who, batch, gpus, receivedAt);

  const out = await writeBatch(pool, {
    nodeId: who.nodeId,
    clusterId: who.clusterId,
    credentialId: who.credentialId,
    batchId: batch.batchId,
    receivedAt,
    itemCount: batch.gpuSamples.length + batch.xidEvents.length + batch.engineSamples.length,
    gpuSamples: batch.gpuSamples,
    host: batch.host,
    gpuTouches: gpuTouches(batch, gpus),
    xids: xidRows(who, batch, gpus),
    engineSamples: batch.engineSamples,
    backfills: backfillRows(who, batch, receivedAt),
    backfillQueue: telemetryRollupJob.queue,
    backfillJobName: telemetryRollupJob.name,
    clockOffsetMs: clockOffset(batch, receivedAt),
  });
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
  pool: TelemetryPool,
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
  const inserted = await registerGpus(pool, {
    nodeId: who.nodeId,
    interconnect,
    gpus: rows,
    audit: {
      at: now,
      actorLabel: `agent:${who.hostname}`,
      eventFor: (r) => {
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
      },
    },
  });
  for (const r of inserted) gpus.set(r.uuid, r);
  if (inserted.length < rows.length) {
    // Another request registered one of them first: if that was another node, this batch is refused.
    const missing = rows.filter((r) => !gpus.has(r.uuid)).map((r) => r.uuid);
    for (const r of await gpusByUuid(pool, missing)) {
      if (r.node_id !== who.nodeId) throw foreignGpu(r.uuid, who);
      gpus.set(r.uuid, r);
    }
  }
  return inserted.map((r) => r.uuid);
}

/**
 * lastSampleAt moves forward only; index and PCI slot follow the newest sample (they can change across boots),
 * and so do the newest sample's gauges the fleet overview reads from the GPU row (`gpu.last_*`).
 */
function gpuTouches(batch: TTelemetryBatch, gpus: Map<string, GpuRow>) {
  return [...newestByUuid(batch.gpuSamples, () => true).values()]
    .map((s) => ({
      id: gpus.get(s.uuid)?.id,
      last: s.sampledAt,
      idx: s.index,
      pci: s.pciBusId,
      u: s.utilizationGpuPct,
      mu: s.memoryUsedMib,
      mt: s.memoryTotalMib,
      pw: s.powerDrawW,
      pl: s.powerLimitW,
      t: s.temperatureC,
    }))
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

// The health evaluator's writes: verdicts for every changed GPU, node and cluster in one statement per
// table, and alert rows whose uniqueness (one live alert per condition) the database enforces.
import type { Db } from '@fleetplane/db';
import type { AlertCondition, HealthReason, HealthStatus } from '@fleetplane/domain';

type VerdictTable = 'gpu' | 'node';

/**
 * Sets health and reasons of many GPUs or nodes in one statement however many rows are given, and touches
 * only the rows whose verdict differs from what is stored (jsonb equality, so key order does not matter): a
 * row left alone is neither locked nor rewritten, so ingest batches of its node do not wait for this
 * transaction. Returns the rows written.
 */
export async function writeVerdicts(
  tx: Db,
  table: VerdictTable,
  verdicts: { id: string; status: HealthStatus; reasons: HealthReason[] }[],
): Promise<number> {
  if (verdicts.length === 0) return 0;
  // The table name comes from the closed VerdictTable type, never from input.
  return tx.$executeRawUnsafe(
    `UPDATE ${table} AS t SET health = v.status::"HealthStatus", health_reasons = v.reasons, updated_at = now()
       FROM json_to_recordset($1::json) AS v(id text, status text, reasons jsonb)
      WHERE t.id = v.id AND (t.health IS DISTINCT FROM v.status::"HealthStatus" OR t.health_reasons IS DISTINCT FROM v.reasons)`,
    JSON.stringify(verdicts),
  );
}

/** Sets the health of many clusters in one statement (rows whose health is already that are left alone). */
export async function writeClusterHealth(tx: Db, verdicts: { id: string; status: HealthStatus }[]): Promise<number> {
  if (verdicts.length === 0) return 0;
  return tx.$executeRawUnsafe(
    `UPDATE cluster AS t SET health = v.status::"HealthStatus", updated_at = now()
       FROM json_to_recordset($1::json) AS v(id text, status text) WHERE t.id = v.id AND t.health IS DISTINCT FROM v.status::"HealthStatus"`,
    JSON.stringify(verdicts),
  );
}

/**
 * Opens an alert for a condition unless one is already live: ON CONFLICT on the unique active_key, so a
 * live alert for this condition can never be duplicated. True when this call opened it.
 */
export async function openAlertOnce(tx: Db, id: string, c: AlertCondition, now: Date): Promise<boolean> {
  const inserted = await tx.$executeRaw`
    INSERT INTO alert (id, fingerprint, active_key, rule, severity, state, title, details, cluster_id, node_id, gpu_id, opened_at, last_seen_at)
    VALUES (${id}, ${c.fingerprint}, ${c.fingerprint}, ${c.rule}, ${c.severity}::"AlertSeverity", 'open', ${c.title}, ${JSON.stringify(c.details)}::jsonb,
            ${c.clusterId ?? null}, ${c.nodeId ?? null}, ${c.gpuId ?? null}, ${now}, ${now})
    ON CONFLICT (active_key) DO NOTHING`;
  return inserted > 0;
}

/** Severity, last sighting and (when given) details of many live alerts in one statement. */
export async function updateLiveAlerts(tx: Db, updates: { id: string; severity: string; seen: Date; details: unknown }[]): Promise<void> {
  if (updates.length === 0) return;
  await tx.$executeRawUnsafe(
    `UPDATE alert AS t SET severity = v.severity::"AlertSeverity", last_seen_at = v.seen, details = COALESCE(v.details, t.details)
       FROM json_to_recordset($1::json) AS v(id text, severity text, seen timestamptz, details jsonb) WHERE t.id = v.id`,
    JSON.stringify(updates.map((u) => ({ ...u, seen: u.seen.toISOString(), details: u.details ?? null }))),
  );
}

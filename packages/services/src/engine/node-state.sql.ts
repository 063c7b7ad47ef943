// The node_runtime_state upsert: newest observation wins, in one statement (Prisma's upsert has no
// conditional update, so an older report arriving late would overwrite a newer one).
import type { Db } from '@fleetplane/db';
import type { TNodeStateReport } from '@fleetplane/contracts';

/** Stores the report unless a newer one is stored already; true when it was stored. */
export async function upsertNodeRuntimeState(db: Db, nodeId: string, r: TNodeStateReport): Promise<boolean> {
  const e = r.engine;
  const served = e.served;
  const affected = await db.$executeRaw`
    INSERT INTO node_runtime_state (node_id, observed_at, engine_state, engine_kind, engine_version, endpoint_url, served_model_ids,
      served_root, served_artifact_digest, max_model_len, cache_config, restarts, last_error, last_load_seconds, cache, updated_at)
    VALUES (${nodeId}, ${new Date(r.observedAt)}, ${e.state}, ${e.kind}, ${e.version}, ${e.endpointUrl}, ${served?.modelIds ?? []}::text[],
      ${served?.root ?? null}, ${served?.artifactDigest ?? null}, ${served?.maxModelLen ?? null},
      ${served?.cacheConfig ? JSON.stringify(served.cacheConfig) : null}::jsonb, ${e.restarts}, ${e.lastError}, ${e.lastLoadSeconds},
      ${JSON.stringify(r.cache)}::jsonb, now())
    ON CONFLICT (node_id) DO UPDATE SET
      observed_at = EXCLUDED.observed_at, engine_state = EXCLUDED.engine_state, engine_kind = EXCLUDED.engine_kind,
      engine_version = EXCLUDED.engine_version, endpoint_url = EXCLUDED.endpoint_url, served_model_ids = EXCLUDED.served_model_ids,
      served_root = EXCLUDED.served_root, served_artifact_digest = EXCLUDED.served_artifact_digest, max_model_len = EXCLUDED.max_model_len,
      cache_config = EXCLUDED.cache_config, restarts = EXCLUDED.restarts, last_error = EXCLUDED.last_error,
      last_load_seconds = EXCLUDED.last_load_seconds, cache = EXCLUDED.cache, updated_at = now()
    WHERE node_runtime_state.observed_at < EXCLUDED.observed_at`;
  return affected > 0;
}

-- Raw telemetry (gpu_sample, engine_sample) becomes RANGE-partitioned on sampled_at, so retention drops
-- whole hourly partitions instead of deleting rows (docs/decisions.md, docs/telemetry.md › Storage).
-- Hand-written: Prisma cannot express partitioning. The drift check compares only the parent tables
-- (Prisma's schema describer skips partitions), which keep every column, key, index and foreign key.
--
-- Hourly partitions are created at runtime (ensureTelemetryPartitions: worker and web start, and the
-- retention job, six hours ahead). Each table gets a DEFAULT partition here so that a row whose hour has
-- no partition yet is still stored, and the next maintenance run moves it into its hour's partition.
--
-- Rows already stored are kept without copying them: the old table is attached as one partition
-- (<table>_legacy) covering everything up to the hour after its newest row. Retention deletes its
-- expired rows and drops it once all of them are past the window.

-- ───────────────────────────── gpu_sample ─────────────────────────────
ALTER TABLE "gpu_sample" RENAME TO "gpu_sample_legacy";
ALTER TABLE "gpu_sample_legacy" RENAME CONSTRAINT "gpu_sample_pkey" TO "gpu_sample_legacy_pkey";
ALTER INDEX "gpu_sample_sampled_at_idx" RENAME TO "gpu_sample_legacy_sampled_at_idx";
ALTER INDEX "gpu_sample_node_id_sampled_at_idx" RENAME TO "gpu_sample_legacy_node_id_sampled_at_idx";

CREATE TABLE "gpu_sample" (
    "gpu_id" TEXT NOT NULL,
    "sampled_at" TIMESTAMPTZ(3) NOT NULL,
    "node_id" TEXT NOT NULL,
    "utilization_gpu_pct" DOUBLE PRECISION,
    "utilization_memory_pct" DOUBLE PRECISION,
    "memory_used_mib" INTEGER,
    "memory_total_mib" INTEGER,
    "temperature_c" DOUBLE PRECISION,
    "power_draw_w" DOUBLE PRECISION,
    "power_limit_w" DOUBLE PRECISION,
    "sm_clock_mhz" INTEGER,
    "ecc_corrected_volatile" BIGINT,
    "ecc_uncorrected_volatile" BIGINT,
    "clocks_event_reasons" BIGINT,
    "remapped_rows_correctable" INTEGER,
    "remapped_rows_uncorrectable" INTEGER,
    "remapped_rows_pending" BOOLEAN,
    "remapped_rows_failure" BOOLEAN,
    "error_states" JSONB,

    CONSTRAINT "gpu_sample_pkey" PRIMARY KEY ("gpu_id","sampled_at")
) PARTITION BY RANGE ("sampled_at");

CREATE INDEX "gpu_sample_sampled_at_idx" ON "gpu_sample"("sampled_at");
CREATE INDEX "gpu_sample_node_id_sampled_at_idx" ON "gpu_sample"("node_id", "sampled_at");
ALTER TABLE "gpu_sample" ADD CONSTRAINT "gpu_sample_gpu_id_fkey" FOREIGN KEY ("gpu_id") REFERENCES "gpu"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "gpu_sample" ADD CONSTRAINT "gpu_sample_node_id_fkey" FOREIGN KEY ("node_id") REFERENCES "node"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- ───────────────────────────── engine_sample ─────────────────────────────
-- A partitioned table's primary key must contain the partition column: (id, sampled_at). The id keeps
-- its sequence, re-owned by the new table so that dropping the old one later does not drop it.
ALTER TABLE "engine_sample" RENAME TO "engine_sample_legacy";
ALTER TABLE "engine_sample_legacy" RENAME CONSTRAINT "engine_sample_pkey" TO "engine_sample_legacy_pkey";
ALTER INDEX "engine_sample_cluster_id_sampled_at_idx" RENAME TO "engine_sample_legacy_cluster_id_sampled_at_idx";
ALTER INDEX "engine_sample_node_id_sampled_at_idx" RENAME TO "engine_sample_legacy_node_id_sampled_at_idx";

CREATE TABLE "engine_sample" (
    "id" BIGINT NOT NULL DEFAULT nextval('engine_sample_id_seq'),
    "node_id" TEXT NOT NULL,
    "cluster_id" TEXT NOT NULL,
    "sampled_at" TIMESTAMPTZ(3) NOT NULL,
    "running_requests" DOUBLE PRECISION,
    "waiting_requests" DOUBLE PRECISION,
    "kv_cache_usage_fraction" DOUBLE PRECISION,
    "prompt_tokens_total" DOUBLE PRECISION,
    "generation_tokens_total" DOUBLE PRECISION,
    "ttft_seconds_sum" DOUBLE PRECISION,
    "ttft_seconds_count" DOUBLE PRECISION,

    CONSTRAINT "engine_sample_pkey" PRIMARY KEY ("id","sampled_at")
) PARTITION BY RANGE ("sampled_at");
ALTER SEQUENCE "engine_sample_id_seq" OWNED BY "engine_sample"."id";
ALTER TABLE "engine_sample_legacy" ALTER COLUMN "id" DROP DEFAULT;
-- The old rows get the new key too (the ids are unique already), so attaching them below can use it.
ALTER TABLE "engine_sample_legacy" DROP CONSTRAINT "engine_sample_legacy_pkey",
  ADD CONSTRAINT "engine_sample_legacy_pkey" PRIMARY KEY ("id", "sampled_at");

CREATE INDEX "engine_sample_cluster_id_sampled_at_idx" ON "engine_sample"("cluster_id", "sampled_at");
CREATE INDEX "engine_sample_node_id_sampled_at_idx" ON "engine_sample"("node_id", "sampled_at");
ALTER TABLE "engine_sample" ADD CONSTRAINT "engine_sample_node_id_fkey" FOREIGN KEY ("node_id") REFERENCES "node"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "engine_sample" ADD CONSTRAINT "engine_sample_cluster_id_fkey" FOREIGN KEY ("cluster_id") REFERENCES "cluster"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- ───────────────────────────── the old rows ─────────────────────────────
-- Each old table becomes the partition <table>_legacy for everything before the end of its newest row's
-- UTC hour (hourly partitions start there). An empty one covers only the year-2000 past, and the first
-- retention run drops it. No DO block: the migration runner splits scripts at every semicolon, so the
-- bound comes from a helper function whose body has none (a bound may call a function, not a subquery).
CREATE FUNCTION "fleetplane_migration_gpu_sample_legacy_end"() RETURNS TIMESTAMPTZ LANGUAGE sql AS $$
  SELECT COALESCE(date_bin('1 hour', max("sampled_at"), TIMESTAMPTZ '2000-01-01 00:00:00+00') + INTERVAL '1 hour', TIMESTAMPTZ '2000-01-01 00:00:00+00')
    FROM "gpu_sample_legacy"
$$;
CREATE FUNCTION "fleetplane_migration_engine_sample_legacy_end"() RETURNS TIMESTAMPTZ LANGUAGE sql AS $$
  SELECT COALESCE(date_bin('1 hour', max("sampled_at"), TIMESTAMPTZ '2000-01-01 00:00:00+00') + INTERVAL '1 hour', TIMESTAMPTZ '2000-01-01 00:00:00+00')
    FROM "engine_sample_legacy"
$$;
ALTER TABLE "gpu_sample" ATTACH PARTITION "gpu_sample_legacy" FOR VALUES FROM (MINVALUE) TO ("fleetplane_migration_gpu_sample_legacy_end"());
ALTER TABLE "engine_sample" ATTACH PARTITION "engine_sample_legacy" FOR VALUES FROM (MINVALUE) TO ("fleetplane_migration_engine_sample_legacy_end"());
DROP FUNCTION "fleetplane_migration_gpu_sample_legacy_end"();
DROP FUNCTION "fleetplane_migration_engine_sample_legacy_end"();

CREATE TABLE "gpu_sample_default" PARTITION OF "gpu_sample" DEFAULT;
CREATE TABLE "engine_sample_default" PARTITION OF "engine_sample" DEFAULT;

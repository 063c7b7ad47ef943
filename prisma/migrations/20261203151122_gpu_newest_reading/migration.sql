-- AlterTable
ALTER TABLE "gpu" ADD COLUMN     "last_memory_total_mib" INTEGER,
ADD COLUMN     "last_memory_used_mib" INTEGER,
ADD COLUMN     "last_power_draw_w" DOUBLE PRECISION,
ADD COLUMN     "last_power_limit_w" DOUBLE PRECISION,
ADD COLUMN     "last_temperature_c" DOUBLE PRECISION,
ADD COLUMN     "last_utilization_gpu_pct" DOUBLE PRECISION;

-- Backfill: each GPU's gauges from its newest stored sample (the one at last_sample_at). From here on
-- ingest writes them in the statement that stores the sample.
UPDATE "gpu" AS g
   SET "last_utilization_gpu_pct" = s."utilization_gpu_pct",
       "last_memory_used_mib" = s."memory_used_mib",
       "last_memory_total_mib" = s."memory_total_mib",
       "last_power_draw_w" = s."power_draw_w",
       "last_power_limit_w" = s."power_limit_w",
       "last_temperature_c" = s."temperature_c"
  FROM "gpu_sample" AS s
 WHERE s."gpu_id" = g."id" AND s."sampled_at" = g."last_sample_at";

-- CreateTable
CREATE TABLE "cluster_rollup" (
    "cluster_id" TEXT NOT NULL,
    "resolution" "RollupResolution" NOT NULL,
    "bucket_start" TIMESTAMPTZ(3) NOT NULL,
    "gpu_count" INTEGER NOT NULL,
    "utilization_gpu_avg" DOUBLE PRECISION,
    "power_draw_w" DOUBLE PRECISION,

    CONSTRAINT "cluster_rollup_pkey" PRIMARY KEY ("cluster_id","resolution","bucket_start")
);

-- CreateIndex
CREATE INDEX "cluster_rollup_resolution_bucket_start_idx" ON "cluster_rollup"("resolution", "bucket_start");

-- AddForeignKey
ALTER TABLE "cluster_rollup" ADD CONSTRAINT "cluster_rollup_cluster_id_fkey" FOREIGN KEY ("cluster_id") REFERENCES "cluster"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Backfill from the minute rollups already stored, so the overview's sparkline keeps its history.
INSERT INTO "cluster_rollup" ("cluster_id", "resolution", "bucket_start", "gpu_count", "utilization_gpu_avg", "power_draw_w")
SELECT n."cluster_id", 'minute', r."bucket_start", COUNT(*)::int,
       SUM(r."utilization_gpu_avg" * r."sample_count") / NULLIF(SUM(r."sample_count") FILTER (WHERE r."utilization_gpu_avg" IS NOT NULL), 0),
       SUM(r."power_draw_w_avg")
  FROM "gpu_rollup" r JOIN "gpu" g ON g."id" = r."gpu_id" JOIN "node" n ON n."id" = g."node_id"
 WHERE r."resolution" = 'minute'
 GROUP BY 1, 3;

-- AlterTable
ALTER TABLE "validation_run" ADD COLUMN     "endpoint_url" TEXT,
ADD COLUMN     "node_id" TEXT,
ADD COLUMN     "pipeline_step_id" TEXT,
ADD COLUMN     "served_model_name" TEXT;

-- CreateTable
CREATE TABLE "staging_node_lease" (
    "node_id" TEXT NOT NULL,
    "cluster_id" TEXT NOT NULL,
    "holder_step_id" TEXT NOT NULL,
    "pipeline_run_id" TEXT NOT NULL,
    "candidate_artifact_id" TEXT NOT NULL,
    "restore_kind" TEXT NOT NULL,
    "restore_artifact_id" TEXT,
    "restore_reason" TEXT NOT NULL DEFAULT '',
    "phase" TEXT NOT NULL DEFAULT 'holding',
    "acquired_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "staging_node_lease_pkey" PRIMARY KEY ("node_id")
);

-- CreateIndex
CREATE INDEX "staging_node_lease_expires_at_idx" ON "staging_node_lease"("expires_at");

-- CreateIndex
CREATE INDEX "validation_run_pipeline_step_id_idx" ON "validation_run"("pipeline_step_id");

-- CreateIndex
CREATE INDEX "validation_run_artifact_id_state_idx" ON "validation_run"("artifact_id", "state");

-- AddForeignKey
ALTER TABLE "validation_run" ADD CONSTRAINT "validation_run_pipeline_step_id_fkey" FOREIGN KEY ("pipeline_step_id") REFERENCES "pipeline_step"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "validation_run" ADD CONSTRAINT "validation_run_node_id_fkey" FOREIGN KEY ("node_id") REFERENCES "node"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "staging_node_lease" ADD CONSTRAINT "staging_node_lease_node_id_fkey" FOREIGN KEY ("node_id") REFERENCES "node"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- CreateEnum
CREATE TYPE "RolloutState" AS ENUM ('pending', 'prefetching', 'canary', 'analysing', 'waves', 'paused', 'succeeded', 'rolling_back', 'rolled_back', 'aborted', 'failed');

-- CreateEnum
CREATE TYPE "RolloutNodeState" AS ENUM ('pending', 'prefetching', 'prefetched', 'loading', 'serving', 'rolling_back', 'rolled_back', 'failed');

-- AlterTable
ALTER TABLE "cluster" ADD COLUMN     "rollout_policy" JSONB NOT NULL DEFAULT '{}';

-- AlterTable
ALTER TABLE "deployment" ADD COLUMN     "rollout_id" TEXT;

-- AlterTable
ALTER TABLE "engine_sample" ADD COLUMN     "requests_failed_total" DOUBLE PRECISION,
ADD COLUMN     "requests_finished_total" DOUBLE PRECISION,
ADD COLUMN     "ttft_buckets" JSONB;

-- CreateTable
CREATE TABLE "rollout" (
    "id" TEXT NOT NULL,
    "cluster_id" TEXT NOT NULL,
    "active_cluster_id" TEXT,
    "kind" TEXT NOT NULL DEFAULT 'upgrade',
    "proposal_id" TEXT,
    "target_deployment_id" TEXT,
    "artifact_id" TEXT NOT NULL,
    "state" "RolloutState" NOT NULL DEFAULT 'pending',
    "paused_from" "RolloutState",
    "rollback_outcome" "RolloutState",
    "current_step" INTEGER NOT NULL DEFAULT 0,
    "step_count" INTEGER NOT NULL DEFAULT 0,
    "window_started_at" TIMESTAMPTZ(3),
    "policy" JSONB NOT NULL,
    "reason" TEXT NOT NULL DEFAULT '',
    "requested_by_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "rollout_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rollout_node" (
    "rollout_id" TEXT NOT NULL,
    "node_id" TEXT NOT NULL,
    "step" INTEGER NOT NULL,
    "state" "RolloutNodeState" NOT NULL DEFAULT 'pending',
    "previous_artifact_id" TEXT,
    "prefetch_command_id" TEXT,
    "load_command_id" TEXT,
    "rollback_command_id" TEXT,
    "error" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "rollout_node_pkey" PRIMARY KEY ("rollout_id","node_id")
);

-- CreateTable
CREATE TABLE "rollout_analysis_result" (
    "id" TEXT NOT NULL,
    "rollout_id" TEXT NOT NULL,
    "step" INTEGER NOT NULL,
    "check_no" INTEGER NOT NULL,
    "passed" BOOLEAN NOT NULL,
    "metrics" JSONB NOT NULL,
    "failures" TEXT[],
    "notes" TEXT[],
    "thresholds" JSONB NOT NULL,
    "measured_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "rollout_analysis_result_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "rollout_active_cluster_id_key" ON "rollout"("active_cluster_id");

-- CreateIndex
CREATE INDEX "rollout_cluster_id_created_at_idx" ON "rollout"("cluster_id", "created_at");

-- CreateIndex
CREATE INDEX "rollout_state_idx" ON "rollout"("state");

-- CreateIndex
CREATE INDEX "rollout_node_node_id_idx" ON "rollout_node"("node_id");

-- CreateIndex
CREATE UNIQUE INDEX "rollout_analysis_result_rollout_id_step_check_no_key" ON "rollout_analysis_result"("rollout_id", "step", "check_no");

-- CreateIndex
CREATE INDEX "deployment_node_id_state_idx" ON "deployment"("node_id", "state");

-- AddForeignKey
ALTER TABLE "deployment" ADD CONSTRAINT "deployment_rollout_id_fkey" FOREIGN KEY ("rollout_id") REFERENCES "rollout"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "rollout" ADD CONSTRAINT "rollout_cluster_id_fkey" FOREIGN KEY ("cluster_id") REFERENCES "cluster"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "rollout" ADD CONSTRAINT "rollout_active_cluster_id_fkey" FOREIGN KEY ("active_cluster_id") REFERENCES "cluster"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "rollout" ADD CONSTRAINT "rollout_proposal_id_fkey" FOREIGN KEY ("proposal_id") REFERENCES "upgrade_proposal"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "rollout" ADD CONSTRAINT "rollout_target_deployment_id_fkey" FOREIGN KEY ("target_deployment_id") REFERENCES "deployment"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "rollout" ADD CONSTRAINT "rollout_artifact_id_fkey" FOREIGN KEY ("artifact_id") REFERENCES "artifact"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "rollout" ADD CONSTRAINT "rollout_requested_by_id_fkey" FOREIGN KEY ("requested_by_id") REFERENCES "user"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "rollout_node" ADD CONSTRAINT "rollout_node_rollout_id_fkey" FOREIGN KEY ("rollout_id") REFERENCES "rollout"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "rollout_node" ADD CONSTRAINT "rollout_node_node_id_fkey" FOREIGN KEY ("node_id") REFERENCES "node"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "rollout_node" ADD CONSTRAINT "rollout_node_previous_artifact_id_fkey" FOREIGN KEY ("previous_artifact_id") REFERENCES "artifact"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "rollout_analysis_result" ADD CONSTRAINT "rollout_analysis_result_rollout_id_fkey" FOREIGN KEY ("rollout_id") REFERENCES "rollout"("id") ON DELETE CASCADE ON UPDATE CASCADE;

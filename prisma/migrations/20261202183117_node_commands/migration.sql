-- CreateEnum
CREATE TYPE "NodeCommandKind" AS ENUM ('prefetch_artifact', 'load_artifact', 'restart_engine', 'stop_engine', 'evict_artifact');

-- CreateEnum
CREATE TYPE "NodeCommandState" AS ENUM ('queued', 'delivered', 'running', 'succeeded', 'failed', 'cancelled', 'expired');

-- AlterTable
ALTER TABLE "cluster" ADD COLUMN     "engine_drain_seconds" INTEGER NOT NULL DEFAULT 30,
ADD COLUMN     "engine_launch_template" TEXT,
ADD COLUMN     "engine_port" INTEGER NOT NULL DEFAULT 8000,
ADD COLUMN     "engine_ready_timeout_seconds" INTEGER NOT NULL DEFAULT 1800,
ADD COLUMN     "engine_run_mode" TEXT NOT NULL DEFAULT 'child',
ADD COLUMN     "staging_node_id" TEXT;

-- CreateTable
CREATE TABLE "node_command" (
    "id" TEXT NOT NULL,
    "node_id" TEXT NOT NULL,
    "kind" "NodeCommandKind" NOT NULL,
    "payload" JSONB NOT NULL,
    "state" "NodeCommandState" NOT NULL DEFAULT 'queued',
    "artifact_id" TEXT,
    "issued_by_user_id" TEXT,
    "origin" TEXT NOT NULL DEFAULT 'operator',
    "deliveries" INTEGER NOT NULL DEFAULT 0,
    "progress" JSONB,
    "result" JSONB,
    "error" TEXT,
    "issued_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "delivered_at" TIMESTAMPTZ(3),
    "started_at" TIMESTAMPTZ(3),
    "heartbeat_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "deadline_at" TIMESTAMPTZ(3) NOT NULL,
    "cancel_requested_at" TIMESTAMPTZ(3),

    CONSTRAINT "node_command_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "node_runtime_state" (
    "node_id" TEXT NOT NULL,
    "observed_at" TIMESTAMPTZ(3) NOT NULL,
    "engine_state" TEXT NOT NULL,
    "engine_kind" TEXT,
    "engine_version" TEXT,
    "endpoint_url" TEXT,
    "served_model_ids" TEXT[],
    "served_root" TEXT,
    "served_artifact_digest" TEXT,
    "max_model_len" INTEGER,
    "cache_config" JSONB,
    "restarts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "last_load_seconds" DOUBLE PRECISION,
    "cache" JSONB NOT NULL DEFAULT '{}',
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "node_runtime_state_pkey" PRIMARY KEY ("node_id")
);

-- CreateIndex
CREATE INDEX "node_command_node_id_state_issued_at_idx" ON "node_command"("node_id", "state", "issued_at");

-- CreateIndex
CREATE INDEX "node_command_state_deadline_at_idx" ON "node_command"("state", "deadline_at");

-- CreateIndex
CREATE UNIQUE INDEX "cluster_staging_node_id_key" ON "cluster"("staging_node_id");

-- AddForeignKey
ALTER TABLE "cluster" ADD CONSTRAINT "cluster_staging_node_id_fkey" FOREIGN KEY ("staging_node_id") REFERENCES "node"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "node_command" ADD CONSTRAINT "node_command_node_id_fkey" FOREIGN KEY ("node_id") REFERENCES "node"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "node_command" ADD CONSTRAINT "node_command_artifact_id_fkey" FOREIGN KEY ("artifact_id") REFERENCES "artifact"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "node_command" ADD CONSTRAINT "node_command_issued_by_user_id_fkey" FOREIGN KEY ("issued_by_user_id") REFERENCES "user"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "node_runtime_state" ADD CONSTRAINT "node_runtime_state_node_id_fkey" FOREIGN KEY ("node_id") REFERENCES "node"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AlterTable
ALTER TABLE "pipeline_run" ADD COLUMN     "lost_job_requeues" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "validation_check_result" ADD COLUMN     "heartbeat_at" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "validation_run" ADD COLUMN     "lost_job_requeues" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "cluster" ADD COLUMN     "approvals_required" INTEGER NOT NULL DEFAULT 1,
ADD COLUMN     "gating_suite_name" TEXT,
ADD COLUMN     "proposal_expiry_days" INTEGER NOT NULL DEFAULT 7;

-- AlterTable
ALTER TABLE "upgrade_proposal" ADD COLUMN     "evidence_digest" TEXT,
ADD COLUMN     "origin" TEXT NOT NULL DEFAULT 'operator',
ADD COLUMN     "pipeline_run_id" TEXT,
ALTER COLUMN "requested_by_id" DROP NOT NULL;

-- AddForeignKey
ALTER TABLE "upgrade_proposal" ADD CONSTRAINT "upgrade_proposal_pipeline_run_id_fkey" FOREIGN KEY ("pipeline_run_id") REFERENCES "pipeline_run"("id") ON DELETE SET NULL ON UPDATE CASCADE;

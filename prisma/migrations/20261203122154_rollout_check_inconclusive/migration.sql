-- AlterTable
ALTER TABLE "rollout_analysis_result" ALTER COLUMN "passed" DROP NOT NULL;

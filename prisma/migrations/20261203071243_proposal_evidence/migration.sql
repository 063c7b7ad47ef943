-- AlterTable
ALTER TABLE "upgrade_proposal" ADD COLUMN     "evidence" JSONB,
ADD COLUMN     "state_reason" TEXT NOT NULL DEFAULT '';

-- AlterTable
ALTER TABLE "tracked_repo" ADD COLUMN     "last_etag" TEXT;

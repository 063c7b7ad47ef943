-- AlterTable
ALTER TABLE "cluster" ADD COLUMN     "download_bandwidth_mbps" INTEGER,
ADD COLUMN     "download_concurrency" INTEGER;

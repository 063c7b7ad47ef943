-- CreateEnum
CREATE TYPE "XidEventKind" AS ENUM ('xid', 'fallen_off_bus');

-- AlterTable
ALTER TABLE "gpu_sample" ADD COLUMN     "error_states" JSONB;

-- AlterTable
ALTER TABLE "node" ADD COLUMN     "clock_offset_ms" BIGINT;

-- AlterTable
ALTER TABLE "xid_event" ADD COLUMN     "gpu_instance_id" INTEGER,
ADD COLUMN     "kind" "XidEventKind" NOT NULL DEFAULT 'xid',
ADD COLUMN     "undated" BOOLEAN NOT NULL DEFAULT false;

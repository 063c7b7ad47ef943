-- AlterTable
ALTER TABLE "staging_node_lease" ADD COLUMN     "restore_error" TEXT;

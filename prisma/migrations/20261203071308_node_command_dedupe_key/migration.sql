-- AlterTable
ALTER TABLE "node_command" ADD COLUMN     "dedupe_key" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "node_command_node_id_dedupe_key_key" ON "node_command"("node_id", "dedupe_key");

-- AlterTable
ALTER TABLE "artifact" ADD COLUMN     "build_info" JSONB,
ADD COLUMN     "quality" JSONB,
ADD COLUMN     "recipe_digest" TEXT,
ADD COLUMN     "recipe_id" TEXT,
ADD COLUMN     "source_artifact_id" TEXT;

-- AlterTable
ALTER TABLE "pipeline_step" ADD COLUMN     "artifact_id" TEXT,
ADD COLUMN     "spec" JSONB NOT NULL DEFAULT '{}';

-- CreateTable
CREATE TABLE "quant_recipe" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "output_format" TEXT NOT NULL,
    "tool" TEXT NOT NULL,
    "tool_version" TEXT NOT NULL,
    "params" JSONB NOT NULL,
    "command_template" TEXT[],
    "quality_command" TEXT[],
    "digest" TEXT NOT NULL,
    "created_by_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "quant_recipe_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "build_target" (
    "id" TEXT NOT NULL,
    "tracked_repo_id" TEXT NOT NULL,
    "cluster_id" TEXT NOT NULL,
    "recipe_name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "build_target_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "quant_recipe_digest_idx" ON "quant_recipe"("digest");

-- CreateIndex
CREATE UNIQUE INDEX "quant_recipe_name_version_key" ON "quant_recipe"("name", "version");

-- CreateIndex
CREATE INDEX "build_target_cluster_id_idx" ON "build_target"("cluster_id");

-- CreateIndex
CREATE UNIQUE INDEX "build_target_tracked_repo_id_cluster_id_recipe_name_key" ON "build_target"("tracked_repo_id", "cluster_id", "recipe_name");

-- CreateIndex
CREATE INDEX "artifact_source_artifact_id_recipe_digest_idx" ON "artifact"("source_artifact_id", "recipe_digest");

-- AddForeignKey
ALTER TABLE "artifact" ADD CONSTRAINT "artifact_recipe_id_fkey" FOREIGN KEY ("recipe_id") REFERENCES "quant_recipe"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "artifact" ADD CONSTRAINT "artifact_source_artifact_id_fkey" FOREIGN KEY ("source_artifact_id") REFERENCES "artifact"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "pipeline_step" ADD CONSTRAINT "pipeline_step_artifact_id_fkey" FOREIGN KEY ("artifact_id") REFERENCES "artifact"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "quant_recipe" ADD CONSTRAINT "quant_recipe_created_by_id_fkey" FOREIGN KEY ("created_by_id") REFERENCES "user"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "build_target" ADD CONSTRAINT "build_target_tracked_repo_id_fkey" FOREIGN KEY ("tracked_repo_id") REFERENCES "tracked_repo"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "build_target" ADD CONSTRAINT "build_target_cluster_id_fkey" FOREIGN KEY ("cluster_id") REFERENCES "cluster"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- CreateTable
CREATE TABLE "tracked_repo_auto_start_target" (
    "tracked_repo_id" TEXT NOT NULL,
    "cluster_id" TEXT NOT NULL,

    CONSTRAINT "tracked_repo_auto_start_target_pkey" PRIMARY KEY ("tracked_repo_id","cluster_id")
);

-- CreateIndex
CREATE INDEX "tracked_repo_auto_start_target_cluster_id_idx" ON "tracked_repo_auto_start_target"("cluster_id");

-- AddForeignKey
ALTER TABLE "tracked_repo_auto_start_target" ADD CONSTRAINT "tracked_repo_auto_start_target_tracked_repo_id_fkey" FOREIGN KEY ("tracked_repo_id") REFERENCES "tracked_repo"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "tracked_repo_auto_start_target" ADD CONSTRAINT "tracked_repo_auto_start_target_cluster_id_fkey" FOREIGN KEY ("cluster_id") REFERENCES "cluster"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

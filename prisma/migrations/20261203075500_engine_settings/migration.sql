-- AlterTable
ALTER TABLE "cluster" ADD COLUMN     "engine_chunked_prefill" BOOLEAN NOT NULL DEFAULT true,
ADD COLUMN     "engine_gpu_memory_utilization" DOUBLE PRECISION NOT NULL DEFAULT 0.9,
ADD COLUMN     "engine_kv_cache_dtype" TEXT NOT NULL DEFAULT 'auto',
ADD COLUMN     "engine_stop_template" TEXT,
ADD COLUMN     "engine_tensor_parallel_size" INTEGER,
ADD COLUMN     "engine_trust_remote_code" BOOLEAN NOT NULL DEFAULT true;

-- AlterTable
ALTER TABLE "node" ADD COLUMN     "engine_launch_template" TEXT;

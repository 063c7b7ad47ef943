-- CreateTable
CREATE TABLE "catalog_gpu" (
    "id" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "vendor" TEXT NOT NULL,
    "generation" TEXT NOT NULL,
    "memory_mib" INTEGER NOT NULL,
    "compute_capability" TEXT,
    "fp8_tensor_cores" BOOLEAN NOT NULL,
    "fp4_tensor_cores" BOOLEAN NOT NULL,
    "interconnect" TEXT NOT NULL,
    "typical_hourly_usd" DECIMAL(10,4),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "catalog_gpu_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "catalog_engine" (
    "kind" TEXT NOT NULL,
    "label" TEXT NOT NULL,
    "serves_v4" BOOLEAN,
    "min_v4_version" TEXT,
    "min_v4_official_version" TEXT,
    "min_v4_source" TEXT NOT NULL,
    "formats" TEXT[],
    "hopper_fp4_min_version" TEXT,
    "hopper_fp4_source" TEXT NOT NULL,
    "images" JSONB NOT NULL DEFAULT '{}',
    "needs_trust_remote_code" BOOLEAN NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "catalog_engine_pkey" PRIMARY KEY ("kind")
);

-- CreateTable
CREATE TABLE "catalog_api_price" (
    "family" TEXT NOT NULL,
    "input_per_m" DECIMAL(10,4) NOT NULL,
    "output_per_m" DECIMAL(10,4) NOT NULL,
    "cache_hit_input_per_m" DECIMAL(10,4) NOT NULL,
    "as_of" DATE NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "catalog_api_price_pkey" PRIMARY KEY ("family")
);

-- CreateTable
CREATE TABLE "artifact_model_config" (
    "artifact_id" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "body" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "artifact_model_config_pkey" PRIMARY KEY ("artifact_id")
);

-- CreateIndex
CREATE UNIQUE INDEX "catalog_gpu_model_key" ON "catalog_gpu"("model");

-- AddForeignKey
ALTER TABLE "artifact_model_config" ADD CONSTRAINT "artifact_model_config_artifact_id_fkey" FOREIGN KEY ("artifact_id") REFERENCES "artifact"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Baseline catalogs every install starts with (packages/domain/src/capacity/catalog-defaults.ts, a test
-- keeps the two equal). Admins edit them from here on. No semicolons inside these statements: the wasm engine splits on them.
INSERT INTO "catalog_gpu" ("id", "model", "vendor", "generation", "memory_mib", "compute_capability", "fp8_tensor_cores", "fp4_tensor_cores", "interconnect", "typical_hourly_usd", "updated_at") VALUES ('gpu_nvidia_a100_sxm4_80gb', 'NVIDIA A100-SXM4-80GB', 'nvidia', 'ampere', 81920, '8.0', false, false, 'nvswitch', 1.79, CURRENT_TIMESTAMP);
INSERT INTO "catalog_gpu" ("id", "model", "vendor", "generation", "memory_mib", "compute_capability", "fp8_tensor_cores", "fp4_tensor_cores", "interconnect", "typical_hourly_usd", "updated_at") VALUES ('gpu_nvidia_l40s', 'NVIDIA L40S', 'nvidia', 'ada', 46068, '8.9', true, false, 'pcie', 0.86, CURRENT_TIMESTAMP);
INSERT INTO "catalog_gpu" ("id", "model", "vendor", "generation", "memory_mib", "compute_capability", "fp8_tensor_cores", "fp4_tensor_cores", "interconnect", "typical_hourly_usd", "updated_at") VALUES ('gpu_nvidia_geforce_rtx_4090', 'NVIDIA GeForce RTX 4090', 'nvidia', 'ada', 24564, '8.9', true, false, 'pcie', 0.34, CURRENT_TIMESTAMP);
INSERT INTO "catalog_gpu" ("id", "model", "vendor", "generation", "memory_mib", "compute_capability", "fp8_tensor_cores", "fp4_tensor_cores", "interconnect", "typical_hourly_usd", "updated_at") VALUES ('gpu_nvidia_h100_80gb_hbm3', 'NVIDIA H100 80GB HBM3', 'nvidia', 'hopper', 81559, '9.0', true, false, 'nvswitch', 2.49, CURRENT_TIMESTAMP);
INSERT INTO "catalog_gpu" ("id", "model", "vendor", "generation", "memory_mib", "compute_capability", "fp8_tensor_cores", "fp4_tensor_cores", "interconnect", "typical_hourly_usd", "updated_at") VALUES ('gpu_nvidia_h200', 'NVIDIA H200', 'nvidia', 'hopper', 143771, '9.0', true, false, 'nvswitch', 3.59, CURRENT_TIMESTAMP);
INSERT INTO "catalog_gpu" ("id", "model", "vendor", "generation", "memory_mib", "compute_capability", "fp8_tensor_cores", "fp4_tensor_cores", "interconnect", "typical_hourly_usd", "updated_at") VALUES ('gpu_nvidia_b200', 'NVIDIA B200', 'nvidia', 'blackwell', 183359, '10.0', true, true, 'nvswitch', 5.99, CURRENT_TIMESTAMP);
INSERT INTO "catalog_gpu" ("id", "model", "vendor", "generation", "memory_mib", "compute_capability", "fp8_tensor_cores", "fp4_tensor_cores", "interconnect", "typical_hourly_usd", "updated_at") VALUES ('gpu_nvidia_rtx_pro_6000_blackwell_server_edition', 'NVIDIA RTX PRO 6000 Blackwell Server Edition', 'nvidia', 'blackwell', 97887, '12.0', true, true, 'pcie', 1.89, CURRENT_TIMESTAMP);
INSERT INTO "catalog_gpu" ("id", "model", "vendor", "generation", "memory_mib", "compute_capability", "fp8_tensor_cores", "fp4_tensor_cores", "interconnect", "typical_hourly_usd", "updated_at") VALUES ('gpu_nvidia_geforce_rtx_5090', 'NVIDIA GeForce RTX 5090', 'nvidia', 'blackwell', 32607, '12.0', true, true, 'pcie', 0.45, CURRENT_TIMESTAMP);
INSERT INTO "catalog_gpu" ("id", "model", "vendor", "generation", "memory_mib", "compute_capability", "fp8_tensor_cores", "fp4_tensor_cores", "interconnect", "typical_hourly_usd", "updated_at") VALUES ('gpu_amd_instinct_mi300x', 'AMD Instinct MI300X', 'amd', 'cdna3', 196592, NULL, true, false, 'infinity_fabric', 2.99, CURRENT_TIMESTAMP);
INSERT INTO "catalog_gpu" ("id", "model", "vendor", "generation", "memory_mib", "compute_capability", "fp8_tensor_cores", "fp4_tensor_cores", "interconnect", "typical_hourly_usd", "updated_at") VALUES ('gpu_apple_m3_ultra_512gb', 'Apple M3 Ultra 512GB', 'apple', 'apple', 524288, NULL, false, false, 'unified_memory', NULL, CURRENT_TIMESTAMP);
INSERT INTO "catalog_gpu" ("id", "model", "vendor", "generation", "memory_mib", "compute_capability", "fp8_tensor_cores", "fp4_tensor_cores", "interconnect", "typical_hourly_usd", "updated_at") VALUES ('gpu_apple_m2_ultra_192gb', 'Apple M2 Ultra 192GB', 'apple', 'apple', 196608, NULL, false, false, 'unified_memory', NULL, CURRENT_TIMESTAMP);
INSERT INTO "catalog_engine" ("kind", "label", "serves_v4", "min_v4_version", "min_v4_official_version", "min_v4_source", "formats", "hopper_fp4_min_version", "hopper_fp4_source", "images", "needs_trust_remote_code", "updated_at") VALUES ('vllm', 'vLLM', true, '0.20.0', '0.25.0', 'vllm-project/recipes models/deepseek-ai/DeepSeek-V4-{Flash,Pro}.yaml @8959cf6 (engines-and-rollouts.md §1.6)', ARRAY['safetensors', 'fp8', 'fp4_fp8', 'awq']::TEXT[], '0.20.0', 'vllm-project/recipes models/deepseek-ai/DeepSeek-V4-{Flash,Pro}.yaml @8959cf6 (engines-and-rollouts.md §1.6): Hopper cells for the native FP4+FP8 checkpoints', '{"hopper":"vllm/vllm-openai:v0.25.0","blackwell":"vllm/vllm-openai:v0.25.0","ampere":"vllm/vllm-openai:v0.25.0","ada":"vllm/vllm-openai:v0.25.0"}'::jsonb, true, CURRENT_TIMESTAMP);
INSERT INTO "catalog_engine" ("kind", "label", "serves_v4", "min_v4_version", "min_v4_official_version", "min_v4_source", "formats", "hopper_fp4_min_version", "hopper_fp4_source", "images", "needs_trust_remote_code", "updated_at") VALUES ('sglang', 'SGLang', true, '0.5.12', '0.5.12', 'sgl-project/sglang docs_new/cookbook/autoregressive/DeepSeek/DeepSeek-V4.mdx and docs/basic_usage/deepseek_v4_nvfp4_sm90.md (engines-and-rollouts.md §1.6). The minimum version is UNCONFIRMED, cookbook pages exist for 0.5.12-0.5.14', ARRAY['safetensors', 'fp8', 'fp4_fp8', 'awq']::TEXT[], '0.5.12', 'sgl-project/sglang docs_new/cookbook/autoregressive/DeepSeek/DeepSeek-V4.mdx and docs/basic_usage/deepseek_v4_nvfp4_sm90.md (engines-and-rollouts.md §1.6): on Hopper the FP4 experts run as W4A16 with --moe-runner-backend marlin (the only option on H100)', '{"hopper":"lmsysorg/sglang:latest","blackwell":"lmsysorg/sglang:latest"}'::jsonb, true, CURRENT_TIMESTAMP);
INSERT INTO "catalog_engine" ("kind", "label", "serves_v4", "min_v4_version", "min_v4_official_version", "min_v4_source", "formats", "hopper_fp4_min_version", "hopper_fp4_source", "images", "needs_trust_remote_code", "updated_at") VALUES ('nim', 'NVIDIA NIM', NULL, NULL, NULL, 'No NIM profile for DeepSeek V4 is documented in the sources read (engines-and-rollouts.md §1.5)', ARRAY['safetensors', 'fp8', 'fp4_fp8']::TEXT[], NULL, 'not documented', '{}'::jsonb, false, CURRENT_TIMESTAMP);
INSERT INTO "catalog_engine" ("kind", "label", "serves_v4", "min_v4_version", "min_v4_official_version", "min_v4_source", "formats", "hopper_fp4_min_version", "hopper_fp4_source", "images", "needs_trust_remote_code", "updated_at") VALUES ('llamacpp', 'llama.cpp', true, NULL, NULL, 'llama.cpp PRs #22359 (conversion) and #22607 (deepseek4 architecture), later on master. The first build number is not recorded (domain-reference.md §5.2)', ARRAY['gguf']::TEXT[], NULL, 'GGUF quantises the experts itself, FP4 tensor cores are not used', '{"ampere":"ghcr.io/ggml-org/llama.cpp:server-cuda","ada":"ghcr.io/ggml-org/llama.cpp:server-cuda","hopper":"ghcr.io/ggml-org/llama.cpp:server-cuda","blackwell":"ghcr.io/ggml-org/llama.cpp:server-cuda"}'::jsonb, false, CURRENT_TIMESTAMP);
INSERT INTO "catalog_engine" ("kind", "label", "serves_v4", "min_v4_version", "min_v4_official_version", "min_v4_source", "formats", "hopper_fp4_min_version", "hopper_fp4_source", "images", "needs_trust_remote_code", "updated_at") VALUES ('ollama', 'Ollama', NULL, NULL, NULL, 'Ollama bundles llama.cpp. Which release carries the deepseek4 architecture is not recorded', ARRAY['gguf']::TEXT[], NULL, 'GGUF quantises the experts itself', '{"ampere":"ollama/ollama","ada":"ollama/ollama","hopper":"ollama/ollama","blackwell":"ollama/ollama"}'::jsonb, false, CURRENT_TIMESTAMP);
INSERT INTO "catalog_engine" ("kind", "label", "serves_v4", "min_v4_version", "min_v4_official_version", "min_v4_source", "formats", "hopper_fp4_min_version", "hopper_fp4_source", "images", "needs_trust_remote_code", "updated_at") VALUES ('mlx', 'MLX (mlx-lm)', NULL, NULL, NULL, 'mlx-lm @d78bf58 read for the server only, V4 support not confirmed (engines-and-rollouts.md §1.4)', ARRAY['mlx']::TEXT[], NULL, 'Apple silicon only', '{}'::jsonb, false, CURRENT_TIMESTAMP);
INSERT INTO "catalog_engine" ("kind", "label", "serves_v4", "min_v4_version", "min_v4_official_version", "min_v4_source", "formats", "hopper_fp4_min_version", "hopper_fp4_source", "images", "needs_trust_remote_code", "updated_at") VALUES ('tgi', 'Text Generation Inference', false, NULL, NULL, 'TGI has no deepseek_v4 model implementation. Hugging Face put TGI in maintenance mode and points to vLLM / SGLang (text-generation-inference README) [mem]', ARRAY['safetensors', 'fp8', 'awq']::TEXT[], NULL, 'not applicable', '{}'::jsonb, false, CURRENT_TIMESTAMP);
INSERT INTO "catalog_api_price" ("family", "input_per_m", "output_per_m", "cache_hit_input_per_m", "as_of", "updated_at") VALUES ('deepseek-v4-flash', 0.14, 0.28, 0.0028, '2026-04-24', CURRENT_TIMESTAMP);
INSERT INTO "catalog_api_price" ("family", "input_per_m", "output_per_m", "cache_hit_input_per_m", "as_of", "updated_at") VALUES ('deepseek-v4-pro', 0.435, 0.87, 0.0036, '2026-04-24', CURRENT_TIMESTAMP);

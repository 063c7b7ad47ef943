import type { TApiPrice, TEngineSpec, TGpuSpec } from './types';

/**
 * The baseline catalogs every install starts with (the migration inserts the same rows; admins edit
 * them from there). Figures come from /work/shared/docs (product.md, domain-reference.md,
 * engines-and-rollouts.md); hourly prices are typical on-demand rates and meant to be edited.
 */

export const DEFAULT_GPUS: TGpuSpec[] = [
  { model: 'NVIDIA A100-SXM4-80GB', vendor: 'nvidia', generation: 'ampere', memoryMib: 81920, computeCapability: '8.0', fp8TensorCores: false, fp4TensorCores: false, interconnect: 'nvswitch', typicalHourlyUsd: 1.79 },
  { model: 'NVIDIA L40S', vendor: 'nvidia', generation: 'ada', memoryMib: 46068, computeCapability: '8.9', fp8TensorCores: true, fp4TensorCores: false, interconnect: 'pcie', typicalHourlyUsd: 0.86 },
  { model: 'NVIDIA GeForce RTX 4090', vendor: 'nvidia', generation: 'ada', memoryMib: 24564, computeCapability: '8.9', fp8TensorCores: true, fp4TensorCores: false, interconnect: 'pcie', typicalHourlyUsd: 0.34 },
  { model: 'NVIDIA H100 80GB HBM3', vendor: 'nvidia', generation: 'hopper', memoryMib: 81559, computeCapability: '9.0', fp8TensorCores: true, fp4TensorCores: false, interconnect: 'nvswitch', typicalHourlyUsd: 2.49 },
  // 2x H200 rented at about $7.18/h (product.md) is $3.59 per GPU-hour.
  { model: 'NVIDIA H200', vendor: 'nvidia', generation: 'hopper', memoryMib: 143771, computeCapability: '9.0', fp8TensorCores: true, fp4TensorCores: false, interconnect: 'nvswitch', typicalHourlyUsd: 3.59 },
  { model: 'NVIDIA B200', vendor: 'nvidia', generation: 'blackwell', memoryMib: 183359, computeCapability: '10.0', fp8TensorCores: true, fp4TensorCores: true, interconnect: 'nvswitch', typicalHourlyUsd: 5.99 },
  { model: 'NVIDIA RTX PRO 6000 Blackwell Server Edition', vendor: 'nvidia', generation: 'blackwell', memoryMib: 97887, computeCapability: '12.0', fp8TensorCores: true, fp4TensorCores: true, interconnect: 'pcie', typicalHourlyUsd: 1.89 },
  { model: 'NVIDIA GeForce RTX 5090', vendor: 'nvidia', generation: 'blackwell', memoryMib: 32607, computeCapability: '12.0', fp8TensorCores: true, fp4TensorCores: true, interconnect: 'pcie', typicalHourlyUsd: 0.45 },
  { model: 'AMD Instinct MI300X', vendor: 'amd', generation: 'cdna3', memoryMib: 196592, computeCapability: null, fp8TensorCores: true, fp4TensorCores: false, interconnect: 'infinity_fabric', typicalHourlyUsd: 2.99 },
  { model: 'Apple M3 Ultra 512GB', vendor: 'apple', generation: 'apple', memoryMib: 524288, computeCapability: null, fp8TensorCores: false, fp4TensorCores: false, interconnect: 'unified_memory', typicalHourlyUsd: null },
  { model: 'Apple M2 Ultra 192GB', vendor: 'apple', generation: 'apple', memoryMib: 196608, computeCapability: null, fp8TensorCores: false, fp4TensorCores: false, interconnect: 'unified_memory', typicalHourlyUsd: null },
];

const VLLM_RECIPES = 'vllm-project/recipes models/deepseek-ai/DeepSeek-V4-{Flash,Pro}.yaml @8959cf6 (engines-and-rollouts.md §1.6)';
const SGLANG_COOKBOOK = 'sgl-project/sglang docs_new/cookbook/autoregressive/DeepSeek/DeepSeek-V4.mdx and docs/basic_usage/deepseek_v4_nvfp4_sm90.md (engines-and-rollouts.md §1.6)';

export const DEFAULT_ENGINES: TEngineSpec[] = [
  {
    kind: 'vllm',
    label: 'vLLM',
    servesV4: true,
    minV4Version: '0.20.0',
    minV4OfficialVersion: '0.25.0',
    minV4Source: VLLM_RECIPES,
    formats: ['safetensors', 'fp8', 'fp4_fp8', 'awq'],
    // The recipes carry Hopper cells for the native FP4+FP8 Pro checkpoint ("Pro on Hopper adds
    // --gpu-memory-utilization 0.95 ..."), so the recipe's floor is also the Hopper FP4 floor.
    hopperFp4MinVersion: '0.20.0',
    hopperFp4Source: `${VLLM_RECIPES}: Hopper cells for the native FP4+FP8 checkpoints`,
    images: { hopper: 'vllm/vllm-openai:v0.25.0', blackwell: 'vllm/vllm-openai:v0.25.0', ampere: 'vllm/vllm-openai:v0.25.0', ada: 'vllm/vllm-openai:v0.25.0' },
    needsTrustRemoteCode: true,
  },
  {
    kind: 'sglang',
    label: 'SGLang',
    servesV4: true,
    // UNCONFIRMED upstream: the oldest version with a V4 cookbook page.
    minV4Version: '0.5.12',
    minV4OfficialVersion: '0.5.12',
    minV4Source: `${SGLANG_COOKBOOK}. The minimum version is UNCONFIRMED, cookbook pages exist for 0.5.12-0.5.14`,
    formats: ['safetensors', 'fp8', 'fp4_fp8', 'awq'],
    hopperFp4MinVersion: '0.5.12',
    hopperFp4Source: `${SGLANG_COOKBOOK}: on Hopper the FP4 experts run as W4A16 with --moe-runner-backend marlin (the only option on H100)`,
    images: { hopper: 'lmsysorg/sglang:latest', blackwell: 'lmsysorg/sglang:latest' },
    needsTrustRemoteCode: true,
  },
  {
    kind: 'nim',
    label: 'NVIDIA NIM',
    servesV4: null,
    minV4Version: null,
    minV4OfficialVersion: null,
    minV4Source: 'No NIM profile for DeepSeek V4 is documented in the sources read (engines-and-rollouts.md §1.5)',
    formats: ['safetensors', 'fp8', 'fp4_fp8'],
    hopperFp4MinVersion: null,
    hopperFp4Source: 'not documented',
    images: {},
    needsTrustRemoteCode: false,
  },
  {
    kind: 'llamacpp',
    label: 'llama.cpp',
    servesV4: true,
    minV4Version: null,
    minV4OfficialVersion: null,
    minV4Source: 'llama.cpp PRs #22359 (conversion) and #22607 (deepseek4 architecture), later on master. The first build number is not recorded (domain-reference.md §5.2)',
    formats: ['gguf'],
    hopperFp4MinVersion: null,
    hopperFp4Source: 'GGUF quantises the experts itself, FP4 tensor cores are not used',
    images: { ampere: 'ghcr.io/ggml-org/llama.cpp:server-cuda', ada: 'ghcr.io/ggml-org/llama.cpp:server-cuda', hopper: 'ghcr.io/ggml-org/llama.cpp:server-cuda', blackwell: 'ghcr.io/ggml-org/llama.cpp:server-cuda' },
    needsTrustRemoteCode: false,
  },
  {
    kind: 'ollama',
    label: 'Ollama',
    servesV4: null,
    minV4Version: null,
    minV4OfficialVersion: null,
    minV4Source: 'Ollama bundles llama.cpp. Which release carries the deepseek4 architecture is not recorded',
    formats: ['gguf'],
    hopperFp4MinVersion: null,
    hopperFp4Source: 'GGUF quantises the experts itself',
    images: { ampere: 'ollama/ollama', ada: 'ollama/ollama', hopper: 'ollama/ollama', blackwell: 'ollama/ollama' },
    needsTrustRemoteCode: false,
  },
  {
    kind: 'mlx',
    label: 'MLX (mlx-lm)',
    servesV4: null,
    minV4Version: null,
    minV4OfficialVersion: null,
    minV4Source: 'mlx-lm @d78bf58 read for the server only, V4 support not confirmed (engines-and-rollouts.md §1.4)',
    formats: ['mlx'],
    hopperFp4MinVersion: null,
    hopperFp4Source: 'Apple silicon only',
    images: {},
    needsTrustRemoteCode: false,
  },
  {
    kind: 'tgi',
    label: 'Text Generation Inference',
    servesV4: false,
    minV4Version: null,
    minV4OfficialVersion: null,
    minV4Source: 'TGI has no deepseek_v4 model implementation. Hugging Face put TGI in maintenance mode and points to vLLM / SGLang (text-generation-inference README) [mem]',
    formats: ['safetensors', 'fp8', 'awq'],
    hopperFp4MinVersion: null,
    hopperFp4Source: 'not applicable',
    images: {},
    needsTrustRemoteCode: false,
  },
];

export const DEFAULT_API_PRICES: TApiPrice[] = [
  { family: 'deepseek-v4-flash', inputPerM: 0.14, outputPerM: 0.28, cacheHitInputPerM: 0.0028, asOf: '2026-04-24' },
  { family: 'deepseek-v4-pro', inputPerM: 0.435, outputPerM: 0.87, cacheHitInputPerM: 0.0036, asOf: '2026-04-24' },
];

import { DEFAULT_ENGINES, DEFAULT_GPUS } from './catalog-defaults';
import type { TArtifactTraits, TEngineKind, TEngineSpec, TGpuSpec } from './types';

/**
 * V4 config.json bodies as domain-reference.md §5.1 gives them. Pro: 30 CSA (ratio 4) and 31 HCA
 * (ratio 128) layers interleaved; Flash: the 5-layer test config's opening [0, 0, 4, 128, 4] continued
 * (21 CSA, 20 HCA, 2 window-only). Both lists carry one extra entry for the MTP layer.
 */
export function v4ProConfig(): Record<string, unknown> {
  const ratios = Array.from({ length: 61 }, (_, i) => (i % 2 === 0 ? 128 : 4));
  return {
    model_type: 'deepseek_v4',
    hidden_size: 7168,
    num_hidden_layers: 61,
    num_attention_heads: 128,
    num_key_value_heads: 1,
    head_dim: 512,
    qk_rope_head_dim: 64,
    q_lora_rank: 1536,
    o_lora_rank: 1024,
    n_routed_experts: 384,
    n_shared_experts: 1,
    num_experts_per_tok: 6,
    moe_intermediate_size: 3072,
    index_n_heads: 64,
    index_head_dim: 128,
    index_topk: 512,
    sliding_window: 128,
    compress_ratios: [...ratios, 0],
    vocab_size: 129280,
    max_position_embeddings: 1048576,
    quantization_config: {
      quant_method: 'fp8',
      fmt: 'e4m3',
      scale_fmt: 'ue8m0',
      weight_block_size: [128, 128],
      activation_scheme: 'dynamic',
    },
  };
}

export function v4FlashConfig(): Record<string, unknown> {
  const ratios = [0, 0, ...Array.from({ length: 41 }, (_, i) => (i % 2 === 0 ? 4 : 128))];
  return {
    ...v4ProConfig(),
    hidden_size: 4096,
    num_hidden_layers: 43,
    num_attention_heads: 64,
    q_lora_rank: 1024,
    n_routed_experts: 256,
    moe_intermediate_size: 2048,
    compress_ratios: [...ratios, 0],
  };
}

export function gpu(model: string): TGpuSpec {
  const g = DEFAULT_GPUS.find((x) => x.model === model);
  if (!g) throw new Error(`no default GPU ${model}`);
  return g;
}

export function engineSpec(kind: TEngineKind): TEngineSpec {
  return DEFAULT_ENGINES.find((e) => e.kind === kind)!;
}

export function artifact(over: Partial<TArtifactTraits> = {}): TArtifactTraits {
  return {
    format: 'fp4_fp8',
    quantisation: 'FP4+FP8',
    modelType: 'deepseek_v4',
    expertDtype: 'fp4',
    repoId: 'deepseek-ai/DeepSeek-V4-Flash',
    requirements: {},
    ...over,
  };
}

export const H100 = 'NVIDIA H100 80GB HBM3';
export const H200 = 'NVIDIA H200';
export const B200 = 'NVIDIA B200';
export const A100 = 'NVIDIA A100-SXM4-80GB';
export const L40S = 'NVIDIA L40S';
export const RTX5090 = 'NVIDIA GeForce RTX 5090';
export const M2_ULTRA = 'Apple M2 Ultra 192GB';
export const MI300X = 'AMD Instinct MI300X';

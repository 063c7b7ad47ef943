import type { QualityThresholds } from '@fleetplane/domain';

/** What a built-in conversion produces. */
export type ConversionTarget =
  | { format: 'fp8-block'; scaleFormat?: 'f32' | 'ue8m0'; blockSize?: 128 }
  | { format: 'gguf'; type: 'F16' | 'BF16' | 'Q8_0' | 'Q4_0' }
  | { format: 'mlx-affine'; bits: 4 | 8; groupSize?: 32 | 64 | 128 }
  | { format: 'bf16' };

/**
 * Modules kept in higher precision (matched as substrings of the tensor name): embeddings, the output head, norms,
 * the MoE router and its bias, as DeepSeek's own FP8 checkpoints and llama.cpp do. 1-D tensors are never quantised.
 */
export const DEFAULT_IGNORED_MODULES = [
  'embed',
  'lm_head',
  'head.weight',
  'norm',
  'mlp.gate.weight',
  'ffn.gate.weight',
  'e_score_correction_bias',
];

export interface ConversionParameters {
  target: ConversionTarget;
  ignoredModules?: string[];
  /** Safetensors shard size limit in bytes (default 5 GiB, the Hub's usual). */
  maxShardBytes?: number;
  /** Quality limits for this artifact; a breach fails the conversion and nothing is published. */
  thresholds?: QualityThresholds;
  /** GGUF general.name. */
  modelName?: string;
}

/** Quality limits that a correct conversion of typical weights meets with margin (recipes may tighten them). */
export function defaultThresholds(target: ConversionTarget): QualityThresholds {
  switch (target.format) {
    case 'fp8-block':
      return { maxRelRmse: 0.08, minSnrDb: 22 };
    case 'gguf':
      return target.type === 'Q4_0'
        ? { maxRelRmse: 0.2, minSnrDb: 14 }
        : target.type === 'Q8_0'
          ? { maxRelRmse: 0.02, minSnrDb: 34 }
          : { maxRelRmse: 0.01, minSnrDb: 40 };
    case 'mlx-affine':
      return target.bits === 4 ? { maxRelRmse: 0.2, minSnrDb: 14 } : { maxRelRmse: 0.02, minSnrDb: 34 };
    case 'bf16':
      return { maxRelRmse: 0.01, minSnrDb: 40 };
  }
}

export function describeTarget(t: ConversionTarget): string {
  switch (t.format) {
    case 'fp8-block':
      return `FP8 E4M3 ${t.blockSize ?? 128}x${t.blockSize ?? 128} block (${t.scaleFormat ?? 'f32'} scales)`;
    case 'gguf':
      return `GGUF ${t.type}`;
    case 'mlx-affine':
      return `MLX affine ${t.bits}-bit, group ${t.groupSize ?? 64}`;
    case 'bf16':
      return 'BF16 (dequantised)';
  }
}

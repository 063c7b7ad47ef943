import type { ArtifactFormat } from '@fleetplane/db';

/** Format of a downloaded upstream artifact, from its files. */
export function detectFormat(paths: readonly string[]): ArtifactFormat {
  if (paths.some((p) => p.toLowerCase().endsWith('.gguf'))) return 'gguf';
  return 'safetensors';
}

const GGUF_QUANT = /(?:^|[-_.])((?:I?Q\d(?:_[0-9A-Z]+)*)|BF16|F16|F32)(?=[-_.]|\.gguf$)/i;

/**
 * Human label of the quantisation: from config.json's quantization_config (e.g. FP8 for DeepSeek's
 * block-wise e4m3 weights), from a GGUF file name (Q4_K_M), else the upstream dtype.
 */
export function detectQuantisation(paths: readonly string[], configJson: string | null): string {
  if (configJson) {
    try {
      const cfg = JSON.parse(configJson) as { quantization_config?: { quant_method?: unknown; fmt?: unknown }; torch_dtype?: unknown };
      const method = cfg.quantization_config?.quant_method;
      if (typeof method === 'string' && method) return method.toUpperCase();
      if (typeof cfg.torch_dtype === 'string' && cfg.torch_dtype)
        return cfg.torch_dtype === 'bfloat16' ? 'BF16' : cfg.torch_dtype.toUpperCase();
    } catch {
      // A malformed config.json is the model's problem, not the download's: fall through.
    }
  }
  for (const p of paths) {
    if (!p.toLowerCase().endsWith('.gguf')) continue;
    const m = GGUF_QUANT.exec(p.slice(p.lastIndexOf('/') + 1));
    if (m?.[1]) return m[1].toUpperCase();
  }
  return 'original';
}

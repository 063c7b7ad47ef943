import { buildSafetensors, tensorByteLength, type TensorSpec } from './safetensors';

// Small stand-ins for the files of a DeepSeek V4 repository. config.json carries the real architecture
// keys (domain-reference §5.1) so planners read real numbers; the tensors themselves are miniature.

export type V4Variant = 'flash' | 'pro' | 'flash-fp8';

const FP8_QUANT = { quant_method: 'fp8', fmt: 'e4m3', scale_fmt: 'ue8m0', weight_block_size: [128, 128], activation_scheme: 'dynamic' };

/** Per-layer compression ratios. The real split is not public for Flash; this follows the reported shape. */
function compressRatios(layers: number, leadingDense: number): number[] {
  return Array.from({ length: layers }, (_, i) => (i < leadingDense ? 0 : (i - leadingDense) % 2 === 0 ? 4 : 128));
}

export function v4Config(variant: V4Variant): Record<string, unknown> {
  const pro = variant === 'pro';
  const layers = pro ? 61 : 43;
  return {
    architectures: ['DeepseekV4ForCausalLM'],
    model_type: 'deepseek_v4',
    torch_dtype: 'bfloat16',
    hidden_size: pro ? 7168 : 4096,
    num_hidden_layers: layers,
    num_attention_heads: pro ? 128 : 64,
    num_key_value_heads: 1,
    head_dim: 512,
    qk_rope_head_dim: 64,
    q_lora_rank: pro ? 1536 : 1024,
    o_lora_rank: 1024,
    o_groups: pro ? 16 : 8,
    n_routed_experts: pro ? 384 : 256,
    n_shared_experts: 1,
    num_experts_per_tok: 6,
    moe_intermediate_size: pro ? 3072 : 2048,
    num_hash_layers: 3,
    index_n_heads: 64,
    index_head_dim: 128,
    index_topk: 512,
    sliding_window: 128,
    compress_ratios: pro ? compressRatios(layers, 0).map((r) => (r === 4 ? 128 : 4)) : compressRatios(layers, 2),
    vocab_size: 129280,
    max_position_embeddings: 1048576,
    num_nextn_predict_layers: 1,
    hc_mult: 4,
    routed_scaling_factor: pro ? 2.5 : 1.5,
    scoring_func: 'sqrtsoftplus',
    rms_norm_eps: 1e-6,
    rope_theta: 10000,
    bos_token_id: 0,
    eos_token_id: 1,
    tie_word_embeddings: false,
    quantization_config: variant === 'flash-fp8' ? FP8_QUANT : { ...FP8_QUANT, expert_dtype: 'fp4' },
  };
}

/** Miniature tensors with V4's dtype mix: BF16 embeddings/norms, F8_E4M3 + F8_E8M0 scales, I8-packed FP4 experts. */
export function v4Shards(
  variant: V4Variant,
  shardCount: number,
  seed: string,
): Array<{ path: string; bytes: Buffer; tensors: TensorSpec[] }> {
  const fp4Experts = variant !== 'flash-fp8';
  const h = 256;
  const shards: TensorSpec[][] = Array.from({ length: shardCount }, () => []);
  shards[0]!.push({ name: 'model.embed_tokens.weight', dtype: 'BF16', shape: [1024, h] });
  const layers = shardCount * 2;
  for (let l = 0; l < layers; l++) {
    const s = shards[Math.min(shardCount - 1, Math.floor(l / 2))]!;
    const p = `model.layers.${l}`;
    s.push({ name: `${p}.input_layernorm.weight`, dtype: 'BF16', shape: [h] });
    s.push({ name: `${p}.self_attn.wq_a.weight`, dtype: 'F8_E4M3', shape: [h, h] });
    s.push({ name: `${p}.self_attn.wq_a.weight_scale_inv`, dtype: 'F8_E8M0', shape: [2, 2] });
    s.push({ name: `${p}.self_attn.wkv.weight`, dtype: 'F8_E4M3', shape: [h, h] });
    s.push({ name: `${p}.self_attn.wkv.weight_scale_inv`, dtype: 'F8_E8M0', shape: [2, 2] });
    for (let e = 0; e < 4; e++) {
      const ep = `${p}.mlp.experts.${e}`;
      for (const proj of ['gate_proj', 'up_proj', 'down_proj']) {
        if (fp4Experts) {
          // Two FP4 values per byte, one E8M0 scale per 32 values.
          s.push({ name: `${ep}.${proj}.weight`, dtype: 'I8', shape: [h, h / 2] });
          s.push({ name: `${ep}.${proj}.weight_scale`, dtype: 'F8_E8M0', shape: [h, h / 32] });
        } else {
          s.push({ name: `${ep}.${proj}.weight`, dtype: 'F8_E4M3', shape: [h, h] });
          s.push({ name: `${ep}.${proj}.weight_scale_inv`, dtype: 'F8_E8M0', shape: [2, 2] });
        }
      }
    }
  }
  shards[shardCount - 1]!.push({ name: 'model.norm.weight', dtype: 'BF16', shape: [h] });
  shards[shardCount - 1]!.push({ name: 'lm_head.weight', dtype: 'BF16', shape: [1024, h] });
  const pad = (n: number) => String(n).padStart(5, '0');
  return shards.map((tensors, i) => {
    const path = `model-${pad(i + 1)}-of-${pad(shardCount)}.safetensors`;
    return { path, tensors, bytes: buildSafetensors(tensors, `${seed}:${path}`) };
  });
}

export function safetensorsIndex(shards: Array<{ path: string; tensors: TensorSpec[] }>): string {
  const weightMap: Record<string, string> = {};
  let total = 0;
  for (const s of shards) {
    for (const t of s.tensors) {
      weightMap[t.name] = s.path;
      total += tensorByteLength(t);
    }
  }
  return `${JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2)}\n`;
}

const BOS = '<｜begin▁of▁sentence｜>';
const EOS = '<｜end▁of▁sentence｜>';

export function chatTemplate(revision: number): string {
  const thinkStrip =
    revision >= 2
      ? "{%- set content = message['content'].split('</think>')[-1] if '</think>' in message['content'] else message['content'] -%}"
      : "{%- set content = message['content'] -%}";
  return [
    '{%- if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif -%}',
    '{{- bos_token -}}',
    '{%- for message in messages -%}',
    "{%- if message['role'] == 'system' -%}{{ message['content'] }}",
    "{%- elif message['role'] == 'user' -%}{{ '<｜User｜>' + message['content'] }}",
    "{%- elif message['role'] == 'assistant' -%}" + thinkStrip + "{{ '<｜Assistant｜>' + content + eos_token }}",
    '{%- endif -%}',
    '{%- endfor -%}',
    "{%- if add_generation_prompt -%}{{ '<｜Assistant｜>' }}{%- if thinking is defined and thinking -%}{{ '<think>' }}{%- else -%}{{ '</think>' }}{%- endif -%}{%- endif -%}",
  ].join('');
}

export function tokenizerConfig(revision: number): string {
  return `${JSON.stringify(
    {
      add_bos_token: true,
      add_eos_token: false,
      bos_token: BOS,
      eos_token: EOS,
      pad_token: EOS,
      clean_up_tokenization_spaces: false,
      legacy: true,
      model_max_length: 1048576,
      tokenizer_class: 'LlamaTokenizerFast',
      chat_template: chatTemplate(revision),
    },
    null,
    2,
  )}\n`;
}

/** GPT-2 byte-to-unicode table: the alphabet of a byte-level BPE vocabulary. */
function byteLevelAlphabet(): string[] {
  const keep: number[] = [];
  for (let b = 33; b <= 126; b++) keep.push(b);
  for (let b = 161; b <= 172; b++) keep.push(b);
  for (let b = 174; b <= 255; b++) keep.push(b);
  let extra = 0;
  return Array.from({ length: 256 }, (_, b) => String.fromCodePoint(keep.includes(b) ? b : 256 + extra++));
}

export function tokenizerJson(): string {
  const special = [BOS, EOS, '<｜User｜>', '<｜Assistant｜>', '<think>', '</think>', '<｜▁pad▁｜>'];
  const vocab: Record<string, number> = {};
  special.forEach((t, i) => (vocab[t] = i));
  for (const ch of byteLevelAlphabet()) vocab[ch] = Object.keys(vocab).length;
  const merges = ['Ġ t', 'h e', 'i n', 'Ġ a', 'e r', 'o n', 'Ġt he', 'e n', 'r e', 'Ġ s'];
  for (const m of merges) vocab[m.replace(' ', '')] = Object.keys(vocab).length;
  return `${JSON.stringify({
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: special.map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  })}\n`;
}

export function generationConfig(): string {
  return `${JSON.stringify({ _from_model_config: true, bos_token_id: 0, eos_token_id: 1, do_sample: true, temperature: 1.0, top_p: 0.95 }, null, 2)}\n`;
}

export const GITATTRIBUTES = [
  '*.7z',
  '*.arrow',
  '*.bin',
  '*.bz2',
  '*.ckpt',
  '*.ftz',
  '*.gguf',
  '*.gz',
  '*.h5',
  '*.joblib',
  '*.lfs.*',
  '*.mlmodel',
  '*.model',
  '*.msgpack',
  '*.npy',
  '*.npz',
  '*.onnx',
  '*.ot',
  '*.parquet',
  '*.pb',
  '*.pickle',
  '*.pkl',
  '*.pt',
  '*.pth',
  '*.rar',
  '*.safetensors',
  'saved_model/**/*',
  '*.tar.*',
  '*.tar',
  '*.tflite',
  '*.tgz',
  '*.wasm',
  '*.xz',
  '*.zip',
  '*.zst',
  '*tfevents*',
]
  .map((p) => `${p} filter=lfs diff=lfs merge=lfs -text`)
  .join('\n')
  .concat('\n');

export const MIT_LICENSE = `MIT License

Copyright (c) 2026 DeepSeek

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated
documentation files (the "Software"), to deal in the Software without restriction, including without limitation
the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND.
`;

export function readme(title: string, body: string, edits: string[] = []): string {
  const changelog = edits.length > 0 ? `\n## Changelog\n\n${edits.map((e) => `- ${e}`).join('\n')}\n` : '';
  return `---\nlicense: mit\nlibrary_name: transformers\npipeline_tag: text-generation\n---\n\n# ${title}\n\n${body}\n${changelog}`;
}

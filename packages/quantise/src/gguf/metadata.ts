import type { GgufKv } from './writer';

// What llama.cpp-style loaders read from a GGUF besides the tensors: general.*, the architecture's hyper-parameters
// (from config.json) and the tokenizer (from tokenizer.json / tokenizer_config.json). Keys: domain-reference §2.2.

/** config.json model_type -> GGUF architecture name. deepseek4 is what llama.cpp's V4 support uses. */
const ARCHITECTURES: Record<string, string> = {
  deepseek_v4: 'deepseek4',
  deepseek_v3: 'deepseek2',
  deepseek_v2: 'deepseek2',
  llama: 'llama',
  qwen2: 'qwen2',
  qwen3: 'qwen3',
  mistral: 'llama',
};

export function ggufArchitecture(config: Record<string, unknown>): string {
  const modelType = typeof config.model_type === 'string' ? config.model_type : 'llama';
  return ARCHITECTURES[modelType] ?? modelType.replace(/[^a-z0-9_]/gi, '').toLowerCase();
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export function architectureKvs(arch: string, config: Record<string, unknown>): GgufKv[] {
  const kvs: GgufKv[] = [];
  const u32 = (key: string, v: unknown) => {
    const n = num(v);
    if (n !== undefined && Number.isInteger(n) && n >= 0) kvs.push({ key: `${arch}.${key}`, type: 'u32', value: n });
  };
  const f32 = (key: string, v: unknown) => {
    const n = num(v);
    if (n !== undefined) kvs.push({ key: `${arch}.${key}`, type: 'f32', value: n });
  };
  u32('context_length', config.max_position_embeddings);
  u32('embedding_length', config.hidden_size);
  u32('block_count', config.num_hidden_layers);
  u32('feed_forward_length', config.intermediate_size);
  u32('attention.head_count', config.num_attention_heads);
  u32('attention.head_count_kv', config.num_key_value_heads);
  u32('attention.key_length', config.head_dim);
  u32('attention.value_length', config.head_dim);
  u32('attention.q_lora_rank', config.q_lora_rank);
  u32('rope.dimension_count', config.qk_rope_head_dim);
  f32('rope.freq_base', config.rope_theta);
  f32('attention.layer_norm_rms_epsilon', config.rms_norm_eps);
  u32('expert_count', config.n_routed_experts ?? config.num_local_experts);
  u32('expert_used_count', config.num_experts_per_tok);
  u32('expert_shared_count', config.n_shared_experts);
  u32('expert_feed_forward_length', config.moe_intermediate_size);
  f32('expert_weights_scale', config.routed_scaling_factor);
  u32('vocab_size', config.vocab_size);
  return kvs;
}

interface TokenizerJson {
  added_tokens?: Array<{ id: number; content: string; special?: boolean }>;
  model?: { type?: string; vocab?: Record<string, number>; merges?: Array<string | [string, string]> };
}

/**
 * tokenizer.ggml.* keys for a byte-level BPE tokenizer.json (what DeepSeek ships): model "gpt2", tokens by id,
 * token types (1 normal, 3 control for special added tokens), merges, BOS/EOS ids and the chat template.
 * Returns [] with a reason for tokenizers it cannot represent (e.g. a SentencePiece/Unigram model).
 */
export function tokenizerKvs(
  tokenizer: TokenizerJson,
  tokenizerConfig: Record<string, unknown> | null,
  config: Record<string, unknown>,
): { kvs: GgufKv[]; skipped?: string } {
  if (tokenizer.model?.type !== 'BPE' || !tokenizer.model.vocab)
    return { kvs: [], skipped: `tokenizer model ${tokenizer.model?.type ?? 'unknown'} is not byte-level BPE` };
  const vocab = new Map<number, string>();
  for (const [tok, id] of Object.entries(tokenizer.model.vocab)) vocab.set(id, tok);
  const special = new Set<number>();
  for (const t of tokenizer.added_tokens ?? []) {
    vocab.set(t.id, t.content);
    if (t.special) special.add(t.id);
  }
  const size = Math.max(-1, ...vocab.keys()) + 1;
  const tokens: string[] = [];
  const types: number[] = [];
  for (let i = 0; i < size; i++) {
    const t = vocab.get(i);
    // Holes in the id space become unused placeholder tokens, as convert_hf_to_gguf does ([PAD<id>], type 5 = unused).
    tokens.push(t ?? `[PAD${i}]`);
    types.push(t === undefined ? 5 : special.has(i) ? 3 : 1);
  }
  const merges = (tokenizer.model.merges ?? []).map((m) => (Array.isArray(m) ? m.join(' ') : m));
  const kvs: GgufKv[] = [
    { key: 'tokenizer.ggml.model', type: 'string', value: 'gpt2' },
    { key: 'tokenizer.ggml.pre', type: 'string', value: 'default' },
    { key: 'tokenizer.ggml.tokens', type: 'string[]', value: tokens },
    { key: 'tokenizer.ggml.token_type', type: 'i32[]', value: types },
    { key: 'tokenizer.ggml.merges', type: 'string[]', value: merges },
  ];
  const bos = num(config.bos_token_id);
  const eos = num(config.eos_token_id);
  if (bos !== undefined) kvs.push({ key: 'tokenizer.ggml.bos_token_id', type: 'u32', value: bos });
  if (eos !== undefined) kvs.push({ key: 'tokenizer.ggml.eos_token_id', type: 'u32', value: eos });
  if (tokenizerConfig && typeof tokenizerConfig.add_bos_token === 'boolean')
    kvs.push({ key: 'tokenizer.ggml.add_bos_token', type: 'bool', value: tokenizerConfig.add_bos_token });
  if (tokenizerConfig && typeof tokenizerConfig.chat_template === 'string')
    kvs.push({ key: 'tokenizer.chat_template', type: 'string', value: tokenizerConfig.chat_template });
  return { kvs };
}

/**
 * Hugging Face tensor name -> llama.cpp-style GGUF name for the common pieces (embeddings, output, norms, layer
 * prefix). V4-specific tensors keep their own suffix under blk.N: llama.cpp's deepseek4 loader also stacks routed
 * experts into one [n_expert, ...] tensor per projection, which this writer does not do (see docs/quantisation.md).
 */
export function ggufTensorName(hfName: string): string {
  let n = hfName.replace(/^model\./, '');
  if (n === 'embed_tokens.weight' || n === 'embed.weight') return 'token_embd.weight';
  if (n === 'norm.weight') return 'output_norm.weight';
  if (n === 'lm_head.weight' || n === 'head.weight') return 'output.weight';
  const m = /^layers\.(\d+)\.(.*)$/.exec(n);
  if (!m) return n;
  n = m[2]!
    .replace(/^input_layernorm\./, 'attn_norm.')
    .replace(/^post_attention_layernorm\./, 'ffn_norm.')
    .replace(/^self_attn\./, 'attn.')
    .replace(/^mlp\.experts\.(\d+)\.(gate|up|down)_proj\./, 'ffn_$2_exp.$1.')
    .replace(/^mlp\.shared_experts?\.(gate|up|down)_proj\./, 'ffn_$1_shexp.')
    .replace(/^mlp\.(gate|up|down)_proj\./, 'ffn_$1.')
    .replace(/^mlp\.gate\./, 'ffn_gate_inp.');
  return `blk.${m[1]}.${n}`;
}

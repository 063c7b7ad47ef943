import { describe, expect, it } from 'vitest';
import { parseGgufArch, parseModelConfig } from './model-config';
import { v4FlashConfig, v4ProConfig } from './test-support';

describe('parseModelConfig', () => {
  it("reads V4-Pro as hybrid attention, dropping the MTP layer's compress ratio", () => {
    const r = parseModelConfig(v4ProConfig());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.attention).toBe('v4_hybrid');
    expect(r.value.compressRatios).toHaveLength(61);
    expect(r.value.headDim).toBe(512);
    expect(r.value.slidingWindow).toBe(128);
    expect(r.value.ffnIntermediateSize).toBe(3072);
    expect(r.value.expertDtype).toBe('fp4');
    expect(r.value.maxPositionEmbeddings).toBe(1048576);
  });

  it('reads MLA (V3) and GQA (Llama-style) configs', () => {
    const v3 = parseModelConfig({
      model_type: 'deepseek_v3',
      num_hidden_layers: 61,
      hidden_size: 7168,
      num_attention_heads: 128,
      kv_lora_rank: 512,
      qk_rope_head_dim: 64,
      max_position_embeddings: 163840,
    });
    expect(v3.ok && v3.value.attention).toBe('mla');
    const llama = parseModelConfig({
      model_type: 'llama',
      num_hidden_layers: 80,
      hidden_size: 8192,
      num_attention_heads: 64,
      num_key_value_heads: 8,
      max_position_embeddings: 131072,
    });
    expect(llama.ok && llama.value).toMatchObject({ attention: 'gqa', headDim: 128, numKeyValueHeads: 8 });
  });

  it('names every missing field instead of guessing', () => {
    const { num_hidden_layers: _l, sliding_window: _w, ...rest } = v4FlashConfig();
    const r = parseModelConfig(rest);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toContain('config.json is missing num_hidden_layers (a positive integer)');
    expect(r.errors.some((e) => e.includes('sliding_window'))).toBe(true);
  });

  it('rejects non-objects, bad ratio lists, too few ratios and MLA without the rope width', () => {
    expect(parseModelConfig('nope')).toEqual({ ok: false, errors: ['config.json is not a JSON object'] });
    expect(parseModelConfig({ ...v4FlashConfig(), compress_ratios: ['4'] }).ok).toBe(false);
    const short = parseModelConfig({ ...v4FlashConfig(), compress_ratios: [0, 4] });
    expect(!short.ok && short.errors[0]).toMatch(/2 compress_ratios entries for 43 layers/);
    const mla = parseModelConfig({
      num_hidden_layers: 2,
      hidden_size: 64,
      num_attention_heads: 4,
      kv_lora_rank: 16,
      max_position_embeddings: 1024,
    });
    expect(!mla.ok && mla.errors[0]).toMatch(/qk_rope_head_dim/);
  });
});

describe('parseGgufArch', () => {
  // The shape @huggingface/gguf returns: u32 as number, u64 as bigint, arrays as arrays.
  const deepseek2 = {
    'general.architecture': 'deepseek2',
    'deepseek2.block_count': 61,
    'deepseek2.context_length': 163840,
    'deepseek2.embedding_length': 7168,
    'deepseek2.attention.head_count': 128,
    'deepseek2.attention.head_count_kv': 128,
    'deepseek2.attention.kv_lora_rank': 512,
    'deepseek2.rope.dimension_count': 64,
    'deepseek2.expert_count': 256,
    'deepseek2.expert_used_count': 8,
    'deepseek2.expert_feed_forward_length': 2048,
    'deepseek2.vocab_size': 129280n,
  };

  it('reads llama.cpp keys, bigint values included', () => {
    const r = parseGgufArch(deepseek2);
    expect(r.ok && r.value).toMatchObject({
      attention: 'mla',
      numLayers: 61,
      kvLoraRank: 512,
      qkRopeHeadDim: 64,
      vocabSize: 129280,
      numRoutedExperts: 256,
    });
  });

  it('reads a deepseek4 GGUF that carries compress ratios, and says so when it does not', () => {
    const v4 = {
      'general.architecture': 'deepseek4',
      'deepseek4.block_count': 3,
      'deepseek4.context_length': 1048576,
      'deepseek4.embedding_length': 4096,
      'deepseek4.attention.head_count': 64,
      'deepseek4.attention.head_count_kv': 1,
      'deepseek4.attention.key_length': 512,
      'deepseek4.attention.sliding_window': 128,
      'deepseek4.attention.indexer.key_length': 128,
      'deepseek4.attention.compress_ratios': [0, 4, 128],
    };
    const r = parseGgufArch(v4);
    expect(r.ok && r.value.attention).toBe('v4_hybrid');
    const { 'deepseek4.attention.compress_ratios': _c, ...noRatios } = v4;
    const bad = parseGgufArch(noRatios);
    expect(!bad.ok && bad.errors[0]).toMatch(/config\.json instead/);
  });

  it('requires general.architecture', () => {
    expect(parseGgufArch({}).ok).toBe(false);
  });
});

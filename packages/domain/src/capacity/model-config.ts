/**
 * The model architecture the fit planner needs, read from an artifact's own config.json or from
 * GGUF metadata (as @huggingface/gguf returns it). Never hard-coded: public sources disagree on V4's
 * numbers, so the planner reads what the checkpoint says and names what is missing.
 */

export type TAttentionKind = 'v4_hybrid' | 'mla' | 'gqa';

export interface TModelArch {
  modelType: string | null;
  attention: TAttentionKind;
  numLayers: number;
  hiddenSize: number;
  numAttentionHeads: number;
  numKeyValueHeads: number;
  headDim: number;
  /** MLA latent width (V2/V3/V3.2). */
  kvLoraRank: number | null;
  qkRopeHeadDim: number | null;
  /** V4: per layer 0 (sliding window only), 4 (CSA, with indexer) or 128 (HCA); first numLayers entries. */
  compressRatios: number[] | null;
  slidingWindow: number | null;
  /** Lightning-indexer key width (V3.2 DSA, V4 CSA layers). */
  indexHeadDim: number | null;
  numRoutedExperts: number | null;
  numExpertsPerToken: number | null;
  /** FFN width one token passes through: the routed experts' width, or the dense MLP's. */
  ffnIntermediateSize: number;
  vocabSize: number;
  maxPositionEmbeddings: number;
  expertDtype: 'fp4' | 'fp8' | null;
}

export type TParseResult<T> = { ok: true; value: T } | { ok: false; errors: string[] };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Positive integer from a JSON number or a GGUF bigint; null when absent or not one. */
function positiveInt(v: unknown): number | null {
  const n = typeof v === 'bigint' ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : null;
}

function intList(v: unknown): number[] | null {
  if (!Array.isArray(v) || v.length === 0) return null;
  const out = v.map((x) => (typeof x === 'bigint' ? Number(x) : x));
  return out.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0) ? (out as number[]) : null;
}

interface TRawArch {
  source: string;
  modelType: string | null;
  numLayers: unknown;
  hiddenSize: unknown;
  numAttentionHeads: unknown;
  numKeyValueHeads: unknown;
  headDim: unknown;
  kvLoraRank: unknown;
  qkRopeHeadDim: unknown;
  compressRatios: unknown;
  slidingWindow: unknown;
  indexHeadDim: unknown;
  numRoutedExperts: unknown;
  numExpertsPerToken: unknown;
  moeIntermediateSize: unknown;
  intermediateSize: unknown;
  vocabSize: unknown;
  maxPositionEmbeddings: unknown;
  expertDtype: unknown;
}

function buildArch(raw: TRawArch, names: Record<keyof Omit<TRawArch, 'source' | 'modelType'>, string>): TParseResult<TModelArch> {
  const errors: string[] = [];
  const need = (key: keyof typeof names, v: unknown): number => {
    const n = positiveInt(v);
    if (n === null) errors.push(`${raw.source} is missing ${names[key]} (a positive integer)`);
    return n ?? 0;
  };
  const numLayers = need('numLayers', raw.numLayers);
  const hiddenSize = need('hiddenSize', raw.hiddenSize);
  const numAttentionHeads = need('numAttentionHeads', raw.numAttentionHeads);
  const maxPositionEmbeddings = need('maxPositionEmbeddings', raw.maxPositionEmbeddings);
  const vocabSize = positiveInt(raw.vocabSize) ?? 0;
  // HF's convention: no num_key_value_heads means plain multi-head attention.
  const numKeyValueHeads = positiveInt(raw.numKeyValueHeads) ?? numAttentionHeads;
  const headDim = positiveInt(raw.headDim) ?? (numAttentionHeads > 0 ? Math.floor(hiddenSize / numAttentionHeads) : 0);
  const kvLoraRank = positiveInt(raw.kvLoraRank);
  const qkRopeHeadDim = positiveInt(raw.qkRopeHeadDim);
  const ratios = raw.compressRatios === undefined || raw.compressRatios === null ? null : intList(raw.compressRatios);
  if (raw.compressRatios != null && ratios === null)
    errors.push(`${raw.source} has ${names.compressRatios} that is not a list of non-negative integers`);
  const slidingWindow = positiveInt(raw.slidingWindow);
  const indexHeadDim = positiveInt(raw.indexHeadDim);
  const numRoutedExperts = positiveInt(raw.numRoutedExperts);
  const numExpertsPerToken = positiveInt(raw.numExpertsPerToken);
  const ffnIntermediateSize =
    (numRoutedExperts ? positiveInt(raw.moeIntermediateSize) : null) ?? positiveInt(raw.intermediateSize) ?? 4 * hiddenSize;

  let attention: TAttentionKind = 'gqa';
  let compressRatios: number[] | null = null;
  if (ratios) {
    attention = 'v4_hybrid';
    if (numLayers > 0 && ratios.length < numLayers)
      errors.push(`${raw.source} has ${ratios.length} ${names.compressRatios} entries for ${numLayers} layers`);
    // One extra entry is the MTP layer's; the serving KV budget counts the main layers.
    compressRatios = ratios.slice(0, numLayers);
    if (slidingWindow === null) errors.push(`${raw.source} is missing ${names.slidingWindow}, which V4's compressed attention needs`);
    if (positiveInt(raw.headDim) === null) errors.push(`${raw.source} is missing ${names.headDim}, which V4's compressed attention needs`);
    if (compressRatios.some((r) => r > 0 && r <= 4) && indexHeadDim === null)
      errors.push(`${raw.source} is missing ${names.indexHeadDim} for its CSA layers`);
  } else if (kvLoraRank !== null) {
    attention = 'mla';
    if (qkRopeHeadDim === null) errors.push(`${raw.source} is missing ${names.qkRopeHeadDim}, which MLA needs beside ${names.kvLoraRank}`);
  }
  if (errors.length > 0) return { ok: false, errors };
  const expertDtype = raw.expertDtype === 'fp4' || raw.expertDtype === 'fp8' ? raw.expertDtype : null;
  return {
    ok: true,
    value: {
      modelType: raw.modelType,
      attention,
      numLayers,
      hiddenSize,
      numAttentionHeads,
      numKeyValueHeads,
      headDim,
      kvLoraRank,
      qkRopeHeadDim,
      compressRatios,
      slidingWindow,
      indexHeadDim,
      numRoutedExperts,
      numExpertsPerToken,
      ffnIntermediateSize,
      vocabSize,
      maxPositionEmbeddings,
      expertDtype,
    },
  };
}

/** From a Hugging Face config.json (parsed JSON). V4 keys per domain-reference.md §5.1. */
export function parseModelConfig(json: unknown): TParseResult<TModelArch> {
  if (!isRecord(json)) return { ok: false, errors: ['config.json is not a JSON object'] };
  // Multimodal wrappers keep the language model's numbers under text_config.
  const c = isRecord(json.text_config) ? { ...json, ...json.text_config } : json;
  return buildArch(
    {
      source: 'config.json',
      modelType: typeof c.model_type === 'string' ? c.model_type : null,
      numLayers: c.num_hidden_layers,
      hiddenSize: c.hidden_size,
      numAttentionHeads: c.num_attention_heads,
      numKeyValueHeads: c.num_key_value_heads,
      headDim: c.head_dim,
      kvLoraRank: c.kv_lora_rank,
      qkRopeHeadDim: c.qk_rope_head_dim,
      compressRatios: c.compress_ratios,
      slidingWindow: c.sliding_window,
      indexHeadDim: c.index_head_dim,
      numRoutedExperts: c.n_routed_experts ?? c.num_local_experts ?? c.num_experts,
      numExpertsPerToken: c.num_experts_per_tok,
      moeIntermediateSize: c.moe_intermediate_size,
      intermediateSize: c.intermediate_size,
      vocabSize: c.vocab_size,
      maxPositionEmbeddings: c.max_position_embeddings,
      // vLLM treats a missing expert_dtype on V4 as fp4 (quantisation-formats.md §3.2).
      expertDtype:
        c.expert_dtype ??
        (isRecord(c.quantization_config) ? c.quantization_config.expert_dtype : undefined) ??
        (typeof c.model_type === 'string' && c.model_type.startsWith('deepseek_v4') ? 'fp4' : null),
    },
    {
      numLayers: 'num_hidden_layers',
      hiddenSize: 'hidden_size',
      numAttentionHeads: 'num_attention_heads',
      numKeyValueHeads: 'num_key_value_heads',
      headDim: 'head_dim',
      kvLoraRank: 'kv_lora_rank',
      qkRopeHeadDim: 'qk_rope_head_dim',
      compressRatios: 'compress_ratios',
      slidingWindow: 'sliding_window',
      indexHeadDim: 'index_head_dim',
      numRoutedExperts: 'n_routed_experts',
      numExpertsPerToken: 'num_experts_per_tok',
      moeIntermediateSize: 'moe_intermediate_size',
      intermediateSize: 'intermediate_size',
      vocabSize: 'vocab_size',
      maxPositionEmbeddings: 'max_position_embeddings',
      expertDtype: 'expert_dtype',
    },
  );
}

/**
 * From GGUF metadata as @huggingface/gguf returns it (`{ metadata }`: keys like
 * "deepseek2.block_count", u64 values as bigint). The V4 compress-ratio key follows llama.cpp's
 * `<arch>.attention.*` naming; it is an assumption until the deepseek4 writer is read.
 */
export function parseGgufArch(metadata: Record<string, unknown>): TParseResult<TModelArch> {
  const arch = metadata['general.architecture'];
  if (typeof arch !== 'string' || arch === '') return { ok: false, errors: ['GGUF metadata is missing general.architecture'] };
  const k = (key: string) => `${arch}.${key}`;
  const names = {
    numLayers: k('block_count'),
    hiddenSize: k('embedding_length'),
    numAttentionHeads: k('attention.head_count'),
    numKeyValueHeads: k('attention.head_count_kv'),
    headDim: k('attention.key_length'),
    kvLoraRank: k('attention.kv_lora_rank'),
    qkRopeHeadDim: k('rope.dimension_count'),
    compressRatios: k('attention.compress_ratios'),
    slidingWindow: k('attention.sliding_window'),
    indexHeadDim: k('attention.indexer.key_length'),
    numRoutedExperts: k('expert_count'),
    numExpertsPerToken: k('expert_used_count'),
    moeIntermediateSize: k('expert_feed_forward_length'),
    intermediateSize: k('feed_forward_length'),
    vocabSize: k('vocab_size'),
    maxPositionEmbeddings: k('context_length'),
    expertDtype: 'expert_dtype',
  };
  if (arch === 'deepseek4' && metadata[names.compressRatios] === undefined) {
    return {
      ok: false,
      errors: [`GGUF metadata for ${arch} carries no ${names.compressRatios}; plan from the source checkpoint's config.json instead`],
    };
  }
  const tokens = metadata['tokenizer.ggml.tokens'];
  return buildArch(
    {
      source: 'GGUF metadata',
      modelType: arch,
      numLayers: metadata[names.numLayers],
      hiddenSize: metadata[names.hiddenSize],
      numAttentionHeads: metadata[names.numAttentionHeads],
      numKeyValueHeads: metadata[names.numKeyValueHeads],
      headDim: metadata[names.headDim],
      kvLoraRank: metadata[names.kvLoraRank],
      qkRopeHeadDim: metadata[names.qkRopeHeadDim],
      compressRatios: metadata[names.compressRatios],
      slidingWindow: metadata[names.slidingWindow],
      indexHeadDim: metadata[names.indexHeadDim],
      numRoutedExperts: metadata[names.numRoutedExperts],
      numExpertsPerToken: metadata[names.numExpertsPerToken],
      moeIntermediateSize: metadata[names.moeIntermediateSize],
      intermediateSize: metadata[names.intermediateSize],
      vocabSize: metadata[names.vocabSize] ?? (Array.isArray(tokens) ? tokens.length : undefined),
      maxPositionEmbeddings: metadata[names.maxPositionEmbeddings],
      expertDtype: null,
    },
    names,
  );
}

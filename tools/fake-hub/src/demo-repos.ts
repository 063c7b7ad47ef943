import { buildGguf, type GgufKv, type GgufTensorSpec } from './content/gguf';
import {
  GITATTRIBUTES,
  MIT_LICENSE,
  generationConfig,
  readme,
  safetensorsIndex,
  tokenizerConfig,
  tokenizerJson,
  v4Config,
  v4Shards,
  type V4Variant,
} from './content/model-files';
import type { TRepoSeed } from './schemas';

const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;

function v4Upload(variant: V4Variant, shards: number, seed: string): Record<string, string | Uint8Array> {
  const files = v4Shards(variant, shards, seed);
  return {
    '.gitattributes': GITATTRIBUTES,
    LICENSE: MIT_LICENSE,
    'config.json': json(v4Config(variant)),
    'generation_config.json': generationConfig(),
    'model.safetensors.index.json': safetensorsIndex(files),
    ...Object.fromEntries(files.map((f) => [f.path, f.bytes])),
    'tokenizer.json': tokenizerJson(),
    'tokenizer_config.json': tokenizerConfig(1),
  };
}

const FLASH_BODY =
  'DeepSeek-V4-Flash is a Mixture-of-Experts model with 284B total and 13B activated parameters and a 1M-token context. ' +
  'Experts are stored in FP4 (I8-packed, F8_E8M0 scales); the rest in FP8 (E4M3, 128x128 blocks).';
const PRO_BODY = 'DeepSeek-V4-Pro is a Mixture-of-Experts model with 1.6T total and 49B activated parameters and a 1M-token context.';
const FP8_BODY = 'FP8 (E4M3) re-quantisation of DeepSeek-V4-Flash for Hopper GPUs, served with SGLang.';

export function ggufFile(quant: 'Q4_K_M' | 'Q8_0', seed: string): Buffer {
  const kvs: GgufKv[] = [
    { key: 'general.architecture', type: 'string', value: 'deepseek4' },
    { key: 'general.name', type: 'string', value: 'DeepSeek V4 Flash' },
    { key: 'general.file_type', type: 'u32', value: quant === 'Q8_0' ? 7 : 15 },
    { key: 'general.quantization_version', type: 'u32', value: 2 },
    { key: 'deepseek4.block_count', type: 'u32', value: 43 },
    { key: 'deepseek4.context_length', type: 'u32', value: 1048576 },
    { key: 'deepseek4.embedding_length', type: 'u32', value: 4096 },
    { key: 'deepseek4.attention.head_count', type: 'u32', value: 64 },
    { key: 'deepseek4.attention.head_count_kv', type: 'u32', value: 1 },
    { key: 'deepseek4.expert_count', type: 'u32', value: 256 },
    { key: 'deepseek4.expert_used_count', type: 'u32', value: 6 },
    { key: 'tokenizer.ggml.model', type: 'string', value: 'gpt2' },
    { key: 'tokenizer.ggml.tokens', type: 'string[]', value: ['<｜begin▁of▁sentence｜>', '<｜end▁of▁sentence｜>', 'a', 'b'] },
  ];
  const tensors: GgufTensorSpec[] = [
    { name: 'token_embd.weight', type: 'Q8_0', ne: [256, quant === 'Q8_0' ? 2048 : 1024] },
    { name: 'blk.0.ffn_down_exps.weight', type: 'Q4_K', ne: [256, 256, 4] },
    { name: 'output_norm.weight', type: 'F32', ne: [256] },
  ];
  return buildGguf(kvs, tensors, `${seed}:${quant}`);
}

/**
 * The demo hub: the four repositories a DeepSeek V4 operator tracks, each with a short history
 * (upload, tokenizer/chat-template fix, README edit). Deterministic: same bytes and shas every start.
 */
export function demoRepos(): TRepoSeed[] {
  return [
    {
      id: 'deepseek-ai/DeepSeek-V4-Flash',
      commits: [
        {
          title: 'Upload DeepSeek-V4-Flash',
          date: '2026-04-24T08:00:00.000Z',
          author: 'deepseek-ai',
          tags: ['v1.0'],
          files: { ...v4Upload('flash', 2, 'flash'), 'README.md': readme('DeepSeek-V4-Flash', FLASH_BODY) },
        },
        {
          title: 'Fix chat template: drop reasoning content from history',
          date: '2026-04-26T09:30:00.000Z',
          author: 'deepseek-ai',
          files: { 'tokenizer_config.json': tokenizerConfig(2) },
        },
        {
          title: 'Update README.md',
          date: '2026-04-29T14:00:00.000Z',
          author: 'deepseek-ai',
          files: { 'README.md': readme('DeepSeek-V4-Flash', FLASH_BODY, ['2026-04-26: chat template fix for multi-turn reasoning']) },
        },
      ],
    },
    {
      id: 'deepseek-ai/DeepSeek-V4-Pro',
      commits: [
        {
          title: 'Upload DeepSeek-V4-Pro',
          date: '2026-04-24T08:10:00.000Z',
          author: 'deepseek-ai',
          tags: ['v1.0'],
          files: { ...v4Upload('pro', 3, 'pro'), 'README.md': readme('DeepSeek-V4-Pro', PRO_BODY) },
        },
        {
          title: 'Fix chat template: drop reasoning content from history',
          date: '2026-04-26T09:35:00.000Z',
          author: 'deepseek-ai',
          files: { 'tokenizer_config.json': tokenizerConfig(2) },
        },
        {
          title: 'Update README.md',
          date: '2026-04-30T10:00:00.000Z',
          author: 'deepseek-ai',
          files: { 'README.md': readme('DeepSeek-V4-Pro', PRO_BODY, ['2026-04-26: chat template fix for multi-turn reasoning']) },
        },
      ],
    },
    {
      id: 'sgl-project/DeepSeek-V4-Flash-FP8',
      commits: [
        {
          title: 'Upload FP8 checkpoint',
          date: '2026-04-27T12:00:00.000Z',
          author: 'sgl-project',
          files: { ...v4Upload('flash-fp8', 2, 'flash-fp8'), 'README.md': readme('DeepSeek-V4-Flash-FP8', FP8_BODY) },
        },
        {
          title: 'Sync chat template with upstream',
          date: '2026-04-28T08:00:00.000Z',
          author: 'sgl-project',
          files: { 'tokenizer_config.json': tokenizerConfig(2) },
        },
        {
          title: 'Update README.md',
          date: '2026-05-02T16:20:00.000Z',
          author: 'sgl-project',
          files: {
            'README.md': readme('DeepSeek-V4-Flash-FP8', FP8_BODY, [
              'Launch with: python -m sglang.launch_server --model-path sgl-project/DeepSeek-V4-Flash-FP8 --tp 2',
            ]),
          },
        },
      ],
    },
    {
      id: 'unsloth/DeepSeek-V4-Flash-GGUF',
      commits: [
        {
          title: 'Upload Q8_0',
          date: '2026-05-01T07:00:00.000Z',
          author: 'unsloth',
          files: {
            '.gitattributes': GITATTRIBUTES,
            'Q8_0/DeepSeek-V4-Flash-Q8_0.gguf': ggufFile('Q8_0', 'unsloth'),
            'README.md': readme(
              'DeepSeek-V4-Flash GGUF',
              'GGUF quantisations of DeepSeek-V4-Flash for llama.cpp (architecture deepseek4).',
            ),
          },
        },
        {
          title: 'Upload Q4_K_M',
          date: '2026-05-02T07:00:00.000Z',
          author: 'unsloth',
          files: { 'Q4_K_M/DeepSeek-V4-Flash-Q4_K_M.gguf': ggufFile('Q4_K_M', 'unsloth') },
        },
        {
          title: 'Update README.md',
          date: '2026-05-03T07:00:00.000Z',
          author: 'unsloth',
          files: {
            'README.md': readme(
              'DeepSeek-V4-Flash GGUF',
              'GGUF quantisations of DeepSeek-V4-Flash for llama.cpp (architecture deepseek4).',
              ['Q4_K_M: 4.92 bpw, Q8_0: 8.50 bpw'],
            ),
          },
        },
      ],
    },
  ];
}

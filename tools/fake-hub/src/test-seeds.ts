import type { TRepoSeed } from './schemas';

/** Small repos for tests that need private/gated access rules or paging. */
export function accessSeeds(): TRepoSeed[] {
  const files = { 'config.json': '{"model_type":"deepseek_v4"}\n', 'model.safetensors': new Uint8Array(64).fill(7), 'README.md': '# x\n' };
  return [
    {
      id: 'acme/private-model',
      private: true,
      tokens: ['hf_private_ok'],
      commits: [{ title: 'init', date: '2026-05-01T00:00:00.000Z', files }],
    },
    {
      id: 'acme/gated-model',
      gated: 'manual',
      tokens: ['hf_granted'],
      commits: [{ title: 'init', date: '2026-05-01T00:00:00.000Z', files }],
    },
    { id: 'acme/auto-gated', gated: 'auto', commits: [{ title: 'init', date: '2026-05-01T00:00:00.000Z', files }] },
    {
      id: 'acme/many',
      commits: Array.from({ length: 7 }, (_, i) => ({
        title: `commit ${i}`,
        date: `2026-05-0${i + 1}T00:00:00.000Z`,
        files: { [`dir/f${i}.txt`]: `file ${i}\n` },
      })),
    },
  ];
}

/** One repo with two weight shards (synthetic, deterministic bytes generated on demand), a config, a tokenizer and a README. */
export function tinyRepoSeed(id: string, shardBytes = 256 * 1024): TRepoSeed {
  return {
    id,
    commits: [
      {
        title: 'Upload model',
        date: '2026-05-01T00:00:00.000Z',
        files: {
          'config.json': '{"model_type":"deepseek_v4","quantization_config":{"quant_method":"fp8","fmt":"e4m3"}}\n',
          'model-00001-of-00002.safetensors': { sizeBytes: shardBytes, seed: `${id}-1` },
          'model-00002-of-00002.safetensors': { sizeBytes: shardBytes, seed: `${id}-2` },
          'tokenizer.json': '{"version":"1.0"}\n',
          'README.md': '# tiny\n',
          'assets/logo.png': new Uint8Array(16).fill(3),
        },
      },
    ],
  };
}

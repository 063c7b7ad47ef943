import type { TRepoSeed } from './schemas';

/** Small repos for tests that need private/gated access rules or paging. */
export function accessSeeds(): TRepoSeed[] {
  const files = { 'config.json': '{"model_type":"deepseek_v4"}\n', 'model.safetensors': new Uint8Array(64).fill(7), 'README.md': '# x\n' };
  return [
    { id: 'acme/private-model', private: true, tokens: ['hf_private_ok'], commits: [{ title: 'init', date: '2026-05-01T00:00:00.000Z', files }] },
    { id: 'acme/gated-model', gated: 'manual', tokens: ['hf_granted'], commits: [{ title: 'init', date: '2026-05-01T00:00:00.000Z', files }] },
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

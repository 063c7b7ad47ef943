import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generationConfig, safetensorsIndex, tokenizerConfig, tokenizerJson, v4Config, v4Shards, type V4Variant } from './model-files';

/**
 * Writes a miniature DeepSeek V4 checkpoint with the fake hub's builders (the same bytes the local hub serves):
 * BF16 embeddings/norms/head, F8_E4M3 attention weights with F8_E8M0 128x128 block scales, and I8-packed MXFP4
 * routed experts with F8_E8M0 scales per 32 values ('flash'), or FP8 experts ('flash-fp8').
 */
export async function writeTinyV4Checkpoint(
  dir: string,
  opts: { variant?: V4Variant; shards?: number; seed?: string } = {},
): Promise<void> {
  const variant = opts.variant ?? 'flash';
  await mkdir(dir, { recursive: true });
  const shards = v4Shards(variant, opts.shards ?? 2, opts.seed ?? 'tiny');
  for (const s of shards) await writeFile(join(dir, s.path), s.bytes);
  await writeFile(join(dir, 'model.safetensors.index.json'), safetensorsIndex(shards));
  await writeFile(join(dir, 'config.json'), `${JSON.stringify(v4Config(variant), null, 2)}\n`);
  await writeFile(join(dir, 'tokenizer.json'), tokenizerJson());
  await writeFile(join(dir, 'tokenizer_config.json'), tokenizerConfig(2));
  await writeFile(join(dir, 'generation_config.json'), generationConfig());
  await writeFile(join(dir, 'README.md'), '# tiny\n');
}

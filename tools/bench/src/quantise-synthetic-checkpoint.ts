import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { prngChunks } from '@fleetplane/fake-hub';
import { generationConfig, tokenizerConfig, tokenizerJson, v4Config } from '@fleetplane/fake-hub/content/model-files';

// A multi-GB DeepSeek-V4-Flash-shaped FP4+FP8 checkpoint, generated straight to disk (a tensor at a time, 1 MiB
// chunks of the fake hub's AES-CTR stream), with V4's dtype mix: BF16 embeddings/norms/head, F8_E4M3 attention
// weights with F8_E8M0 128x128 block scales, and MXFP4 routed experts (I8, two values per byte) with E8M0 scales
// per 32 values. Real V4-Flash sizes per tensor: hidden 4096, expert intermediate 2048.

type Dtype = 'BF16' | 'F8_E4M3' | 'F8_E8M0' | 'I8';
interface Spec {
  name: string;
  dtype: Dtype;
  shape: number[];
}
const WIDTH: Record<Dtype, number> = { BF16: 2, F8_E4M3: 1, F8_E8M0: 1, I8: 1 };
const bytesOf = (s: Spec) => s.shape.reduce((a, b) => a * b, 1) * WIDTH[s.dtype];

const H = 4096;
const MOE = 2048;
const EXPERTS_PER_LAYER = 16;
const VOCAB = 16384;

function layerSpecs(l: number): Spec[] {
  const p = `model.layers.${l}`;
  const specs: Spec[] = [{ name: `${p}.input_layernorm.weight`, dtype: 'BF16', shape: [H] }];
  for (const w of ['wq_a', 'wq_b', 'wkv', 'wo']) {
    specs.push({ name: `${p}.self_attn.${w}.weight`, dtype: 'F8_E4M3', shape: [H, H] });
    specs.push({ name: `${p}.self_attn.${w}.weight_scale_inv`, dtype: 'F8_E8M0', shape: [H / 128, H / 128] });
  }
  specs.push({ name: `${p}.post_attention_layernorm.weight`, dtype: 'BF16', shape: [H] });
  for (let e = 0; e < EXPERTS_PER_LAYER; e++) {
    for (const [proj, rows, cols] of [
      ['gate_proj', MOE, H],
      ['up_proj', MOE, H],
      ['down_proj', H, MOE],
    ] as const) {
      specs.push({ name: `${p}.mlp.experts.${e}.${proj}.weight`, dtype: 'I8', shape: [rows, cols / 2] });
      specs.push({ name: `${p}.mlp.experts.${e}.${proj}.weight_scale`, dtype: 'F8_E8M0', shape: [rows, cols / 32] });
    }
  }
  return specs;
}

/** Same plausibility fixes as the fake hub's builder: no NaN codes, scales near 2^0, small BF16 values. */
function fixChunk(dtype: Dtype, b: Buffer): void {
  switch (dtype) {
    case 'F8_E4M3':
      for (let i = 0; i < b.length; i++) if ((b[i]! & 0x7f) === 0x7f) b[i] = b[i]! & 0xf0;
      return;
    case 'F8_E8M0':
      for (let i = 0; i < b.length; i++) b[i] = 120 + (b[i]! % 15);
      return;
    case 'BF16':
      for (let i = 1; i < b.length; i += 2) b[i] = (b[i]! & 0x80) | (0x3c + (b[i]! % 3));
      return;
    case 'I8':
      return;
  }
}

async function writeShard(path: string, specs: Spec[], seed: string): Promise<number> {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const s of specs) {
    header[s.name] = { dtype: s.dtype, shape: s.shape, data_offsets: [offset, offset + bytesOf(s)] };
    offset += bytesOf(s);
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const fh = await open(path, 'w');
  try {
    await fh.write(Buffer.concat([prefix, Buffer.from(json)]));
    for (const s of specs) {
      for (const chunk of prngChunks(`${seed}:${s.name}`, 0, bytesOf(s))) {
        fixChunk(s.dtype, chunk);
        await fh.write(chunk);
      }
    }
  } finally {
    await fh.close();
  }
  return 8 + Buffer.byteLength(json) + offset;
}

/** Writes a checkpoint of about `targetBytes` into `dir` (which must exist); returns the safetensors bytes written. */
export async function writeSyntheticV4Checkpoint(
  dir: string,
  targetBytes: number,
  seed = 'bench-quantise',
): Promise<{ bytes: number; tensors: number; layers: number }> {
  const perLayer = layerSpecs(0).reduce((a, s) => a + bytesOf(s), 0);
  const fixed = 2 * VOCAB * H * 2;
  const layers = Math.max(1, Math.round((targetBytes - fixed) / perLayer));
  const shardSpecs: Spec[][] = [];
  for (let l = 0; l < layers; l += 2) shardSpecs.push([...layerSpecs(l), ...(l + 1 < layers ? layerSpecs(l + 1) : [])]);
  shardSpecs[0]!.unshift({ name: 'model.embed_tokens.weight', dtype: 'BF16', shape: [VOCAB, H] });
  shardSpecs
    .at(-1)!
    .push({ name: 'model.norm.weight', dtype: 'BF16', shape: [H] }, { name: 'lm_head.weight', dtype: 'BF16', shape: [VOCAB, H] });
  const pad = (n: number) => String(n).padStart(5, '0');
  const weightMap: Record<string, string> = {};
  let bytes = 0;
  let tensors = 0;
  let total = 0;
  for (let i = 0; i < shardSpecs.length; i++) {
    const file = `model-${pad(i + 1)}-of-${pad(shardSpecs.length)}.safetensors`;
    bytes += await writeShard(join(dir, file), shardSpecs[i]!, seed);
    for (const s of shardSpecs[i]!) {
      weightMap[s.name] = file;
      total += bytesOf(s);
      tensors++;
    }
  }
  await writeFile(
    join(dir, 'model.safetensors.index.json'),
    `${JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2)}\n`,
  );
  await writeFile(
    join(dir, 'config.json'),
    `${JSON.stringify({ ...v4Config('flash'), num_hidden_layers: layers, vocab_size: VOCAB }, null, 2)}\n`,
  );
  await writeFile(join(dir, 'tokenizer.json'), tokenizerJson());
  await writeFile(join(dir, 'tokenizer_config.json'), tokenizerConfig(2));
  await writeFile(join(dir, 'generation_config.json'), generationConfig());
  return { bytes, tensors, layers };
}

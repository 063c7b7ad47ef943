import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gguf, GGMLQuantizationType } from '@huggingface/gguf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSafetensorsHeader } from '@fleetplane/fake-hub';
import { SafetensorsCheckpoint } from '../safetensors/reader';
import { writeTinyV4Checkpoint } from '@fleetplane/fake-hub/content/tiny-checkpoint';
import { QualityThresholdError, convertCheckpoint } from './convert';

// Independent decoders written from the format descriptions, deliberately not sharing code with the converter.
function e4m3(code: number): number {
  const s = code & 0x80 ? -1 : 1;
  const e = (code >> 3) & 15;
  const m = code & 7;
  if (e === 15 && m === 7) return NaN;
  return e === 0 ? s * m * Math.pow(2, -9) : s * (1 + m / 8) * Math.pow(2, e - 7);
}
function half(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 31;
  const m = h & 1023;
  return e === 0 ? s * m * Math.pow(2, -24) : s * (1 + m / 1024) * Math.pow(2, e - 15);
}
const FP4 = [0, 0.5, 1, 1.5, 2, 3, 4, 6];
const fp4 = (n: number) => (n & 8 ? -1 : 1) * FP4[n & 7]!;
const bf16 = (lo: number, hi: number) => new DataView(new Uint8Array([0, 0, lo, hi]).buffer).getFloat32(0, true);

async function tensorBytes(dir: string, name: string): Promise<{ dtype: string; shape: number[]; data: Buffer }> {
  const ck = await SafetensorsCheckpoint.open(dir);
  try {
    const t = ck.get(name);
    if (!t) throw new Error(`no ${name} in ${dir}`);
    return { dtype: t.dtype, shape: t.shape, data: Buffer.from(await ck.read(t)) };
  } finally {
    await ck.close();
  }
}

/** The source tensor as numbers, decoded per element straight from its bytes and scales. */
async function sourceValues(dir: string, name: string): Promise<{ rows: number; cols: number; v: Float64Array }> {
  const w = await tensorBytes(dir, name);
  if (w.dtype === 'F8_E4M3') {
    const s = await tensorBytes(dir, name.replace(/weight$/, 'weight_scale_inv'));
    const [rows, cols] = w.shape as [number, number];
    const sc = s.shape[1]!;
    const v = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++)
        v[r * cols + c] = e4m3(w.data[r * cols + c]!) * Math.pow(2, s.data[Math.floor(r / 128) * sc + Math.floor(c / 128)]! - 127);
    return { rows, cols, v };
  }
  if (w.dtype === 'I8') {
    const s = await tensorBytes(dir, name.replace(/weight$/, 'weight_scale'));
    const rows = w.shape[0]!;
    const cols = w.shape[1]! * 2;
    const v = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) {
        const byte = w.data[r * (cols / 2) + (c >> 1)]!;
        v[r * cols + c] = fp4(c % 2 === 0 ? byte & 15 : byte >> 4) * Math.pow(2, s.data[r * (cols / 32) + (c >> 5)]! - 127);
      }
    return { rows, cols, v };
  }
  throw new Error(`unexpected ${w.dtype}`);
}

function relRmse(a: Float64Array, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += a[i]! ** 2;
  }
  return Math.sqrt(num / den);
}

let root: string;
let src: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fp-quantise-'));
  src = join(root, 'src');
  await writeTinyV4Checkpoint(src, { shards: 2 });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('FP4+FP8 -> FP8 block-128', () => {
  let out: string;
  let result: Awaited<ReturnType<typeof convertCheckpoint>>;
  beforeAll(async () => {
    out = join(root, 'fp8');
    result = await convertCheckpoint({ sourceDir: src, outputDir: out, parameters: { target: { format: 'fp8-block' } } });
  });

  it('writes E4M3 weights with F32 128x128 inverse scales that dequantise close to the source (independent decode)', async () => {
    for (const name of ['model.layers.0.self_attn.wq_a.weight', 'model.layers.1.mlp.experts.2.down_proj.weight']) {
      const source = await sourceValues(src, name);
      const w = await tensorBytes(out, name);
      const s = await tensorBytes(out, name.replace(/weight$/, 'weight_scale_inv'));
      expect(w.dtype).toBe('F8_E4M3');
      expect(w.shape).toEqual([source.rows, source.cols]);
      expect(s.dtype).toBe('F32');
      expect(s.shape).toEqual([Math.ceil(source.rows / 128), Math.ceil(source.cols / 128)]);
      const deq = new Float64Array(source.v.length);
      for (let r = 0; r < source.rows; r++)
        for (let c = 0; c < source.cols; c++)
          deq[r * source.cols + c] =
            e4m3(w.data[r * source.cols + c]!) * s.data.readFloatLE(4 * (Math.floor(r / 128) * s.shape[1]! + Math.floor(c / 128)));
      const err = relRmse(source.v, deq);
      expect(err).toBeLessThan(0.05);
      // The converter's own figure agrees with the one computed here from the files.
      const reported = result.quality.tensors.find((t) => t.name === name)!;
      expect(reported.relRmse).toBeCloseTo(err, 6);
    }
  });

  it('keeps embeddings, norms and the head byte for byte and rewrites quantization_config', async () => {
    for (const name of ['model.embed_tokens.weight', 'model.layers.0.input_layernorm.weight', 'lm_head.weight']) {
      expect((await tensorBytes(out, name)).data.equals((await tensorBytes(src, name)).data)).toBe(true);
    }
    const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
    expect(config.quantization_config).toEqual({
      activation_scheme: 'dynamic',
      fmt: 'e4m3',
      quant_method: 'fp8',
      weight_block_size: [128, 128],
      expert_dtype: 'fp8',
    });
    expect(config.hidden_size).toBe(4096);
  });

  it('copies tokenizer and generation files, not the README, and lists every file in the manifest', async () => {
    const files = (await readdir(out)).sort();
    expect(files).toEqual(['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
    expect(await readFile(join(out, 'tokenizer.json'), 'utf8')).toBe(await readFile(join(src, 'tokenizer.json'), 'utf8'));
    expect(result.manifest.files.map((f) => f.path)).toEqual(files);
    // The safetensors file passes the reference parser's checks (contiguous, complete).
    const header = parseSafetensorsHeader(await readFile(join(out, 'model.safetensors')));
    expect(Object.keys(header.tensors)).toContain('model.layers.3.mlp.experts.3.up_proj.weight_scale_inv');
    expect(Object.keys(header.tensors).some((n) => n.endsWith('.weight_scale') && !n.endsWith('_inv'))).toBe(false);
  });

  it('is deterministic: same source and parameters give the same bytes and manifest digest', async () => {
    const again = await convertCheckpoint({
      sourceDir: src,
      outputDir: join(root, 'fp8-again'),
      parameters: { target: { format: 'fp8-block' } },
    });
    expect(again.manifest.digest).toBe(result.manifest.digest);
    // Buffer.equals: a deep-equal over millions of bytes would be the slowest part of the suite.
    expect((await readFile(join(root, 'fp8-again', 'model.safetensors'))).equals(await readFile(join(out, 'model.safetensors')))).toBe(
      true,
    );
    // A different setting gives different bytes (the check above can fail).
    const other = await convertCheckpoint({
      sourceDir: src,
      outputDir: join(root, 'fp8-e8'),
      parameters: { target: { format: 'fp8-block', scaleFormat: 'ue8m0' } },
    });
    expect(other.manifest.digest).not.toBe(result.manifest.digest);
  });

  it('shards at the size limit and writes model.safetensors.index.json', async () => {
    const dir = join(root, 'fp8-sharded');
    const r = await convertCheckpoint({
      sourceDir: src,
      outputDir: dir,
      parameters: { target: { format: 'fp8-block', scaleFormat: 'ue8m0' }, maxShardBytes: 600_000 },
    });
    const shards = (await readdir(dir)).filter((f) => f.endsWith('.safetensors'));
    expect(shards.length).toBeGreaterThan(1);
    const index = JSON.parse(await readFile(join(dir, 'model.safetensors.index.json'), 'utf8'));
    expect(new Set(Object.values(index.weight_map))).toEqual(new Set(shards));
    const ck = await SafetensorsCheckpoint.open(dir);
    expect(ck.get('model.layers.0.self_attn.wq_a.weight_scale_inv')?.dtype).toBe('F8_E8M0');
    await ck.close();
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    expect(config.quantization_config.scale_fmt).toBe('ue8m0');
    expect(r.manifest.files.some((f) => f.path === 'model.safetensors.index.json')).toBe(true);
  });
});

describe('GGUF targets, checked by parsing with @huggingface/gguf', () => {
  it.each([
    ['Q8_0', GGMLQuantizationType.Q8_0, 7],
    ['Q4_0', GGMLQuantizationType.Q4_0, 2],
    ['F16', GGMLQuantizationType.F16, 1],
    ['BF16', GGMLQuantizationType.BF16, 32],
  ] as const)('%s: metadata, types and shapes', async (type, ggmlType, fileType) => {
    const dir = join(root, `gguf-${type}`);
    const r = await convertCheckpoint({
      sourceDir: src,
      outputDir: dir,
      parameters: { target: { format: 'gguf', type }, modelName: 'tiny-v4' },
    });
    const file = join(dir, `model-${type}.gguf`);
    expect(r.manifest.files.map((f) => f.path)).toEqual([`model-${type}.gguf`]);
    const parsed = await gguf(file, { allowLocalFile: true });
    const md = parsed.metadata as unknown as Record<string, unknown>;
    expect(md['general.architecture']).toBe('deepseek4');
    expect(md['general.file_type']).toBe(fileType);
    expect(md['general.quantization_version']).toBe(2);
    expect(md['general.name']).toBe('tiny-v4');
    expect(md['deepseek4.block_count']).toBe(43);
    expect(md['deepseek4.context_length']).toBe(1048576);
    expect(md['deepseek4.embedding_length']).toBe(4096);
    expect(md['deepseek4.expert_count']).toBe(256);
    expect(md['deepseek4.expert_used_count']).toBe(6);
    expect(md['tokenizer.ggml.model']).toBe('gpt2');
    expect((md['tokenizer.ggml.tokens'] as string[])[1]).toBe('<｜end▁of▁sentence｜>');
    expect(md['tokenizer.ggml.eos_token_id']).toBe(1);
    const byName = new Map(parsed.tensorInfos.map((t) => [t.name, t]));
    const attn = byName.get('blk.0.attn.wq_a.weight')!;
    expect(attn.dtype).toBe(ggmlType);
    expect(attn.shape).toEqual([256n, 256n]);
    const expert = byName.get('blk.1.ffn_down_exp.2.weight')!;
    expect(expert.dtype).toBe(ggmlType);
    expect(expert.shape).toEqual([256n, 256n]);
    expect(byName.get('blk.0.attn_norm.weight')?.dtype).toBe(GGMLQuantizationType.F32);
    expect(byName.get('token_embd.weight')?.shape).toEqual([256n, 1024n]);
    expect(byName.get('token_embd.weight')?.dtype).toBe(type === 'F16' ? GGMLQuantizationType.F16 : GGMLQuantizationType.BF16);
    expect(byName.get('output.weight')).toBeDefined();
    for (const t of parsed.tensorInfos) expect(Number(t.offset) % 32).toBe(0);
    expect(parsed.tensorDataOffset % 32n).toBe(0n);
    expect((await stat(file)).size % 32).toBe(0);

    if (type === 'Q8_0' || type === 'Q4_0') {
      // Decode the expert weight's blocks from the file by hand and compare with the MXFP4 source.
      const bytes = await readFile(file);
      const start = Number(parsed.tensorDataOffset + expert.offset);
      const source = await sourceValues(src, 'model.layers.1.mlp.experts.2.down_proj.weight');
      const deq = new Float64Array(source.v.length);
      const blockBytes = type === 'Q8_0' ? 34 : 18;
      for (let b = 0; b < source.v.length / 32; b++) {
        const o = start + b * blockBytes;
        const d = half(bytes.readUInt16LE(o));
        for (let j = 0; j < 32; j++) {
          deq[b * 32 + j] =
            type === 'Q8_0' ? bytes.readInt8(o + 2 + j) * d : ((j < 16 ? bytes[o + 2 + j]! & 15 : bytes[o + 2 + j - 16]! >> 4) - 8) * d;
        }
      }
      expect(relRmse(source.v, deq)).toBeLessThan(type === 'Q8_0' ? 0.01 : 0.15);
    }
  });
});

describe('MLX affine and BF16 targets', () => {
  it('MLX 4-bit: uint32 packed weights, bf16 scales and biases per 64, config "quantization"', async () => {
    const dir = join(root, 'mlx4');
    await convertCheckpoint({ sourceDir: src, outputDir: dir, parameters: { target: { format: 'mlx-affine', bits: 4 } } });
    const w = await tensorBytes(dir, 'model.layers.0.self_attn.wkv.weight');
    const s = await tensorBytes(dir, 'model.layers.0.self_attn.wkv.scales');
    const b = await tensorBytes(dir, 'model.layers.0.self_attn.wkv.biases');
    expect([w.dtype, w.shape]).toEqual(['U32', [256, 32]]);
    expect([s.dtype, s.shape]).toEqual(['BF16', [256, 4]]);
    expect([b.dtype, b.shape]).toEqual(['BF16', [256, 4]]);
    // ŵ = scale · q + bias, q packed LSB-first, 8 per word.
    const source = await sourceValues(src, 'model.layers.0.self_attn.wkv.weight');
    const deq = new Float64Array(source.v.length);
    for (let i = 0; i < deq.length; i++) {
      const q = (w.data.readUInt32LE(4 * Math.floor(i / 8)) >>> (4 * (i % 8))) & 15;
      const g = Math.floor(i / 64);
      deq[i] = bf16(s.data[2 * g]!, s.data[2 * g + 1]!) * q + bf16(b.data[2 * g]!, b.data[2 * g + 1]!);
    }
    expect(relRmse(source.v, deq)).toBeLessThan(0.2);
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    expect(config.quantization).toEqual({ group_size: 64, bits: 4, mode: 'affine' });
    expect(config.quantization_config).toEqual(config.quantization);
  });

  it('BF16: every weight dequantised to BF16, no scales, no quantization_config', async () => {
    const dir = join(root, 'bf16');
    const r = await convertCheckpoint({ sourceDir: src, outputDir: dir, parameters: { target: { format: 'bf16' } } });
    const ck = await SafetensorsCheckpoint.open(dir);
    expect(new Set(ck.tensors.map((t) => t.dtype))).toEqual(new Set(['BF16']));
    expect(ck.tensors.some((t) => t.name.includes('scale'))).toBe(false);
    expect(ck.get('model.layers.0.mlp.experts.0.gate_proj.weight')?.shape).toEqual([256, 256]);
    await ck.close();
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    expect(config.quantization_config).toBeUndefined();
    // FP4 values times power-of-two scales fit BF16 exactly; FP8 ones too: the conversion is lossless here.
    expect(r.quality.worstRelRmse).toBe(0);
  });
});

describe('several conversions at once in one thread (the worker runs several steps)', () => {
  it('give the same bytes as one at a time: results never share the thread kernel memory', async () => {
    // Small stripes so both conversions interleave stripe by stripe on this thread.
    const opts = { sourceDir: src, threads: 1, stripeElements: 128 * 256 } as const;
    const targets = [{ format: 'gguf', type: 'Q8_0' }, { format: 'fp8-block' }, { format: 'bf16' }] as const;
    const alone: string[] = [];
    for (const [i, target] of targets.entries())
      alone.push((await convertCheckpoint({ ...opts, outputDir: join(root, `alone-${i}`), parameters: { target } })).manifest.digest);
    const together = await Promise.all(
      targets.map((target, i) => convertCheckpoint({ ...opts, outputDir: join(root, `together-${i}`), parameters: { target } })),
    );
    expect(together.map((r) => r.manifest.digest)).toEqual(alone);
  }, 60_000);
});

describe('on worker threads', () => {
  // Stripes of 128 rows x 256 values: every weight of the tiny checkpoint spans several stripes, so they go to the pool.
  const small = { stripeElements: 128 * 256 };
  // Starting threads that compile TypeScript through tsx takes seconds on a loaded machine.
  const slow = 120_000;

  it.each([
    ['FP8 block-128', { format: 'fp8-block' }],
    ['GGUF Q4_0', { format: 'gguf', type: 'Q4_0' }],
    ['MLX 4-bit', { format: 'mlx-affine', bits: 4 }],
  ] as const)(
    '%s: the same bytes, manifest and quality figures as on one thread',
    async (label, target) => {
      const one = await convertCheckpoint({
        sourceDir: src,
        outputDir: join(root, `t1-${label}`),
        parameters: { target },
        threads: 1,
        ...small,
      });
      const two = await convertCheckpoint({
        sourceDir: src,
        outputDir: join(root, `t2-${label}`),
        parameters: { target },
        threads: 2,
        ...small,
      });
      expect(two.manifest.digest).toBe(one.manifest.digest);
      expect(two.quality).toEqual(one.quality);
      expect(two.quality.quantisedTensors).toBeGreaterThan(0);
      expect([one.workerThreads, two.workerThreads]).toEqual([0, 2]);
    },
    slow,
  );

  it(
    'cancellation mid-way stops the threads and publishes nothing',
    async () => {
      const dir = join(root, 'cancelled-threads');
      const ac = new AbortController();
      const err = await convertCheckpoint({
        sourceDir: src,
        outputDir: dir,
        parameters: { target: { format: 'fp8-block' } },
        threads: 2,
        ...small,
        signal: ac.signal,
        onProgress: (p) => {
          if (p.tensorsDone === 5) ac.abort();
        },
      }).catch((e: unknown) => e);
      expect((err as Error).name).toBe('AbortError');
      await expect(stat(dir)).rejects.toThrow(/ENOENT/);
      expect((await readdir(root)).filter((f) => f.includes('.partial-'))).toEqual([]);
    },
    slow,
  );
});

describe('failures leave nothing in the final folder', () => {
  async function leftovers(): Promise<string[]> {
    return (await readdir(root)).filter((f) => f.includes('.partial-'));
  }

  it('a deliberately bad setting breaches the thresholds, names the worst tensors and publishes nothing', async () => {
    const dir = join(root, 'q4-strict');
    const err = await convertCheckpoint({
      sourceDir: src,
      outputDir: dir,
      parameters: { target: { format: 'gguf', type: 'Q4_0' }, thresholds: { maxRelRmse: 0.01 } },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QualityThresholdError);
    expect((err as Error).message).toMatch(
      /^GGUF Q4_0: \d+ of \d+ quantised tensors break the quality limits \(relative RMSE ≤ 0.01\); worst: blk\.\d+\.\S+ \(relative RMSE 0\.\d+/,
    );
    expect((err as QualityThresholdError).worstTensors).toHaveLength(3);
    await expect(stat(dir)).rejects.toThrow(/ENOENT/);
    expect(await leftovers()).toEqual([]);
  });

  it('cancellation mid-way rejects and removes the partial output', async () => {
    const dir = join(root, 'cancelled');
    const ac = new AbortController();
    let calls = 0;
    const err = await convertCheckpoint({
      sourceDir: src,
      outputDir: dir,
      parameters: { target: { format: 'fp8-block' } },
      signal: ac.signal,
      onProgress: (p) => {
        calls++;
        if (p.tensorsDone === 10) ac.abort();
      },
    }).catch((e: unknown) => e);
    expect((err as Error).name).toBe('AbortError');
    expect(calls).toBeGreaterThan(10);
    await expect(stat(dir)).rejects.toThrow(/ENOENT/);
    expect(await leftovers()).toEqual([]);
  });

  it('refuses to overwrite an existing artifact folder', async () => {
    await expect(
      convertCheckpoint({ sourceDir: src, outputDir: join(root, 'fp8'), parameters: { target: { format: 'fp8-block' } } }),
    ).rejects.toThrow(/already exists/);
  });

  it('reports progress up to every tensor and byte', async () => {
    let last = { tensorsDone: 0, tensorsTotal: -1, bytesDone: 0, bytesTotal: -1 };
    await convertCheckpoint({
      sourceDir: src,
      outputDir: join(root, 'progress'),
      parameters: { target: { format: 'gguf', type: 'Q8_0' } },
      onProgress: (p) => (last = p),
    });
    expect(last.tensorsDone).toBe(last.tensorsTotal);
    expect(Math.abs(last.bytesDone - last.bytesTotal)).toBeLessThanOrEqual(last.tensorsTotal);
  });
});

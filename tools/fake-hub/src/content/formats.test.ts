import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gguf, GGMLQuantizationType } from '@huggingface/gguf';
import { afterAll, describe, expect, it } from 'vitest';
import { ggufFile } from '../demo-repos';
import { readGgufLayout, reseedGguf } from './gguf';
import { v4Shards, safetensorsIndex } from './model-files';
import { prngBytes, prngChunks } from './prng';
import { buildSafetensors, parseSafetensorsHeader, reseedSafetensors } from './safetensors';

const dir = mkdtempSync(path.join(tmpdir(), 'fake-hub-formats-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('prng', () => {
  it('is deterministic and supports random access at any offset', () => {
    const all = prngBytes('seed-a', 100_000);
    expect(prngBytes('seed-a', 100_000).equals(all)).toBe(true);
    expect(prngBytes('seed-b', 64).equals(all.subarray(0, 64))).toBe(false);
    for (const [start, end] of [
      [0, 10],
      [5, 33],
      [16, 17],
      [99_990, 100_000],
      [12_345, 70_001],
    ] as const) {
      expect(Buffer.concat([...prngChunks('seed-a', start, end, 4096)]).equals(all.subarray(start, end))).toBe(true);
    }
  });
});

describe('safetensors', () => {
  it('writes a valid header: u64 LE length, padded JSON, contiguous offsets', () => {
    const buf = buildSafetensors(
      [
        { name: 'a', dtype: 'F8_E4M3', shape: [16, 16] },
        { name: 'a_scale', dtype: 'F8_E8M0', shape: [1, 1] },
        { name: 'b', dtype: 'BF16', shape: [3] },
        { name: 'c', dtype: 'I8', shape: [4, 2] },
      ],
      's',
    );
    const n = Number(buf.readBigUInt64LE(0));
    expect(n % 8).toBe(0);
    expect(buf[8]).toBe('{'.charCodeAt(0));
    const h = parseSafetensorsHeader(buf);
    expect(h.metadata).toEqual({ format: 'pt' });
    expect(h.tensors.a).toEqual({ dtype: 'F8_E4M3', shape: [16, 16], data_offsets: [0, 256] });
    expect(h.tensors.a_scale!.data_offsets).toEqual([256, 257]);
    expect(h.tensors.b!.data_offsets).toEqual([257, 263]);
    expect(h.tensors.c!.data_offsets).toEqual([263, 271]);
    expect(buf.length).toBe(8 + n + 271);
    // No NaN encodings in the 8-bit float tensors.
    const data = buf.subarray(8 + n);
    for (let i = 0; i < 256; i++) expect(data[i]! & 0x7f).not.toBe(0x7f);
    expect(data[256]).not.toBe(0xff);
  });

  it('builds V4-style shards whose index covers every tensor', () => {
    const shards = v4Shards('flash', 2, 't');
    const index = JSON.parse(safetensorsIndex(shards)) as { metadata: { total_size: number }; weight_map: Record<string, string> };
    let total = 0;
    const dtypes = new Set<string>();
    for (const s of shards) {
      const h = parseSafetensorsHeader(s.bytes);
      for (const [name, t] of Object.entries(h.tensors)) {
        expect(index.weight_map[name]).toBe(s.path);
        total += t.data_offsets[1] - t.data_offsets[0];
        dtypes.add(t.dtype);
      }
    }
    expect(index.metadata.total_size).toBe(total);
    expect([...dtypes].sort()).toEqual(['BF16', 'F8_E4M3', 'F8_E8M0', 'I8']);
  });

  it('reseeds the data but keeps the header', () => {
    const [shard] = v4Shards('pro', 1, 'x');
    const next = reseedSafetensors(shard!.bytes, 'y');
    const n = Number(shard!.bytes.readBigUInt64LE(0));
    expect(next.subarray(0, 8 + n).equals(shard!.bytes.subarray(0, 8 + n))).toBe(true);
    expect(next.equals(shard!.bytes)).toBe(false);
  });

  it('rejects holes in the data buffer', () => {
    const buf = buildSafetensors([{ name: 'a', dtype: 'U8', shape: [4] }], 's');
    expect(() => parseSafetensorsHeader(buf.subarray(0, buf.length - 1))).toThrow(/data covers/);
  });
});

describe('gguf', () => {
  it('writes GGUF v3 files that @huggingface/gguf parses', async () => {
    for (const quant of ['Q4_K_M', 'Q8_0'] as const) {
      const file = path.join(dir, `${quant}.gguf`);
      const buf = ggufFile(quant, 'test');
      writeFileSync(file, buf);
      const parsed = await gguf(file, { allowLocalFile: true });
      const meta = parsed.metadata as Record<string, unknown>;
      expect(meta.version).toBe(3);
      expect(meta['general.architecture']).toBe('deepseek4');
      expect(meta['general.file_type']).toBe(quant === 'Q8_0' ? 7 : 15);
      expect(meta['deepseek4.block_count']).toBe(43);
      expect(meta['tokenizer.ggml.tokens']).toHaveLength(4);
      expect(parsed.tensorInfos.map((t) => t.dtype)).toEqual([
        GGMLQuantizationType.Q8_0,
        GGMLQuantizationType.Q4_K,
        GGMLQuantizationType.F32,
      ]);
      expect(Number(parsed.tensorDataOffset) % 32).toBe(0);
      const layout = readGgufLayout(buf);
      expect(layout.dataOffset).toBe(Number(parsed.tensorDataOffset));
      for (const t of parsed.tensorInfos) expect(Number(t.offset) % 32).toBe(0);
      // Last tensor ends exactly at the end of the file (sizes follow the block layouts).
      const last = layout.tensors.at(-1)!;
      expect(layout.dataOffset + last.offset + last.ne[0]! * 4).toBe(buf.length);
    }
  });

  it('reseeds tensor data only', () => {
    const buf = ggufFile('Q8_0', 'a');
    const next = reseedGguf(buf, 'b');
    const { dataOffset } = readGgufLayout(buf);
    expect(next.subarray(0, dataOffset).equals(buf.subarray(0, dataOffset))).toBe(true);
    expect(next.equals(buf)).toBe(false);
  });
});

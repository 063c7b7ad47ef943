import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gguf, GGMLQuantizationType } from '@huggingface/gguf';
import { manifestOfDirectory, type ArtifactManifest } from '../manifest';
import { SafetensorsCheckpoint } from '../safetensors/reader';

// What an external tool actually produced, read from the files themselves rather than trusted from the recipe:
// a GGUF's general.file_type and tensor types, or a safetensors checkpoint's quantization config and dtypes.

/** LLAMA_FTYPE -> name (llama.h; quantisation-formats.md §6.3). */
const LLAMA_FTYPE_NAMES: Record<number, string> = {
  0: 'F32',
  1: 'F16',
  2: 'Q4_0',
  3: 'Q4_1',
  7: 'Q8_0',
  8: 'Q5_0',
  9: 'Q5_1',
  10: 'Q2_K',
  11: 'Q3_K_S',
  12: 'Q3_K_M',
  13: 'Q3_K_L',
  14: 'Q4_K_S',
  15: 'Q4_K_M',
  16: 'Q5_K_S',
  17: 'Q5_K_M',
  18: 'Q6_K',
  19: 'IQ2_XXS',
  20: 'IQ2_XS',
  21: 'Q2_K_S',
  22: 'IQ3_XS',
  23: 'IQ3_XXS',
  24: 'IQ1_S',
  25: 'IQ4_NL',
  26: 'IQ3_S',
  27: 'IQ3_M',
  28: 'IQ2_S',
  29: 'IQ2_M',
  30: 'IQ4_XS',
  31: 'IQ1_M',
  32: 'BF16',
  36: 'TQ1_0',
  37: 'TQ2_0',
  38: 'MXFP4_MOE',
  39: 'NVFP4',
};

export interface DetectedFormat {
  format: 'gguf' | 'safetensors' | 'unknown';
  /** e.g. "Q4_K_M", "fp8 block 128x128", "mlx affine 4-bit g64", "BF16". */
  quantisation: string;
  /** Tensor count per stored type, e.g. { Q4_0: 120, F32: 30 }. */
  tensorTypes: Record<string, number>;
  architecture?: string;
}

function countTypes(types: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of types) out[t] = (out[t] ?? 0) + 1;
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

export async function detectFormat(dir: string, manifest: ArtifactManifest): Promise<DetectedFormat> {
  const ggufs = manifest.files.filter((f) => f.path.endsWith('.gguf'));
  if (ggufs.length > 0) {
    const types: string[] = [];
    let fileType: number | undefined;
    let architecture: string | undefined;
    for (const f of ggufs) {
      const parsed = await gguf(join(dir, f.path), { allowLocalFile: true });
      const md = parsed.metadata as unknown as Record<string, unknown>;
      if (typeof md['general.file_type'] === 'number') fileType ??= md['general.file_type'];
      if (typeof md['general.architecture'] === 'string') architecture ??= md['general.architecture'];
      for (const t of parsed.tensorInfos) types.push(GGMLQuantizationType[t.dtype] ?? `type${t.dtype}`);
    }
    const tensorTypes = countTypes(types);
    // Without general.file_type, name the file by its most common type among the ≥2-byte-per-block quantised ones.
    const quantisation =
      fileType !== undefined
        ? (LLAMA_FTYPE_NAMES[fileType] ?? `file_type ${fileType}`)
        : (Object.entries(tensorTypes).sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'unknown');
    return { format: 'gguf', quantisation, tensorTypes, architecture };
  }
  if (manifest.files.some((f) => f.path.endsWith('.safetensors'))) {
    const ck = await SafetensorsCheckpoint.open(dir);
    const tensorTypes = countTypes(ck.tensors.map((t) => t.dtype));
    await ck.close();
    let config: Record<string, unknown> = {};
    try {
      config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    } catch {
      // A checkpoint without config.json is still described by its dtypes.
    }
    const mlx = config.quantization as { bits?: number; group_size?: number; mode?: string } | undefined;
    const qc = config.quantization_config as
      { quant_method?: string; weight_block_size?: number[]; format?: string; fmt?: string } | undefined;
    let quantisation: string;
    if (mlx && typeof mlx.bits === 'number') quantisation = `mlx ${mlx.mode ?? 'affine'} ${mlx.bits}-bit g${mlx.group_size ?? 64}`;
    else if (qc?.quant_method === 'fp8' && tensorTypes.F8_E4M3)
      quantisation = `fp8 ${qc.fmt ?? 'e4m3'} block ${(qc.weight_block_size ?? []).join('x')}`;
    else if (qc?.quant_method) quantisation = `${qc.quant_method}${qc.format ? ` ${qc.format}` : ''}`;
    else quantisation = Object.entries(tensorTypes).sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'unknown';
    return {
      format: 'safetensors',
      quantisation,
      tensorTypes,
      architecture: typeof config.model_type === 'string' ? config.model_type : undefined,
    };
  }
  return { format: 'unknown', quantisation: 'unknown', tensorTypes: {} };
}

export async function ingestOutputDirectory(dir: string): Promise<{ manifest: ArtifactManifest; detected: DetectedFormat }> {
  const manifest = await manifestOfDirectory(dir);
  if (manifest.files.length === 0) throw new Error('the tool wrote no files into its output folder');
  return { manifest, detected: await detectFormat(dir, manifest) };
}

import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { QualityAccumulator, aggregateQuality, checkQuality, type ArtifactQuality, type TensorQuality } from '@fleetplane/domain';
import { FileSink } from '../file-sink';
import { GgufWriter, LLAMA_FTYPE, type GgmlTypeName, type GgufKv, type GgufTensorPlan } from '../gguf/writer';
import { architectureKvs, ggufArchitecture, ggufTensorName, tokenizerKvs } from '../gguf/metadata';
import { buildManifest, type ArtifactManifest, type ManifestFile } from '../manifest';
import { assertFreeSpace, writeAtomically } from '../output-dir';
import { SafetensorsCheckpoint } from '../safetensors/reader';
import { SafetensorsWriter, type PlannedTensor } from '../safetensors/writer';
import { loadKernel } from './kernel';
import { Scratch, logicalTensors, readStripeBytes, stripeDecoding, type LogicalTensor } from './source';
import type { Encoder, StripeResult } from './stripe';
import { StripeRunners, defaultConversionThreads } from './stripe-runner';
import { DEFAULT_IGNORED_MODULES, defaultThresholds, describeTarget, type ConversionParameters } from './targets';

export interface ConversionProgress {
  tensorsDone: number;
  tensorsTotal: number;
  /** Source bytes consumed so far (weights and their scales). */
  bytesDone: number;
  bytesTotal: number;
}

export interface ConvertOptions {
  sourceDir: string;
  /** The artifact folder to create; it must not exist yet. */
  outputDir: string;
  parameters: ConversionParameters;
  onProgress?: (p: ConversionProgress) => void;
  signal?: AbortSignal;
  /** Values per processing stripe (memory bound): a stripe of rows is read, converted, checked and written at a time. */
  stripeElements?: number;
  /** Threads converting stripes at once (default: every core the process may use); 1 converts on this thread. */
  threads?: number;
}

export interface ConversionResult {
  manifest: ArtifactManifest;
  quality: ArtifactQuality;
  /** Things the conversion could not do and the loader should know (e.g. a tokenizer that has no GGUF form). */
  notes: string[];
  /** Worker threads that converted stripes (0: everything ran on the calling thread). */
  workerThreads: number;
}

export class QualityThresholdError extends Error {
  constructor(
    message: string,
    readonly quality: ArtifactQuality,
    readonly worstTensors: TensorQuality[],
  ) {
    super(message);
    this.name = 'QualityThresholdError';
  }
}

/** Files besides the weights that a serving engine needs, copied byte for byte. */
const COPIED_FILE =
  /^(tokenizer(_config)?\.json|tokenizer\.model|special_tokens_map\.json|generation_config\.json|chat_template\.(jinja|json)|vocab\.json|merges\.txt|added_tokens\.json|LICENSE(\.md|\.txt)?)$/;

interface Unit {
  source: LogicalTensor;
  encoder: Encoder;
  /** The main output tensor's name, then any side tensors (scales, biases) written after it. */
  outName: string;
  sideNames: string[];
  /** Whether the output can differ from the source values (quality is measured only then). */
  lossy: boolean;
}

function isIgnored(name: string, patterns: string[]): boolean {
  return patterns.some((p) => name.includes(p));
}

function sideBase(name: string): string {
  return name.endsWith('.weight') ? name.slice(0, -'weight'.length) : `${name}.`;
}

function planUnits(tensors: LogicalTensor[], params: ConversionParameters): Unit[] {
  const ignored = params.ignoredModules ?? DEFAULT_IGNORED_MODULES;
  const t = params.target;
  return tensors.map((l): Unit => {
    const quantisable = l.encoding.kind !== 'raw' && l.shape.length >= 2 && !isIgnored(l.name, ignored);
    const sourceIsFloat = l.encoding.kind === 'float';
    const base = sideBase(l.name);
    const keep = (): Unit => {
      if (l.encoding.kind === 'raw') {
        if (t.format === 'gguf') throw new Error(`${l.name}: dtype ${l.tensor.dtype} cannot be written to GGUF`);
        return { source: l, encoder: { kind: 'copy' }, outName: l.name, sideNames: [], lossy: false };
      }
      if (t.format === 'gguf') {
        const name = ggufTensorName(l.name);
        // convert_hf_to_gguf keeps 1-D tensors (norms, biases) in F32; other kept tensors stay 16-bit.
        if (l.shape.length < 2) return { source: l, encoder: { kind: 'float', dtype: 'F32' }, outName: name, sideNames: [], lossy: false };
        const dtype = t.type === 'F16' ? 'F16' : 'BF16';
        return {
          source: l,
          encoder: { kind: 'float', dtype },
          outName: name,
          sideNames: [],
          lossy: !(sourceIsFloat && l.tensor.dtype === dtype),
        };
      }
      if (sourceIsFloat) return { source: l, encoder: { kind: 'copy' }, outName: l.name, sideNames: [], lossy: false };
      return { source: l, encoder: { kind: 'float', dtype: 'BF16' }, outName: l.name, sideNames: [], lossy: true };
    };
    if (!quantisable) return keep();
    switch (t.format) {
      case 'fp8-block': {
        const block = t.blockSize ?? 128;
        return {
          source: l,
          encoder: { kind: 'fp8-block', scaleFormat: t.scaleFormat ?? 'f32', block },
          outName: l.name,
          sideNames: [`${base}weight_scale_inv`],
          lossy: true,
        };
      }
      case 'gguf': {
        const name = ggufTensorName(l.name);
        if (t.type === 'Q8_0' || t.type === 'Q4_0') {
          // llama.cpp's rule: a row length that is not a multiple of the block size falls back to F16.
          if (l.cols % 32 === 0) return { source: l, encoder: { kind: 'ggml', type: t.type }, outName: name, sideNames: [], lossy: true };
          return { source: l, encoder: { kind: 'float', dtype: 'F16' }, outName: name, sideNames: [], lossy: true };
        }
        return {
          source: l,
          encoder: { kind: 'float', dtype: t.type },
          outName: name,
          sideNames: [],
          lossy: !(sourceIsFloat && l.tensor.dtype === t.type),
        };
      }
      case 'mlx-affine': {
        const groupSize = t.groupSize ?? 64;
        if (l.cols % groupSize !== 0) return keep();
        return {
          source: l,
          encoder: { kind: 'mlx', bits: t.bits, groupSize },
          outName: l.name,
          sideNames: [`${base}scales`, `${base}biases`],
          lossy: true,
        };
      }
      case 'bf16':
        if (sourceIsFloat && l.tensor.dtype === 'BF16') return keep();
        return { source: l, encoder: { kind: 'float', dtype: 'BF16' }, outName: l.name, sideNames: [], lossy: true };
    }
  });
}

/** Output tensor declarations (safetensors: PyTorch shapes and dtypes). */
function safetensorsPlan(u: Unit): PlannedTensor[] {
  const l = u.source;
  const e = u.encoder;
  switch (e.kind) {
    case 'copy':
      return [{ name: u.outName, dtype: l.tensor.dtype, shape: l.tensor.shape }];
    case 'float':
      return [{ name: u.outName, dtype: e.dtype, shape: l.shape }];
    case 'fp8-block': {
      const sr = Math.ceil(l.rows / e.block);
      const sc = Math.ceil(l.cols / e.block);
      return [
        { name: u.outName, dtype: 'F8_E4M3', shape: l.shape },
        { name: u.sideNames[0]!, dtype: e.scaleFormat === 'ue8m0' ? 'F8_E8M0' : 'F32', shape: [sr, sc] },
      ];
    }
    case 'mlx': {
      const lead = l.shape.slice(0, -1);
      return [
        { name: u.outName, dtype: 'U32', shape: [...lead, (l.cols * e.bits) / 32] },
        { name: u.sideNames[0]!, dtype: 'BF16', shape: [...lead, l.cols / e.groupSize] },
        { name: u.sideNames[1]!, dtype: 'BF16', shape: [...lead, l.cols / e.groupSize] },
      ];
    }
    case 'ggml':
      throw new Error('ggml blocks only go to GGUF');
  }
}

function ggufPlan(u: Unit): GgufTensorPlan {
  const e = u.encoder;
  const type: GgmlTypeName = e.kind === 'ggml' ? e.type : e.kind === 'float' ? e.dtype : 'F32';
  return { name: u.outName, type, ne: [...u.source.shape].reverse() };
}

/** Bytes of output per source row, for the main output tensor. */
function outRowBytes(u: Unit): number {
  const e = u.encoder;
  const cols = u.source.cols;
  switch (e.kind) {
    case 'copy':
      return u.source.tensor.byteLength / u.source.rows;
    case 'float':
      return cols * (e.dtype === 'F32' ? 4 : 2);
    case 'fp8-block':
      return cols;
    case 'ggml':
      return (cols / 32) * (e.type === 'Q8_0' ? 34 : 18);
    case 'mlx':
      return (cols * e.bits) / 8;
  }
}

interface Sink {
  write(name: string, offset: number, data: Uint8Array): Promise<void>;
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException('The conversion was cancelled', 'AbortError');
}

function rewriteConfig(config: Record<string, unknown>, params: ConversionParameters): Record<string, unknown> {
  const t = params.target;
  const c: Record<string, unknown> = { ...config };
  switch (t.format) {
    case 'fp8-block': {
      const block = t.blockSize ?? 128;
      const q: Record<string, unknown> = {
        activation_scheme: 'dynamic',
        fmt: 'e4m3',
        quant_method: 'fp8',
        weight_block_size: [block, block],
      };
      if (t.scaleFormat === 'ue8m0') q.scale_fmt = 'ue8m0';
      // Experts are FP8 now; vLLM's V4 loader reads expert_dtype (missing means fp4), from the top level or the quantization_config.
      q.expert_dtype = 'fp8';
      c.quantization_config = q;
      if ('expert_dtype' in c) c.expert_dtype = 'fp8';
      return c;
    }
    case 'mlx-affine': {
      const q = { group_size: t.groupSize ?? 64, bits: t.bits, mode: 'affine' };
      delete c.expert_dtype;
      c.quantization = q;
      c.quantization_config = { ...q };
      c.torch_dtype = 'bfloat16';
      return c;
    }
    case 'bf16':
      delete c.quantization_config;
      delete c.expert_dtype;
      c.torch_dtype = 'bfloat16';
      return c;
    case 'gguf':
      return c;
  }
}

async function readJson(path: string): Promise<Record<string, unknown> | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

async function copyHashed(from: string, toDir: string, name: string): Promise<ManifestFile> {
  const data = await readFile(from);
  const sink = await FileSink.create(join(toDir, name));
  await sink.append(data);
  return { path: name, ...(await sink.finish()) };
}

/**
 * Converts the safetensors checkpoint in `sourceDir` into a new artifact folder `outputDir`, one stripe of rows at
 * a time (memory is bounded by the stripe size, not even by the largest tensor). The folder appears only when the
 * whole artifact is written and within its quality limits.
 */
export async function convertCheckpoint(opts: ConvertOptions): Promise<ConversionResult> {
  const params = opts.parameters;
  const target = params.target;
  const signal = opts.signal;
  if (signal?.aborted) throw abortError(signal);
  const config = (await readJson(join(opts.sourceDir, 'config.json'))) ?? {};
  const qc = (config.quantization_config ?? {}) as { weight_block_size?: [number, number] };
  const sourceBlock: [number, number] = Array.isArray(qc.weight_block_size)
    ? [qc.weight_block_size[0], qc.weight_block_size[1]]
    : [128, 128];
  // This thread converts single-stripe tensors itself, with the same kernel as the worker threads.
  await loadKernel();
  const ckpt = await SafetensorsCheckpoint.open(opts.sourceDir);
  const threads = opts.threads ?? defaultConversionThreads();
  const runners = new StripeRunners(threads);
  const notes: string[] = [];
  try {
    const tensors = logicalTensors(ckpt, sourceBlock);
    const units = planUnits(tensors, params);
    const copied = (await readdir(opts.sourceDir)).filter((f) => COPIED_FILE.test(f)).sort();

    let sink: Sink & { finish(): Promise<ManifestFile[]>; abort(): Promise<void>; plannedBytes: number };
    let extraFiles: Array<{ name: string; content: Buffer }> = [];
    let tokenizerKvsFor: GgufKv[] = [];
    const makeSink = (dir: string) => {
      if (target.format === 'gguf') {
        const arch = ggufArchitecture(config);
        const kvs: GgufKv[] = [
          { key: 'general.architecture', type: 'string', value: arch },
          { key: 'general.name', type: 'string', value: params.modelName ?? String(config.model_type ?? 'model') },
          { key: 'general.file_type', type: 'u32', value: LLAMA_FTYPE[target.type] },
          { key: 'general.quantization_version', type: 'u32', value: 2 },
          ...architectureKvs(arch, config),
          ...tokenizerKvsFor,
        ];
        return new GgufWriter(dir, `model-${target.type}.gguf`, kvs, units.map(ggufPlan));
      }
      const plan = units.flatMap(safetensorsPlan);
      return new SafetensorsWriter(dir, plan, params.maxShardBytes ?? 5 * 2 ** 30);
    };
    if (target.format === 'gguf') {
      const tok = await readJson(join(opts.sourceDir, 'tokenizer.json'));
      if (tok) {
        const r = tokenizerKvs(tok, await readJson(join(opts.sourceDir, 'tokenizer_config.json')), config);
        tokenizerKvsFor = r.kvs;
        if (r.skipped) notes.push(`GGUF has no tokenizer: ${r.skipped}`);
      } else notes.push('GGUF has no tokenizer: the source has no tokenizer.json');
    } else {
      extraFiles = [{ name: 'config.json', content: Buffer.from(`${JSON.stringify(rewriteConfig(config, params), null, 2)}\n`) }];
    }

    const bytesTotal = tensors.reduce(
      (a, l) => a + l.tensor.byteLength + (l.encoding.kind === 'fp8' || l.encoding.kind === 'mxfp4' ? l.encoding.scale.byteLength : 0),
      0,
    );
    const progress: ConversionProgress = { tensorsDone: 0, tensorsTotal: units.length, bytesDone: 0, bytesTotal };
    // Threads hold a stripe each (and one is being read): smaller stripes keep the whole process near one thread's memory.
    const stripeElements = opts.stripeElements ?? (threads > 1 ? 2 ** 20 : 4 * 2 ** 20);
    const scratch = new Scratch();

    return await writeAtomically(opts.outputDir, async (dir) => {
      sink = makeSink(dir);
      const copiedBytes = await Promise.all(copied.map(async (f) => (await readFile(join(opts.sourceDir, f))).length));
      await assertFreeSpace(dir, sink.plannedBytes + copiedBytes.reduce((a, b) => a + b, 0));
      const qualities: TensorQuality[] = [];
      try {
        for (const u of units) {
          if (signal?.aborted) throw abortError(signal);
          const l = u.source;
          if (u.encoder.kind === 'copy') {
            // Byte-for-byte copy in bounded chunks.
            const chunk = 16 * 2 ** 20;
            for (let off = 0; off < l.tensor.byteLength; off += chunk) {
              if (signal?.aborted) throw abortError(signal);
              const len = Math.min(chunk, l.tensor.byteLength - off);
              await sink.write(u.outName, off, await ckpt.read(l.tensor, off, len, scratch.bytes('copy', len)));
              progress.bytesDone += len;
              opts.onProgress?.({ ...progress });
            }
          } else {
            const acc = u.lossy ? new QualityAccumulator() : null;
            const side: Uint8Array[][] = u.sideNames.map(() => []);
            // Stripes are whole multiples of 128 rows so FP8 blocks of the source and of the target never straddle two stripes.
            const stripeRows = Math.max(128, Math.floor(stripeElements / l.cols / 128) * 128);
            const rowBytes = outRowBytes(u);
            const sourceBytesPerRow =
              (l.tensor.byteLength + (l.encoding.kind === 'fp8' || l.encoding.kind === 'mxfp4' ? l.encoding.scale.byteLength : 0)) / l.rows;
            const decoding = stripeDecoding(l);
            const encoder = u.encoder;
            const runner = runners.forStripes(Math.ceil(l.rows / stripeRows));
            // Up to `parallelism` stripes convert at once while the next one is read; results are written in row order.
            const inFlight: Array<{ r0: number; r1: number; result: Promise<StripeResult> }> = [];
            const writeOldest = async () => {
              const { r0, r1, result } = inFlight.shift()!;
              const r = await result;
              await sink.write(u.outName, r0 * rowBytes, r.main);
              // A copy: results of the in-thread runner live in scratch memory that the next stripe reuses.
              r.side.forEach((part, s) => side[s]!.push(part.slice()));
              if (acc && r.sums) acc.addSums(r.sums);
              progress.bytesDone += Math.round(sourceBytesPerRow * (r1 - r0));
              opts.onProgress?.({ ...progress });
            };
            try {
              for (let r0 = 0; r0 < l.rows; r0 += stripeRows) {
                if (signal?.aborted) throw abortError(signal);
                const r1 = Math.min(l.rows, r0 + stripeRows);
                const bytes = await readStripeBytes(ckpt, l, r0, r1, runner.alloc);
                while (inFlight.length >= runner.parallelism) await writeOldest();
                const result = runner.run({ decoding, encoder, lossy: u.lossy, rows: r1 - r0, cols: l.cols, ...bytes });
                // Settled by writeOldest, or dropped on an earlier failure: never an unhandled rejection.
                result.catch(() => undefined);
                inFlight.push({ r0, r1, result });
              }
              while (inFlight.length > 0) await writeOldest();
            } finally {
              inFlight.length = 0;
            }
            for (let s = 0; s < u.sideNames.length; s++) {
              let off = 0;
              for (const part of side[s]!) {
                await sink.write(u.sideNames[s]!, off, part);
                off += part.byteLength;
              }
            }
            if (acc) qualities.push(acc.result(u.outName));
          }
          progress.tensorsDone++;
          opts.onProgress?.({ ...progress });
        }
        const files = await sink.finish();
        for (const x of extraFiles) {
          const s = await FileSink.create(join(dir, x.name));
          await s.append(x.content);
          files.push({ path: x.name, ...(await s.finish()) });
        }
        if (target.format !== 'gguf') for (const f of copied) files.push(await copyHashed(join(opts.sourceDir, f), dir, f));
        const quality = aggregateQuality(qualities);
        const breach = checkQuality(quality, params.thresholds ?? defaultThresholds(target));
        if (breach) throw new QualityThresholdError(`${describeTarget(target)}: ${breach.message}`, quality, breach.worstTensors);
        return { manifest: buildManifest(files), quality, notes, workerThreads: runners.workerThreads };
      } catch (e) {
        await sink.abort();
        throw e;
      }
    });
  } finally {
    await Promise.all([ckpt.close(), runners.close()]);
  }
}

export { COPIED_FILE };

import { spawn } from 'node:child_process';
import { open, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { gguf, GGMLQuantizationType, GGUFValueType } from '@huggingface/gguf';
import { bf16BitsToF32, f16DecodeTable } from '@fleetplane/domain';
import {
  GGML_TYPES as GGML_IDS,
  GgufWriter,
  LLAMA_FTYPE,
  ggufTensorBytes,
  type GgmlTypeName,
  type GgufKv,
  type GgufTensorPlan,
} from '@fleetplane/quantise';
import { encodeTensor } from './encode';

// Behaves like llama.cpp's tools/quantize (quantisation-formats.md §9.3):
//   llama-quantize [--allow-requantize] [--imatrix f] [--pure] ... input.gguf [output.gguf] type [nthreads]
// Banner and per-tensor lines go to stderr, the timing summary to stdout. It writes a real GGUF: types it does not
// implement are produced with the nearest simple type it has (K-quants of 5 bits or less -> Q4_0, Q6_K -> Q8_0)
// and labelled with what the data really is (general.file_type), plus quantize.requested_type for the record.
//
// Fault injection (environment):
//   FAKE_LLAMA_QUANTIZE_FAIL_AT=N   print an error and exit 1 after N tensors
//   FAKE_LLAMA_QUANTIZE_HANG_AT=N   stop making progress after N tensors, forever
//   FAKE_LLAMA_QUANTIZE_CHILD_PIDFILE=path   start a long-lived helper child first and write its pid there
//     (the process tree a cancel must kill)
//   FAKE_LLAMA_QUANTIZE_DELAY_MS=n  sleep n ms per tensor

export const BUILD_NUMBER = 4242;
export const BUILD_COMMIT = 'f1ee7a5';
const BUILT_WITH = 'cc (GCC) 13.2.0 for x86_64-linux-gnu';

const TYPES: Record<string, { ftype: number; data: GgmlTypeName; desc: string }> = {
  Q4_0: { ftype: 2, data: 'Q4_0', desc: ' 4.34G, +0.4685 ppl @ Llama-3-8B' },
  Q4_1: { ftype: 3, data: 'Q4_0', desc: ' 4.78G, +0.4511 ppl @ Llama-3-8B' },
  Q5_0: { ftype: 8, data: 'Q4_0', desc: ' 5.21G, +0.1316 ppl @ Llama-3-8B' },
  Q5_1: { ftype: 9, data: 'Q4_0', desc: ' 5.65G, +0.1062 ppl @ Llama-3-8B' },
  Q8_0: { ftype: 7, data: 'Q8_0', desc: ' 7.96G, +0.0026 ppl @ Llama-3-8B' },
  Q2_K: { ftype: 10, data: 'Q4_0', desc: ' 2.96G, +3.5199 ppl @ Llama-3-8B' },
  Q3_K_M: { ftype: 12, data: 'Q4_0', desc: ' 3.74G, +0.6569 ppl @ Llama-3-8B' },
  Q4_K_S: { ftype: 14, data: 'Q4_0', desc: ' 4.37G, +0.2689 ppl @ Llama-3-8B' },
  Q4_K_M: { ftype: 15, data: 'Q4_0', desc: ' 4.58G, +0.1754 ppl @ Llama-3-8B' },
  Q5_K_S: { ftype: 16, data: 'Q4_0', desc: ' 5.21G, +0.1049 ppl @ Llama-3-8B' },
  Q5_K_M: { ftype: 17, data: 'Q4_0', desc: ' 5.33G, +0.0569 ppl @ Llama-3-8B' },
  Q6_K: { ftype: 18, data: 'Q8_0', desc: ' 6.14G, +0.0217 ppl @ Llama-3-8B' },
  F16: { ftype: 1, data: 'F16', desc: '14.00G, +0.0020 ppl @ Mistral-7B' },
  BF16: { ftype: 32, data: 'BF16', desc: '14.00G, -0.0050 ppl @ Mistral-7B' },
  F32: { ftype: 0, data: 'F32', desc: '26.00G              @ 7B' },
};

const FLAGS_NO_VALUE = new Set(['--allow-requantize', '--leave-output-tensor', '--pure', '--keep-split', '--dry-run']);
const FLAGS_WITH_VALUE = new Set([
  '--imatrix',
  '--include-weights',
  '--exclude-weights',
  '--output-tensor-type',
  '--token-embedding-type',
  '--override-kv',
]);

type Io = { out: (s: string) => void; err: (s: string) => void };
const defaultIo: Io = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

function usage(exe: string, io: Io): number {
  io.err(
    `usage: ${exe} [--help] [--allow-requantize] [--leave-output-tensor] [--pure] [--imatrix] [--include-weights] [--exclude-weights] [--output-tensor-type] [--token-embedding-type] [--override-kv] [--keep-split] [--dry-run] model-f32.gguf [model-quant.gguf] type [nthreads]\n\n` +
      `Allowed quantization types:\n${Object.entries(TYPES)
        .map(([name, t]) => `  ${String(t.ftype).padStart(2)}  or  ${name.padEnd(7)} : ${t.desc}`)
        .join('\n')}\n`,
  );
  return 1;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function typeName(t: number): string {
  return (GGMLQuantizationType[t] ?? `type${t}`).toLowerCase().replace('_k', '_K');
}

/** llama_tensor_get_type's guard: only ≥2-D weights that are not norms or the MoE router get quantised. */
function allowsQuantisation(name: string, nDims: number): boolean {
  return (
    nDims >= 2 && name.endsWith('weight') && !name.endsWith('_norm.weight') && !name.includes('ffn_gate_inp') && !name.includes('pos_embd')
  );
}

function typedKv(key: string, v: { value: unknown; type: GGUFValueType; subType?: GGUFValueType }): GgufKv | null {
  switch (v.type) {
    case GGUFValueType.UINT8:
      return { key, type: 'u8', value: Number(v.value) };
    case GGUFValueType.UINT16:
      return { key, type: 'u16', value: Number(v.value) };
    case GGUFValueType.UINT32:
      return { key, type: 'u32', value: Number(v.value) };
    case GGUFValueType.INT32:
      return { key, type: 'i32', value: Number(v.value) };
    case GGUFValueType.UINT64:
      return { key, type: 'u64', value: BigInt(v.value as bigint) };
    case GGUFValueType.FLOAT32:
      return { key, type: 'f32', value: Number(v.value) };
    case GGUFValueType.BOOL:
      return { key, type: 'bool', value: Boolean(v.value) };
    case GGUFValueType.STRING:
      return { key, type: 'string', value: String(v.value) };
    case GGUFValueType.ARRAY:
      if (v.subType === GGUFValueType.STRING) return { key, type: 'string[]', value: v.value as string[] };
      if (v.subType === GGUFValueType.INT32) return { key, type: 'i32[]', value: (v.value as number[]).map(Number) };
      if (v.subType === GGUFValueType.FLOAT32) return { key, type: 'f32[]', value: (v.value as number[]).map(Number) };
      return null;
    default:
      return null;
  }
}

export async function main(argv: string[], env: NodeJS.ProcessEnv, io: Io = defaultIo): Promise<number> {
  const exe = 'llama-quantize';
  if (argv[0] === '--version') {
    io.err(`version: ${BUILD_NUMBER} (${BUILD_COMMIT})\nbuilt with ${BUILT_WITH}\n`);
    return 0;
  }
  let imatrix: string | undefined;
  let allowRequantize = false;
  let i = 0;
  for (; i < argv.length && argv[i]!.startsWith('--'); i++) {
    const flag = argv[i]!;
    if (FLAGS_NO_VALUE.has(flag)) {
      if (flag === '--allow-requantize') allowRequantize = true;
    } else if (FLAGS_WITH_VALUE.has(flag) && i + 1 < argv.length) {
      if (flag === '--imatrix') imatrix = argv[i + 1];
      i++;
    } else return usage(exe, io);
  }
  const pos = argv.slice(i);
  if (pos.length < 2) return usage(exe, io);
  const input = pos[0]!;
  // The token after the input is either the output file or the type (then the output goes next to the input).
  const typeFirst = TYPES[pos[1]!.toUpperCase()] !== undefined;
  const output = typeFirst ? join(dirname(input), `ggml-model-${pos[1]!.toUpperCase()}.gguf`) : pos[1]!;
  const typeArg = (typeFirst ? pos[1] : pos[2])?.toUpperCase();
  const threadsArg = typeFirst ? pos[2] : pos[3];
  const type = typeArg ? TYPES[typeArg] : undefined;
  if (!type || !typeArg) return usage(exe, io);
  const threads = threadsArg ? Number(threadsArg) : 2;

  io.err(`main: build = ${BUILD_NUMBER} (${BUILD_COMMIT})\nmain: built with ${BUILT_WITH}\n`);
  if (imatrix) {
    try {
      await stat(imatrix);
    } catch {
      io.err(`main: failed to open imatrix file ${imatrix}\n`);
      return 1;
    }
    io.err(`load_imatrix: loaded data from '${imatrix}'\n`);
  }
  if (env.FAKE_LLAMA_QUANTIZE_CHILD_PIDFILE) {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore' });
    await writeFile(env.FAKE_LLAMA_QUANTIZE_CHILD_PIDFILE, String(child.pid));
  }
  io.err(`main: quantizing '${input}' to '${output}' as ${typeArg} using ${threads} threads\n`);
  const started = Date.now();

  let parsed;
  try {
    parsed = await gguf(input, { allowLocalFile: true, typedMetadata: true });
  } catch (e) {
    io.err(`gguf_init_from_file: failed to load model from ${input}: ${(e as Error).message}\n`);
    io.err(`llama_model_quantize: failed to quantize: failed to load model\n`);
    return 1;
  }
  const failAt = env.FAKE_LLAMA_QUANTIZE_FAIL_AT !== undefined ? Number(env.FAKE_LLAMA_QUANTIZE_FAIL_AT) : -1;
  const hangAt = env.FAKE_LLAMA_QUANTIZE_HANG_AT !== undefined ? Number(env.FAKE_LLAMA_QUANTIZE_HANG_AT) : -1;
  const delayMs = Number(env.FAKE_LLAMA_QUANTIZE_DELAY_MS ?? 0);

  const kvs: GgufKv[] = [];
  for (const [key, v] of Object.entries(parsed.typedMetadata)) {
    if (
      key === 'version' ||
      key === 'tensor_count' ||
      key === 'kv_count' ||
      key === 'general.file_type' ||
      key === 'general.quantization_version' ||
      key === 'general.alignment'
    )
      continue;
    const kv = typedKv(key, v as { value: unknown; type: GGUFValueType; subType?: GGUFValueType });
    if (kv) kvs.push(kv);
  }
  kvs.push(
    { key: 'general.quantization_version', type: 'u32', value: 2 },
    { key: 'general.file_type', type: 'u32', value: LLAMA_FTYPE[type.data] },
  );
  kvs.push({ key: 'quantize.requested_type', type: 'string', value: typeArg });
  if (imatrix) kvs.push({ key: 'quantize.imatrix.file', type: 'string', value: imatrix });

  const supported = new Map<number, GgmlTypeName>([
    [GGMLQuantizationType.F32, 'F32'],
    [GGMLQuantizationType.F16, 'F16'],
    [GGMLQuantizationType.BF16, 'BF16'],
  ]);
  const plans: GgufTensorPlan[] = [];
  const sources: Array<{ type: GgmlTypeName; offset: number; bytes: number; n: number; quantise: boolean }> = [];
  for (const t of parsed.tensorInfos) {
    const ne = t.shape.map(Number);
    const srcType = supported.get(t.dtype);
    if (!srcType) {
      const msg = allowRequantize
        ? `type ${typeName(t.dtype)} cannot be read by this build`
        : `requantizing from type ${typeName(t.dtype)} is disabled`;
      io.err(`llama_model_quantize: failed to quantize: ${msg}\n`);
      return 1;
    }
    const quantise =
      allowsQuantisation(t.name, ne.length) && (type.data === 'F32' || type.data === 'F16' || type.data === 'BF16' || ne[0]! % 32 === 0);
    const outType: GgmlTypeName = quantise ? type.data : allowsQuantisation(t.name, ne.length) ? 'F16' : srcType;
    const plan = { name: t.name, type: srcType, ne };
    plans.push({ name: t.name, type: outType, ne });
    sources.push({
      type: srcType,
      offset: Number(parsed.tensorDataOffset + t.offset),
      bytes: ggufTensorBytes(plan),
      n: ne.reduce((a, b) => a * b, 1),
      quantise: outType !== srcType,
    });
  }

  const writer = new GgufWriter(dirname(output), basename(output), kvs, plans);
  const fh = await open(input, 'r');
  let totalIn = 0;
  let totalOut = 0;
  try {
    for (let k = 0; k < plans.length; k++) {
      if (k === failAt) {
        io.err(`llama_model_quantize: failed to quantize: ggml_validate_row_data: found inf value at block ${k * 7}\n`);
        await writer.abort();
        return 1;
      }
      if (k === hangAt) {
        io.err(`[${String(k + 1).padStart(4)}/${String(plans.length).padStart(4)}] stalled\n`);
        await new Promise(() => setInterval(() => {}, 1 << 30));
      }
      if (delayMs > 0) await sleep(delayMs);
      const p = plans[k]!;
      const s = sources[k]!;
      const raw = Buffer.alloc(s.bytes);
      await fh.read(raw, 0, s.bytes, s.offset);
      const ne4 = [...p.ne, 1, 1, 1]
        .slice(0, 4)
        .map((n) => String(n).padStart(6))
        .join(', ');
      const head = `[${String(k + 1).padStart(4)}/${String(plans.length).padStart(4)}] ${p.name.padEnd(36)} - [${ne4}], type = ${typeName(GGML_IDS[s.type]).padStart(6)}, `;
      let out: Uint8Array = raw;
      if (s.quantise) {
        const f32 = new Float32Array(s.n);
        if (s.type === 'F32') f32.set(new Float32Array(raw.buffer, raw.byteOffset, s.n));
        else if (s.type === 'F16') {
          const lut = f16DecodeTable();
          for (let j = 0; j < s.n; j++) f32[j] = lut[raw.readUInt16LE(2 * j)]!;
        } else for (let j = 0; j < s.n; j++) f32[j] = bf16BitsToF32(raw.readUInt16LE(2 * j));
        out = encodeTensor(f32, p.type);
        io.err(
          `${head}converting to ${typeName(GGML_IDS[p.type])} .. size = ${(s.bytes / 2 ** 20).toFixed(2).padStart(8)} MiB -> ${(out.byteLength / 2 ** 20).toFixed(2).padStart(8)} MiB\n`,
        );
      } else {
        io.err(`${head}size = ${(s.bytes / 2 ** 20).toFixed(3).padStart(8)} MiB\n`);
      }
      totalIn += s.bytes;
      totalOut += out.byteLength;
      await writer.write(p.name, 0, out);
    }
    await writer.finish();
  } catch (e) {
    await writer.abort();
    io.err(`llama_model_quantize: failed to quantize: ${(e as Error).message}\n`);
    return 1;
  } finally {
    await fh.close();
  }
  const elements = sources.reduce((a, s) => a + s.n, 0);
  io.err(
    `llama_model_quantize_impl: model size  = ${(totalIn / 2 ** 20).toFixed(2).padStart(8)} MiB (${((totalIn * 8) / elements).toFixed(2)} BPW)\n`,
  );
  io.err(
    `llama_model_quantize_impl: quant size  = ${(totalOut / 2 ** 20).toFixed(2).padStart(8)} MiB (${((totalOut * 8) / elements).toFixed(2)} BPW)\n`,
  );
  const ms = Date.now() - started;
  io.out(`\nmain: quantize time = ${ms.toFixed(2).padStart(8)} ms\nmain:    total time = ${ms.toFixed(2).padStart(8)} ms\n`);
  return 0;
}

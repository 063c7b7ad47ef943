/**
 * Per-stage cost of the converter's hot loops, nanoseconds of CPU per value: the WebAssembly kernel
 * (packages/quantise/assembly/kernel.ts) next to the scalar JS functions of @fleetplane/domain it replaced, on one
 * stripe of 256 x 4096 values (1 Mi, the stripe size of a multi-threaded conversion), plus the sha256 and the copy every
 * output byte also costs. One thread, warm caches: the cost of the arithmetic, not of a conversion (bench-quantise.ts).
 *
 *   npx tsx tools/bench/src/bench-quantise-kernel.ts [--reps 20]
 */
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import {
  blockFp8ErrorSums,
  dequantiseBlockFp8Into,
  dequantiseMxfp4Into,
  q8_0ErrorSums,
  quantiseBlockFp8,
  quantiseQ8_0Into,
} from '@fleetplane/domain';
import { loadKernel } from '@fleetplane/quantise/convert/kernel';

const { values: args } = parseArgs({ options: { reps: { type: 'string', default: '20' } } });
const reps = Number(args.reps);
const rows = 256;
const cols = 4096;
const n = rows * cols;

const k = await loadKernel();
const x = k.exports;
const at = k.layout({
  packed: n / 2,
  mxScales: n / 32,
  f32: n * 4,
  out: n * 2,
  scales: 64 * 4,
  e8: 64,
  work: 64 * 8,
  pad: 128,
  sums: 24,
});
// MXFP4 experts as the synthetic checkpoint has them: pseudo-random nibbles, scales around 2^-5.
const packed = k.u8(at.packed, n / 2);
for (let i = 0; i < packed.length; i++) packed[i] = (Math.imul(i, 2654435761) >>> 24) & 0xff;
const mxScales = k.u8(at.mxScales, n / 32);
for (let i = 0; i < mxScales.length; i++) mxScales[i] = 120 + (i % 7);

/** CPU nanoseconds per value of `f`, the best of `reps` runs after one warm-up. */
function measure(f: () => void, times = reps): number {
  f();
  let best = Infinity;
  for (let r = 0; r < times; r++) {
    const c0 = process.cpuUsage();
    f();
    const c = process.cpuUsage(c0);
    best = Math.min(best, ((c.user + c.system) * 1000) / n);
  }
  return best;
}

const rowsOut: Array<{ stage: string; 'JS ns/value': string; 'kernel ns/value': string; 'x faster': string }> = [];
function row(stage: string, js: number | null, wasm: number): void {
  rowsOut.push({
    stage,
    'JS ns/value': js === null ? '—' : js.toFixed(2),
    'kernel ns/value': wasm.toFixed(2),
    'x faster': js === null ? '—' : (js / wasm).toFixed(1),
  });
}

const jsPacked = new Uint8Array(packed);
const jsScales = new Uint8Array(mxScales);
const jsF32 = new Float32Array(n);
row(
  'MXFP4 decode',
  measure(() => dequantiseMxfp4Into(jsPacked, jsScales, rows, cols, jsF32)),
  measure(() => x.decodeMxfp4(at.packed, at.mxScales, rows, cols, at.f32)),
);
const src = new Float32Array(k.f32(at.f32, n));
const q = quantiseBlockFp8(src, rows, cols, 'f32', 128);
row(
  'FP8 block: amax, scale, E4M3 encode',
  measure(() => quantiseBlockFp8(src, rows, cols, 'f32', 128)),
  measure(() => x.quantiseFp8Block(at.f32, rows, cols, 128, 0, at.out, at.scales, at.e8, at.work, at.pad, 0, at.sums)),
);
row(
  'FP8 block: the same + error sums',
  measure(() => {
    const r = quantiseBlockFp8(src, rows, cols, 'f32', 128);
    blockFp8ErrorSums(src, r.codes, rows, cols, r.scales, r.scaleCols, 128);
  }),
  measure(() => x.quantiseFp8Block(at.f32, rows, cols, 128, 0, at.out, at.scales, at.e8, at.work, at.pad, 1, at.sums)),
);
k.f32(at.scales, q.scales.length).set(q.scales);
k.u8(at.out, n).set(q.codes);
row(
  'FP8 block decode',
  measure(() => dequantiseBlockFp8Into(q.codes, rows, cols, q.scales, q.scaleCols, jsF32, 128)),
  measure(() => x.decodeFp8Block(at.out, rows, cols, at.scales, q.scaleCols, 128, at.f32)),
);
k.f32(at.f32, n).set(src);
const q8 = new Uint8Array((n / 32) * 34);
row(
  'Q8_0 encode',
  measure(() => quantiseQ8_0Into(src, q8, 0, 0, n)),
  measure(() => x.quantiseQ8_0(at.f32, n, at.out, 0, at.sums)),
);
row(
  'Q8_0 encode + error sums',
  measure(() => {
    quantiseQ8_0Into(src, q8, 0, 0, n);
    q8_0ErrorSums(src, q8, n);
  }),
  measure(() => x.quantiseQ8_0(at.f32, n, at.out, 1, at.sums)),
);
const bytes = new Uint8Array(n);
row(
  'BF16 encode (2 bytes out)',
  null,
  measure(() => x.encodeBf16(at.f32, n, at.out)),
);
row(
  'sha256 per output byte',
  null,
  measure(() => createHash('sha256').update(bytes).digest()),
);
const copy = new Uint8Array(n);
row(
  'copy per byte (into kernel memory)',
  null,
  measure(() => copy.set(bytes)),
);
console.table(rowsOut);

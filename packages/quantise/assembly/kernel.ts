// The converter's hot loops in WebAssembly with 128-bit SIMD (AssemblyScript; built by scripts/build-kernel.mjs,
// loaded by src/convert/kernel.ts). Every function reproduces the bytes of the scalar JS reference in
// @fleetplane/domain (float-formats.ts, fp8-block.ts, ggml-quants.ts) bit for bit; kernel.test.ts checks them
// exhaustively. Where the reference divides float32 values in double precision and rounds the quotient to float32
// (scales, 1/scale), this code divides in float32: the same result, because a double has at least 2·24 + 2 bits, which
// makes rounding twice innocuous for a quotient of two float32 values (the tests check it on edge values).
//
// No allocation here: JS lays out every buffer in linear memory and passes pointers. Error sums go to three f64 at
// `sums` (Σw², Σ(w−ŵ)², max|w−ŵ|); a function returns 1 when they are not finite (a NaN/Inf in the source), and the
// caller then takes the careful JS path for that stripe, as the JS encoders do.

const SIGN: u32 = 0x80000000;
const CANONICAL_NAN: u32 = 0x7fc00000;

/** End of static data: JS places its buffers from here. */
export function heapBase(): usize {
  return __heap_base;
}

// ---------------------------------------------------------------------------------------------------------------
// Decoders: source bytes -> float32 at `dst`.

/** BF16 -> F32: the 16 bits become the top half of the float32. */
export function decodeBf16(src: usize, n: i32, dst: usize): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const v = v128.load(src + ((<usize>i) << 1));
    v128.store(dst + ((<usize>i) << 2), i32x4.shl(i32x4.extend_low_i16x8_u(v), 16));
    v128.store(dst + ((<usize>i) << 2), i32x4.shl(i32x4.extend_high_i16x8_u(v), 16), 16);
  }
  for (; i < n; i++) store<u32>(dst + ((<usize>i) << 2), (<u32>load<u16>(src + ((<usize>i) << 1))) << 16);
}

/** Four binary16 values (in the low 16 bits of each lane) as float32 bits; NaN is the canonical quiet NaN, as in f16DecodeTable. */
function f16x4(h: v128): v128 {
  const sign = i32x4.shl(v128.and(h, i32x4.splat(0x8000)), 16);
  const mag = v128.and(h, i32x4.splat(0x7fff));
  const normal = i32x4.add(i32x4.shl(mag, 13), i32x4.splat(112 << 23));
  // Subnormal halves: mant · 2^-24, exact in float32.
  const sub = f32x4.mul(f32x4.convert_i32x4_s(mag), f32x4.splat(5.9604644775390625e-8));
  const isSub = i32x4.lt_s(mag, i32x4.splat(0x400));
  const isInf = i32x4.eq(mag, i32x4.splat(0x7c00));
  const isNan = i32x4.gt_s(mag, i32x4.splat(0x7c00));
  let r = v128.bitselect(sub, normal, isSub);
  r = v128.bitselect(i32x4.splat(0x7f800000), r, isInf);
  r = v128.or(r, sign);
  return v128.bitselect(i32x4.splat(CANONICAL_NAN), r, isNan);
}

export function decodeF16(src: usize, n: i32, dst: usize): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const v = v128.load(src + ((<usize>i) << 1));
    v128.store(dst + ((<usize>i) << 2), f16x4(i32x4.extend_low_i16x8_u(v)));
    v128.store(dst + ((<usize>i) << 2), f16x4(i32x4.extend_high_i16x8_u(v)), 16);
  }
  for (; i < n; i++) {
    const h = i32x4.splat(<i32>load<u16>(src + ((<usize>i) << 1)));
    store<u32>(dst + ((<usize>i) << 2), <u32>i32x4.extract_lane(f16x4(h), 0));
  }
}

/** Four E4M3FN codes (0..255 per lane) as float32 bits (E4M3_TABLE): NaN codes give the canonical quiet NaN. */
function e4m3Decode(c: v128): v128 {
  const mag = v128.and(c, i32x4.splat(0x7f));
  const normal = i32x4.add(i32x4.shl(mag, 20), i32x4.splat(120 << 23));
  const sub = f32x4.mul(f32x4.convert_i32x4_s(mag), f32x4.splat(0.001953125));
  let r = v128.bitselect(sub, normal, i32x4.lt_s(mag, i32x4.splat(8)));
  r = v128.or(r, i32x4.shl(v128.and(c, i32x4.splat(0x80)), 24));
  return v128.bitselect(i32x4.splat(CANONICAL_NAN), r, i32x4.eq(mag, i32x4.splat(0x7f)));
}

/**
 * A lane-wise product with the reference's NaN (what V8 gives for `E4M3_TABLE[code] * s`, measured in the test): the
 * scale's NaN (quieted) when the scale is NaN, else the code's canonical NaN when the code is NaN.
 */
function scaled(v: v128, s: v128): v128 {
  const p = v128.bitselect(v, f32x4.mul(v, s), f32x4.ne(v, v));
  return v128.bitselect(v128.or(s, i32x4.splat(0x00400000)), p, f32x4.ne(s, s));
}

/**
 * Block FP8 -> F32 (dequantiseBlockFp8Into): w = e4m3(code) · scale[⌊r/b⌋, ⌊c/b⌋], `scales` decoded float32
 * multipliers. Codes are read 16 at a time; a block's edge (cols not a multiple of 16) goes lane by lane.
 */
export function decodeFp8Block(codes: usize, rows: i32, cols: i32, scales: usize, scaleCols: i32, block: i32, dst: usize): void {
  for (let r = 0; r < rows; r++) {
    const sRow = scales + ((<usize>((r / block) * scaleCols)) << 2);
    const cBase = codes + <usize>r * cols;
    const oBase = dst + ((<usize>r * cols) << 2);
    for (let bc = 0, c0 = 0; c0 < cols; bc++, c0 += block) {
      const c1 = min(cols, c0 + block);
      const s = v128.load32_splat(sRow + ((<usize>bc) << 2));
      let c = c0;
      for (; c + 16 <= c1; c += 16) {
        const b = v128.load(cBase + c);
        const lo = i16x8.extend_low_i8x16_u(b);
        const hi = i16x8.extend_high_i8x16_u(b);
        const o = oBase + ((<usize>c) << 2);
        v128.store(o, scaled(e4m3Decode(i32x4.extend_low_i16x8_u(lo)), s));
        v128.store(o, scaled(e4m3Decode(i32x4.extend_high_i16x8_u(lo)), s), 16);
        v128.store(o, scaled(e4m3Decode(i32x4.extend_low_i16x8_u(hi)), s), 32);
        v128.store(o, scaled(e4m3Decode(i32x4.extend_high_i16x8_u(hi)), s), 48);
      }
      for (; c < c1; c++) {
        const v = scaled(e4m3Decode(i32x4.splat(<i32>load<u8>(cBase + c))), s);
        store<u32>(oBase + ((<usize>c) << 2), <u32>i32x4.extract_lane(v, 0));
      }
    }
  }
}

/** E8M0 byte -> float32 bits: 2^(e−127); 0x00 is the subnormal 2^−127; 0xFF NaN (E8M0_TABLE). */
function e8m0Bits(e: u32): u32 {
  if (e == 0xff) return CANONICAL_NAN;
  if (e == 0) return 0x00400000;
  return e << 23;
}

/**
 * MXFP4 -> F32 (dequantiseMxfp4Into): `packed` [rows, cols/2], byte j = element 2j (low nibble) and 2j+1 (high);
 * one E8M0 scale per 32 values, i.e. per 16 packed bytes, so one v128 load is one scale group. The E2M1 values'
 * float32 bits have only their top two bytes set, so two 16-entry swizzles give them.
 */
export function decodeMxfp4(packed: usize, scaleCodes: usize, rows: i32, cols: i32, dst: usize): void {
  const top = i8x16(0x00, 0x3f, 0x3f, 0x3f, 0x40, 0x40, 0x40, 0x40, -0x80, -0x41, -0x41, -0x41, -0x40, -0x40, -0x40, -0x40);
  const second = i8x16(0x00, 0x00, -0x80, -0x40, 0x00, 0x40, -0x80, -0x40, 0x00, 0x00, -0x80, -0x40, 0x00, 0x40, -0x80, -0x40);
  const nib = i8x16.splat(0x0f);
  const groups = <usize>rows * (cols >>> 5);
  for (let g: usize = 0; g < groups; g++) {
    const s = i32x4.splat(<i32>e8m0Bits(<u32>load<u8>(scaleCodes + g)));
    const p = v128.load(packed + (g << 4));
    const lo = v128.and(p, nib);
    const hi = i8x16.shr_u(p, 4);
    const n0 = i8x16.shuffle(lo, hi, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const n1 = i8x16.shuffle(lo, hi, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const o = dst + (g << 7);
    let t = i8x16.swizzle(top, n0);
    let m = i8x16.swizzle(second, n0);
    let h16 = i8x16.shuffle(m, t, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    v128.store(o, f32x4.mul(i32x4.shl(i32x4.extend_low_i16x8_u(h16), 16), s));
    v128.store(o, f32x4.mul(i32x4.shl(i32x4.extend_high_i16x8_u(h16), 16), s), 16);
    h16 = i8x16.shuffle(m, t, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    v128.store(o, f32x4.mul(i32x4.shl(i32x4.extend_low_i16x8_u(h16), 16), s), 32);
    v128.store(o, f32x4.mul(i32x4.shl(i32x4.extend_high_i16x8_u(h16), 16), s), 48);
    t = i8x16.swizzle(top, n1);
    m = i8x16.swizzle(second, n1);
    h16 = i8x16.shuffle(m, t, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    v128.store(o, f32x4.mul(i32x4.shl(i32x4.extend_low_i16x8_u(h16), 16), s), 64);
    v128.store(o, f32x4.mul(i32x4.shl(i32x4.extend_high_i16x8_u(h16), 16), s), 80);
    h16 = i8x16.shuffle(m, t, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    v128.store(o, f32x4.mul(i32x4.shl(i32x4.extend_low_i16x8_u(h16), 16), s), 96);
    v128.store(o, f32x4.mul(i32x4.shl(i32x4.extend_high_i16x8_u(h16), 16), s), 112);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// E4M3FN encoding (f32ToE4M3): round to nearest even, saturating at ±448, NaN -> 0x7F | sign.

/** Four float32 lanes -> E4M3 codes (0..255 per i32 lane). */
function e4m3Encode(x: v128): v128 {
  const sign = v128.and(i32x4.shr_u(x, 24), i32x4.splat(0x80));
  const abs = v128.and(x, i32x4.splat(0x7fffffff));
  // Normal results: round the mantissa to 3 bits on the bit pattern (ties to even); a carry bumps the exponent, and
  // (bits >> 20) − (127 − 7)·8 is then the code.
  const odd = v128.and(i32x4.shr_u(abs, 20), i32x4.splat(1));
  const normal = i32x4.sub(i32x4.shr_u(i32x4.add(i32x4.add(abs, i32x4.splat(0x7ffff)), odd), 20), i32x4.splat(960));
  // Below 2^-6 the step is 2^-9: adding 2^14 (whose float32 ulp is 2^-9) rounds to that step, ties to even, and the
  // difference of the bit patterns is the code.
  const big = i32x4.splat(0x46800000);
  const sub = i32x4.sub(f32x4.add(abs, big), big);
  let code = v128.bitselect(sub, normal, i32x4.lt_s(abs, i32x4.splat(0x3c800000)));
  code = v128.bitselect(i32x4.splat(0x7e), code, i32x4.ge_s(abs, i32x4.splat(0x43e00000)));
  code = v128.bitselect(i32x4.splat(0x7f), code, i32x4.gt_s(abs, i32x4.splat(0x7f800000)));
  return v128.or(code, sign);
}

/** Exposed for the exhaustive test: encodes n float32 values (n a multiple of 4) into n codes. */
export function encodeE4M3(src: usize, n: i32, dst: usize): void {
  for (let i = 0; i < n; i += 4) {
    const c = e4m3Encode(v128.load(src + ((<usize>i) << 2)));
    store<u8>(dst + i, <u8>i32x4.extract_lane(c, 0));
    store<u8>(dst + i + 1, <u8>i32x4.extract_lane(c, 1));
    store<u8>(dst + i + 2, <u8>i32x4.extract_lane(c, 2));
    store<u8>(dst + i + 3, <u8>i32x4.extract_lane(c, 3));
  }
}

/**
 * F32 -> BF16 with round-to-nearest-even on the bit pattern, NaN kept quiet (f32ToBf16Bits): the GGUF writer's
 * 16-bit copy of tensors it keeps (embeddings, head), and the BF16 target.
 */
export function encodeBf16(src: usize, n: i32, dst: usize): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const a = bf16x4(v128.load(src + ((<usize>i) << 2)));
    const b = bf16x4(v128.load(src + ((<usize>i) << 2), 16));
    v128.store(dst + ((<usize>i) << 1), i16x8.narrow_i32x4_u(a, b));
  }
  for (; i < n; i++) store<u16>(dst + ((<usize>i) << 1), <u16>i32x4.extract_lane(bf16x4(v128.load32_zero(src + ((<usize>i) << 2))), 0));
}

function bf16x4(x: v128): v128 {
  const top = i32x4.shr_u(x, 16);
  const rounded = i32x4.shr_u(i32x4.add(i32x4.add(x, i32x4.splat(0x7fff)), v128.and(top, i32x4.splat(1))), 16);
  const isNan = i32x4.gt_u(v128.and(x, i32x4.splat(0x7fffffff)), i32x4.splat(0x7f800000));
  return v128.bitselect(v128.or(top, i32x4.splat(0x40)), rounded, isNan);
}

// ---------------------------------------------------------------------------------------------------------------
// Error sums: Σw², Σ(w−ŵ)², max|w−ŵ| in double precision, as the reference, with two f64x2 partial sums per
// quantity (lanes 0–1 and 2–3 of each group of four values). The loops keep them in locals (the inlined helpers
// below take and return one quantity each) and write them once through finishSums.

/** Lanes 0–1 (hi = false) or 2–3 of a float32x4 as float64x2. */
function widen(v: v128, hi: bool): v128 {
  return f64x2.promote_low_f32x4(hi ? i32x4.shuffle(v, v, 2, 3, 2, 3) : v);
}

/** Writes the sums to `out`; 1 when they are not finite (the caller recomputes them carefully). */
function finishSums(out: usize, sumLo: v128, sumHi: v128, errLo: v128, errHi: v128, maxLo: v128, maxHi: v128): i32 {
  const s = f64x2.add(sumLo, sumHi);
  const e = f64x2.add(errLo, errHi);
  const m = f64x2.max(maxLo, maxHi);
  const sumSq = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  const errSq = f64x2.extract_lane(e, 0) + f64x2.extract_lane(e, 1);
  store<f64>(out, sumSq);
  store<f64>(out, errSq, 8);
  store<f64>(out, max(f64x2.extract_lane(m, 0), f64x2.extract_lane(m, 1)), 16);
  return isFinite(sumSq) && isFinite(errSq) ? 0 : 1;
}

/** Four codes (0..255 per i32 lane) as four bytes in lane 0. */
function narrow4(c: v128): v128 {
  const h = i16x8.narrow_i32x4_u(c, c);
  return i8x16.narrow_i16x8_u(h, h);
}

/** fround(a / b) of the reference (division in double, then to float32): equal to the float32 division. */
function divF32(a: f32, b: f32): f32 {
  return a / b;
}

/** f32ToE8M0(scale, 'ceil') for the block maximum's scale (never NaN: amax skips NaN). */
function e8m0Ceil(scale: f32): u32 {
  if (!(scale > 0)) return 0;
  const x = reinterpret<u32>(scale);
  const biased = (x >>> 23) & 0xff;
  if (biased == 0xff) return 0xfe;
  if (biased == 0) return <f64>scale > 5.877471754111438e-39 ? 1 : 0;
  const e = biased + ((x & 0x7fffff) != 0 ? 1 : 0);
  return e > 0xfe ? 0xfe : e;
}

// ---------------------------------------------------------------------------------------------------------------
// Block FP8 quantisation (quantiseBlockFp8 + blockFp8ErrorSums), one band of `block` rows at a time so the band is
// still in cache when it is encoded.
//
// `work` holds 2·scaleCols float32 (the band's maxima, then the reciprocal scales). Rows are encoded in groups of 16
// values; a block whose width is not a multiple of 16 is padded with zeros through `pad` (64 bytes), which changes
// neither the maxima nor the sums.

export function quantiseFp8Block(
  src: usize,
  rows: i32,
  cols: i32,
  block: i32,
  ue8m0: i32,
  codes: usize,
  scales: usize,
  e8: usize,
  work: usize,
  pad: usize,
  measure: i32,
  sums: usize,
): i32 {
  const scaleCols = (cols + block - 1) / block;
  const amax = work;
  const inv = work + ((<usize>scaleCols) << 2);
  let sumLo = f64x2.splat(0);
  let sumHi = f64x2.splat(0);
  let errLo = f64x2.splat(0);
  let errHi = f64x2.splat(0);
  let maxLo = f64x2.splat(0);
  let maxHi = f64x2.splat(0);
  const absMask = i32x4.splat(0x7fffffff);
  for (let r0 = 0, br = 0; r0 < rows; r0 += block, br++) {
    const r1 = min(rows, r0 + block);
    // The band's block maxima; pmax keeps the running maximum when a lane is NaN, like `if (a > m) m = a`.
    for (let bc = 0; bc < scaleCols; bc++) {
      const c0 = bc * block;
      const c1 = min(cols, c0 + block);
      let m0 = f32x4.splat(0);
      let m1 = f32x4.splat(0);
      let mt: f32 = 0;
      for (let r = r0; r < r1; r++) {
        const base = src + ((<usize>r * cols) << 2);
        let c = c0;
        for (; c + 8 <= c1; c += 8) {
          m0 = f32x4.pmax(m0, v128.and(v128.load(base + ((<usize>c) << 2)), absMask));
          m1 = f32x4.pmax(m1, v128.and(v128.load(base + ((<usize>c) << 2), 16), absMask));
        }
        for (; c < c1; c++) {
          const a = abs<f32>(load<f32>(base + ((<usize>c) << 2)));
          if (a > mt) mt = a;
        }
      }
      // Maximum of the lanes (order does not matter: no lane is NaN), then of the scalar tail.
      let m = f32x4.pmax(m0, m1);
      m = f32x4.pmax(m, i32x4.shuffle(m, m, 2, 3, 0, 1));
      m = f32x4.pmax(m, i32x4.shuffle(m, m, 1, 0, 3, 2));
      let a = f32x4.extract_lane(m, 0);
      if (mt > a) a = mt;
      store<f32>(amax + ((<usize>bc) << 2), a);
    }
    for (let bc = 0; bc < scaleCols; bc++) {
      const a = load<f32>(amax + ((<usize>bc) << 2));
      const i = <usize>(br * scaleCols + bc);
      let s: f32;
      if (ue8m0) {
        const code = a > 0 ? e8m0Ceil(divF32(a, 448)) : 127;
        store<u8>(e8 + i, <u8>code);
        s = reinterpret<f32>(e8m0Bits(code));
      } else {
        s = a > 0 ? divF32(a, 448) : 1;
      }
      store<f32>(scales + (i << 2), s);
      store<f32>(inv + ((<usize>bc) << 2), divF32(1, s));
    }
    for (let r = r0; r < r1; r++) {
      const base = src + ((<usize>r * cols) << 2);
      const out = codes + <usize>r * cols;
      for (let bc = 0; bc < scaleCols; bc++) {
        const c0 = bc * block;
        const c1 = min(cols, c0 + block);
        const f = v128.load32_splat(inv + ((<usize>bc) << 2));
        const s = v128.load32_splat(scales + ((<usize>(br * scaleCols + bc)) << 2));
        let c = c0;
        for (; c + 4 <= c1; c += 4) {
          const w = v128.load(base + ((<usize>c) << 2));
          const code = e4m3Encode(f32x4.mul(w, f));
          v128.store32_lane(out + c, narrow4(code), 0);
          if (measure) {
            const d = f32x4.mul(e4m3Decode(code), s);
            const wl = widen(w, false);
            const wh = widen(w, true);
            const el = f64x2.sub(wl, widen(d, false));
            const eh = f64x2.sub(wh, widen(d, true));
            sumLo = f64x2.add(sumLo, f64x2.mul(wl, wl));
            sumHi = f64x2.add(sumHi, f64x2.mul(wh, wh));
            errLo = f64x2.add(errLo, f64x2.mul(el, el));
            errHi = f64x2.add(errHi, f64x2.mul(eh, eh));
            maxLo = f64x2.max(maxLo, f64x2.abs(el));
            maxHi = f64x2.max(maxHi, f64x2.abs(eh));
          }
        }
        if (c < c1) {
          // The block's last < 4 values, zero-padded (zeros change neither the codes written nor the sums).
          const k = c1 - c;
          v128.store(pad, v128.splat<i32>(0));
          memory.copy(pad, base + ((<usize>c) << 2), (<usize>k) << 2);
          const w = v128.load(pad);
          const code = e4m3Encode(f32x4.mul(w, f));
          v128.store32_lane(pad + 16, narrow4(code), 0);
          memory.copy(out + c, pad + 16, k);
          if (measure) {
            const d = f32x4.mul(e4m3Decode(code), s);
            const wl = widen(w, false);
            const wh = widen(w, true);
            const el = f64x2.sub(wl, widen(d, false));
            const eh = f64x2.sub(wh, widen(d, true));
            sumLo = f64x2.add(sumLo, f64x2.mul(wl, wl));
            sumHi = f64x2.add(sumHi, f64x2.mul(wh, wh));
            errLo = f64x2.add(errLo, f64x2.mul(el, el));
            errHi = f64x2.add(errHi, f64x2.mul(eh, eh));
            maxLo = f64x2.max(maxLo, f64x2.abs(el));
            maxHi = f64x2.max(maxHi, f64x2.abs(eh));
          }
        }
      }
    }
  }
  return measure ? finishSums(sums, sumLo, sumHi, errLo, errHi, maxLo, maxHi) : 0;
}

// ---------------------------------------------------------------------------------------------------------------
// GGUF Q8_0 (quantize_row_q8_0_ref + q8_0ErrorSums): per 32 values d = amax/127, q = roundf(x·(1/d)) as int8,
// block = fp16 d + 32 int8.

/** float32 -> binary16 bits (f32ToF16Bits): RNE, overflow to ±Inf, NaN kept quiet. */
function f32ToF16Bits(v: f32): u32 {
  const x = reinterpret<u32>(v);
  const sign = (x >>> 16) & 0x8000;
  const exp = <i32>((x >>> 23) & 0xff);
  let mant = x & 0x7fffff;
  if (exp == 0xff) return sign | 0x7c00 | (mant != 0 ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = <u32>(14 - e);
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid: u32 = 1 << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1) == 1)) half++;
    return sign | half;
  }
  let h = ((<u32>e) << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (h & 1) == 1)) h++;
  return sign | h;
}

/** binary16 bits -> float32 (f16DecodeTable). */
function f16ToF32(h: u32): f32 {
  return f32x4.extract_lane(f16x4(i32x4.splat(<i32>h)), 0);
}

/** JS's `roundHalfAway(v) & 0xff` for any float32 (ToInt32 wraps modulo 2^32; NaN and ±Inf give 0). */
function roundHalfAwayByte(v: f32): u32 {
  const d = <f64>v;
  if (!isFinite(d)) return 0;
  const r = d < 0 ? -Math.floor(-d + 0.5) : Math.floor(d + 0.5);
  const m = r % 4294967296.0;
  return (<u32>(<i64>m)) & 0xff;
}

export function quantiseQ8_0(src: usize, n: i32, out: usize, measure: i32, sums: usize): i32 {
  let sumLo = f64x2.splat(0);
  let sumHi = f64x2.splat(0);
  let errLo = f64x2.splat(0);
  let errHi = f64x2.splat(0);
  let maxLo = f64x2.splat(0);
  let maxHi = f64x2.splat(0);
  const absMask = i32x4.splat(0x7fffffff);
  const half = f32x4.splat(0.5);
  const one = i32x4.splat(0x3f800000);
  const byte = i32x4.splat(0xff);
  for (let b = 0; b < n; b += 32) {
    const p = src + ((<usize>b) << 2);
    const o = out + <usize>(b / 32) * 34;
    let m = f32x4.splat(0);
    for (let j = 0; j < 128; j += 16) m = f32x4.pmax(m, v128.and(v128.load(p + j), absMask));
    m = f32x4.pmax(m, i32x4.shuffle(m, m, 2, 3, 0, 1));
    m = f32x4.pmax(m, i32x4.shuffle(m, m, 1, 0, 3, 2));
    const amax = f32x4.extract_lane(m, 0);
    const d = divF32(amax, 127);
    const id: f32 = d != 0 ? divF32(1, d) : 0;
    const dh = f32ToF16Bits(d);
    store<u16>(o, <u16>dh);
    const d16 = f32x4.splat(f16ToF32(dh));
    // Scaled values beyond int32 (a tiny non-zero d) or a NaN/Inf maximum: JS's wrapping semantics, lane by lane.
    const wraps = !(<f64>(amax * id) < 2147483648.0);
    if (wraps) for (let j = 0; j < 32; j++) store<u8>(o + 2 + j, <u8>roundHalfAwayByte(load<f32>(p + ((<usize>j) << 2)) * id));
    const idv = f32x4.splat(id);
    for (let j = 0; j < 32; j += 4) {
      const w = v128.load(p + ((<usize>j) << 2));
      let q: v128;
      if (wraps) q = i32x4.extend_low_i16x8_s(i16x8.extend_low_i8x16_s(v128.load32_zero(o + 2 + j)));
      else {
        q = q8(w, idv, half, one, byte);
        v128.store32_lane(o + 2 + j, narrow4(q), 0);
      }
      if (measure) {
        // ŵ = int8(q) · fp16(d), the stored values.
        const dq = f32x4.mul(f32x4.convert_i32x4_s(i32x4.shr_s(i32x4.shl(q, 24), 24)), d16);
        const wl = widen(w, false);
        const wh = widen(w, true);
        const el = f64x2.sub(wl, widen(dq, false));
        const eh = f64x2.sub(wh, widen(dq, true));
        sumLo = f64x2.add(sumLo, f64x2.mul(wl, wl));
        sumHi = f64x2.add(sumHi, f64x2.mul(wh, wh));
        errLo = f64x2.add(errLo, f64x2.mul(el, el));
        errHi = f64x2.add(errHi, f64x2.mul(eh, eh));
        maxLo = f64x2.max(maxLo, f64x2.abs(el));
        maxHi = f64x2.max(maxHi, f64x2.abs(eh));
      }
    }
  }
  return measure ? finishSums(sums, sumLo, sumHi, errLo, errHi, maxLo, maxHi) : 0;
}

/** roundf(w·id) & 0xff for |w·id| < 2^31: truncate, then step away from zero when the dropped fraction is ≥ 0.5. */
function q8(w: v128, id: v128, half: v128, one: v128, byte: v128): v128 {
  const v = f32x4.mul(w, id);
  const t = f32x4.trunc(v);
  // v − trunc(v) is exact in float32; ±1 carries v's sign.
  const away = f32x4.ge(f32x4.abs(f32x4.sub(v, t)), half);
  const step = v128.and(v128.or(v128.and(v, i32x4.splat(<i32>SIGN)), one), away);
  return v128.and(i32x4.trunc_sat_f32x4_s(f32x4.add(t, step)), byte);
}

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// The converter's hot loops as a WebAssembly module with 128-bit SIMD, written in AssemblyScript
// (packages/quantise/assembly/kernel.ts). The .wasm is built from that source, never committed: by
// scripts/build-kernel.mjs (root postinstall, and again here whenever the source changed), and the worker's bundle
// ships a copy beside itself (apps/worker/build.mjs). One instance per thread; buffers live in its linear memory.

interface KernelExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  decodeBf16(src: number, n: number, dst: number): void;
  decodeF16(src: number, n: number, dst: number): void;
  decodeFp8Block(codes: number, rows: number, cols: number, scales: number, scaleCols: number, block: number, dst: number): void;
  decodeMxfp4(packed: number, scaleCodes: number, rows: number, cols: number, dst: number): void;
  encodeBf16(src: number, n: number, dst: number): void;
  encodeE4M3(src: number, n: number, dst: number): void;
  quantiseFp8Block(
    src: number,
    rows: number,
    cols: number,
    block: number,
    ue8m0: number,
    codes: number,
    scales: number,
    e8: number,
    work: number,
    pad: number,
    measure: number,
    sums: number,
  ): number;
  quantiseQ8_0(src: number, n: number, out: number, measure: number, sums: number): number;
}

/** Names next to this module: the worker bundle's copy of the .wasm, and (sources only) the script that builds it. */
const KERNEL_BESIDE = './quantise-kernel.wasm';
const BUILD_SCRIPT = '../../scripts/build-kernel.mjs';

const WASM_PAGE = 65536;

export class QuantKernel {
  private constructor(private readonly x: KernelExports) {}

  static fromModule(module: WebAssembly.Module): QuantKernel {
    return new QuantKernel(new WebAssembly.Instance(module, {}).exports as unknown as KernelExports);
  }

  get exports(): KernelExports {
    return this.x;
  }

  /**
   * Places regions of the given byte sizes (16-byte aligned) after the kernel's static data, growing its memory when
   * needed, and returns their offsets. Views taken before a call may be detached by the growth: take them after.
   */
  layout<K extends string>(sizes: Record<K, number>): Record<K, number> {
    let at = align16(this.x.heapBase());
    const offsets = {} as Record<K, number>;
    for (const key of Object.keys(sizes) as K[]) {
      offsets[key] = at;
      at = align16(at + sizes[key]);
    }
    const have = this.x.memory.buffer.byteLength;
    if (at > have) this.x.memory.grow(Math.ceil((at - have) / WASM_PAGE));
    return offsets;
  }

  u8(offset: number, length: number): Uint8Array {
    return new Uint8Array(this.x.memory.buffer, offset, length);
  }

  f32(offset: number, length: number): Float32Array {
    return new Float32Array(this.x.memory.buffer, offset, length);
  }

  f64(offset: number, length: number): Float64Array {
    return new Float64Array(this.x.memory.buffer, offset, length);
  }
}

const align16 = (n: number) => (n + 15) & ~15;

let compiled: Promise<WebAssembly.Module> | null = null;
let instance: QuantKernel | null = null;

async function kernelBytes(): Promise<Uint8Array<ArrayBuffer>> {
  // Paths are joined by hand, not `new URL('./x', import.meta.url)`: bundlers treat that pattern as an asset to
  // resolve at build time, and Next's Turbopack failed the web build on it (the web app reaches this module through
  // services but never converts). The worker's bundle has the .wasm beside it; from sources, the build script.
  const here = dirname(fileURLToPath(import.meta.url));
  const beside = join(here, KERNEL_BESIDE);
  if (existsSync(beside)) return new Uint8Array(readFileSync(beside));
  const script = join(here, BUILD_SCRIPT);
  if (existsSync(script)) {
    const { buildKernel } = (await import(/* webpackIgnore: true */ /* turbopackIgnore: true */ pathToFileURL(script).href)) as {
      buildKernel: () => Promise<string>;
    };
    return new Uint8Array(readFileSync(await buildKernel()));
  }
  throw new Error(`the quantisation kernel is missing: no ${KERNEL_BESIDE} beside ${here} (the worker's build copies it there)`);
}

/** This thread's kernel, loaded (and from sources built when its source changed) on first use. */
export async function loadKernel(): Promise<QuantKernel> {
  if (instance) return instance;
  compiled ??= kernelBytes().then((bytes) => WebAssembly.compile(bytes));
  instance ??= QuantKernel.fromModule(await compiled);
  return instance;
}

/** The kernel loadKernel() loaded in this thread. */
export function kernel(): QuantKernel {
  if (!instance) throw new Error('the quantisation kernel is not loaded in this thread (await loadKernel() first)');
  return instance;
}

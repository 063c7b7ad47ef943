// Builds the converter's WebAssembly kernel (assembly/kernel.ts, AssemblyScript with 128-bit SIMD) into
// dist/quantise-kernel.wasm. The .wasm is never committed: `npm install` (root postinstall), the tests and the
// worker's build run this, and src/convert/kernel.ts rebuilds it when the source changed (the file records the
// source's sha256 beside it). Also the package's vitest globalSetup. Usage: node packages/quantise/scripts/build-kernel.mjs [--out <file.wasm>]
import { createHash, randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(pkg, 'assembly/kernel.ts');
const built = join(pkg, 'dist/quantise-kernel.wasm');

/** sha256 of the kernel source (and of this script's compiler flags), recorded next to the .wasm. */
export function kernelSourceDigest() {
  return createHash('sha256').update(readFileSync(source)).update(JSON.stringify(ASC_FLAGS)).digest('hex');
}

const ASC_FLAGS = ['-O3', '--runtime', 'stub', '--noAssert', '--enable', 'simd', '--initialMemory', '1'];

/** Builds dist/quantise-kernel.wasm unless it is current; returns its path. */
export async function buildKernel() {
  const digest = kernelSourceDigest();
  const stamp = `${built}.sha256`;
  if (existsSync(built) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === digest) return built;
  const asc = await import('assemblyscript/asc');
  mkdirSync(dirname(built), { recursive: true });
  // Written under a name of its own and renamed, so concurrent builds (test workers, threads) never see half a file.
  const tmp = `${built}.${process.pid}-${randomUUID()}.tmp`;
  const { error, stderr } = await asc.main([source, '--outFile', tmp, ...ASC_FLAGS]);
  if (error) throw new Error(`building the quantisation kernel failed: ${error.message}\n${stderr.toString()}`);
  renameSync(tmp, built);
  writeFileSync(stamp, `${digest}\n`);
  return built;
}

/** Vitest globalSetup (vitest.config.ts): build once before the test files start, not in each of them at once. */
export default async function setup() {
  await buildKernel();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const path = await buildKernel();
  const i = process.argv.indexOf('--out');
  if (i > 0 && process.argv[i + 1]) {
    mkdirSync(dirname(process.argv[i + 1]), { recursive: true });
    copyFileSync(path, process.argv[i + 1]);
  }
}

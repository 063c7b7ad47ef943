// Bundles the worker and the workspace packages it uses into dist/worker.mjs (and the quantisation thread entry and kernel); npm dependencies stay
// external (installed next to it), so native and optional modules load as usual.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { buildKernel } from '../../packages/quantise/scripts/build-kernel.mjs';

const root = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
await build({
  entryPoints: {
    worker: 'src/main.ts',
    // Quantisation stripes run on worker threads, which load this file from beside the bundle (stripe-runner.ts).
    'quantise-stripe-worker': '../../packages/quantise/src/convert/stripe-worker.ts',
  },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  external: Object.keys({ ...root.dependencies, ...root.devDependencies }),
  banner: { js: "import { createRequire as __fpCreateRequire } from 'node:module'; const require = __fpCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
// The quantisation kernel (WebAssembly, built from packages/quantise/assembly) is loaded from beside the bundle.
mkdirSync('dist', { recursive: true });
copyFileSync(await buildKernel(), 'dist/quantise-kernel.wasm');

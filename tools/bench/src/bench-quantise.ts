/**
 * Re-quantisation benchmark: converts a multi-GB synthetic DeepSeek-V4-Flash-shaped FP4+FP8 checkpoint to FP8
 * block-128 and to GGUF Q8_0 with the built-in converters, and measures in the same run, on the same disk:
 * `cp -r` of the same bytes, and the same FP8 block conversion written as vectorised numpy.
 *
 *   npm run bench:quantise -- [--gb 1] [--dir <tmpdir>] [--keep-source] [--baseline-bundle <dir>]
 *
 * --baseline-bundle: a directory with bench-quantise-child.mjs and quantise-stripe-worker.mjs bundled the same way
 * from an earlier commit (docs/performance.md says how); its conversions run in the same run as "before" contenders,
 * and the bench checks that they wrote the same bytes (sha256 of every output file).
 *
 * The converter runs bundled as in production, once on one thread and once on every core (worker threads). Each
 * conversion runs in its own process (CPU time and peak RSS are its own, threads included); source files are in the page
 * cache for every contender alike (they were just written). Reported: source MB/s (source safetensors bytes /
 * wall time), CPU-s per GiB of source, peak RSS, ratios to cp and numpy, machine busy/steal during each phase.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { build } from 'esbuild';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { machineCpuBetween, machineCpuTicks } from './machine-cpu';
import { writeSyntheticV4Checkpoint } from './quantise-synthetic-checkpoint';

const { values: args } = parseArgs({
  options: {
    gb: { type: 'string', default: '1' },
    dir: { type: 'string', default: tmpdir() },
    'keep-source': { type: 'boolean', default: false },
    'baseline-bundle': { type: 'string' },
  },
});

const gb = Number(args.gb);
if (!Number.isFinite(gb) || gb <= 0) {
  process.stderr.write(`--gb must be a positive number\n`);
  process.exit(2);
}
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');

interface Measured {
  name: string;
  wallMs: number;
  cpuMs?: number;
  maxRssKiB?: number;
  outputBytes?: number;
  busyPct?: number;
  stealPct?: number;
  extra?: Record<string, unknown>;
}

function run(cmd: string, argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ stdout: string; wallMs: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, argv, { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve({ stdout, wallMs: performance.now() - t0 }) : reject(new Error(`${cmd} ${argv.join(' ')} exited with ${code}`)),
    );
  });
}

/** sha256 over the sorted files of an output folder and their own sha256: equal only for the same bytes. */
async function folderDigest(dir: string): Promise<string> {
  const all = createHash('sha256');
  for (const name of (await readdir(dir)).sort()) {
    const h = createHash('sha256');
    for await (const chunk of createReadStream(path.join(dir, name))) h.update(chunk as Buffer);
    all.update(`${name} ${h.digest('hex')}\n`);
  }
  return all.digest('hex');
}

async function phase(name: string, fn: () => Promise<Omit<Measured, 'name' | 'busyPct' | 'stealPct'>>): Promise<Measured> {
  process.stderr.write(`… ${name}\n`);
  const a = machineCpuTicks();
  const r = await fn();
  const m = machineCpuBetween(a, machineCpuTicks());
  const measured = { name, ...r, busyPct: m?.busyPct, stealPct: m?.stealPct };
  // Each phase as soon as it ends, so a long run that is cut short still leaves its numbers.
  process.stderr.write(`  ${JSON.stringify(measured)}\n`);
  return measured;
}

const work = await mkdtemp(path.join(args.dir!, 'fleetplane-bench-quantise-'));
try {
  const src = path.join(work, 'source');
  await mkdir(src);
  process.stderr.write(`generating a ~${gb} GB synthetic FP4+FP8 checkpoint in ${src}\n`);
  const gen = await writeSyntheticV4Checkpoint(src, gb * 1e9);
  const sourceBytes = gen.bytes;
  const load0 = loadavg()[0]!;

  const results: Measured[] = [];
  results.push(
    await phase('cp -r', async () => {
      const r = await run('cp', ['-r', src, path.join(work, 'cp')]);
      await rm(path.join(work, 'cp'), { recursive: true, force: true });
      return { wallMs: r.wallMs };
    }),
  );
  // The converter as production runs it: bundled like apps/worker (build.mjs), with the thread entry beside the
  // bundle, so neither tsx's transforms nor its start-up in every thread are measured.
  const bundleDir = path.join(work, 'bundle');
  await build({
    entryPoints: {
      'bench-quantise-child': path.join(here, 'bench-quantise-child.ts'),
      'quantise-stripe-worker': path.join(root, 'packages/quantise/src/convert/stripe-worker.ts'),
    },
    outdir: bundleDir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    banner: { js: "import { createRequire as __fpCreateRequire } from 'node:module'; const require = __fpCreateRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  // The WebAssembly kernel beside the bundle, as apps/worker/build.mjs ships it.
  await run(process.execPath, [
    path.join(root, 'packages/quantise/scripts/build-kernel.mjs'),
    '--out',
    path.join(bundleDir, 'quantise-kernel.wasm'),
  ]);
  // One thread as the baseline of the worker-thread pool; then every core the process may use (the default).
  const cores = availableParallelism();
  const contenders: Array<[label: string, bundle: string, which: 'fp8' | 'q8_0', threads: number]> = [
    ['fleetplane FP8 block-128, 1 thread', bundleDir, 'fp8', 1],
    [`fleetplane FP8 block-128, ${cores} threads`, bundleDir, 'fp8', cores],
    [`fleetplane GGUF Q8_0, ${cores} threads`, bundleDir, 'q8_0', cores],
  ];
  const baseline = args['baseline-bundle'] ? path.resolve(args['baseline-bundle']) : null;
  if (baseline)
    contenders.push(
      ['before: FP8 block-128, 1 thread', baseline, 'fp8', 1],
      [`before: FP8 block-128, ${cores} threads`, baseline, 'fp8', cores],
      [`before: GGUF Q8_0, ${cores} threads`, baseline, 'q8_0', cores],
    );
  for (const [label, bundle, which, threads] of contenders) {
    results.push(
      await phase(label, async () => {
        const out = path.join(work, `out-${which}-${threads}`);
        const r = await run(process.execPath, [path.join(bundle, 'bench-quantise-child.mjs'), src, out, which, String(threads)]);
        // Outside the measured process: what the conversion wrote, to compare with the other contenders.
        const digest = await folderDigest(out);
        await rm(out, { recursive: true, force: true });
        const j = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as {
          wallMs: number;
          cpuMs: number;
          maxRssKiB: number;
          outputBytes: number;
          worstRelRmse: number;
          meanRelRmse: number;
          workerThreads: number;
        };
        return {
          wallMs: j.wallMs,
          cpuMs: j.cpuMs,
          maxRssKiB: j.maxRssKiB,
          outputBytes: j.outputBytes,
          extra: { worstRelRmse: j.worstRelRmse, meanRelRmse: j.meanRelRmse, workerThreads: j.workerThreads, which, digest },
        };
      }),
    );
  }
  results.push(
    await phase('numpy FP8 block-128', async () => {
      const out = path.join(work, 'out-numpy');
      // The machine-wide OpenBLAS overrides are for other tools; numpy gets its defaults for this one command.
      const env = { ...process.env };
      delete env.OPENBLAS_CORETYPE;
      delete env.OPENBLAS_L2_SIZE;
      const r = await run('python3', [path.join(here, 'fp8_block_numpy.py'), src, out], env);
      await rm(out, { recursive: true, force: true });
      const j = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as {
        wallMs: number;
        cpuMs: number;
        maxRssKiB: number;
        outputBytes: number;
      };
      return { wallMs: j.wallMs, cpuMs: j.cpuMs, maxRssKiB: j.maxRssKiB, outputBytes: j.outputBytes };
    }),
  );

  const mbps = (m: Measured) => sourceBytes / 1e6 / (m.wallMs / 1000);
  const cp = results[0]!;
  const numpy = results.at(-1)!;
  const gib = sourceBytes / 2 ** 30;
  const rows = results.map((m) => ({
    contender: m.name,
    'wall s': (m.wallMs / 1000).toFixed(1),
    'source MB/s': mbps(m).toFixed(0),
    'CPU-s/GiB': m.cpuMs !== undefined ? (m.cpuMs / 1000 / gib).toFixed(1) : '—',
    'peak RSS MB': m.maxRssKiB !== undefined ? (m.maxRssKiB / 1024).toFixed(0) : '—',
    'x cp': (mbps(m) / mbps(cp)).toFixed(2),
    'x numpy': (mbps(m) / mbps(numpy)).toFixed(2),
    'busy/steal %': m.busyPct !== undefined ? `${m.busyPct.toFixed(0)}/${m.stealPct!.toFixed(1)}` : '—',
  }));
  process.stdout.write(
    `\nsource: ${(sourceBytes / 1e9).toFixed(2)} GB, ${gen.tensors} tensors, ${gen.layers} layers; load average at start ${load0.toFixed(2)}\n`,
  );
  console.table(rows);
  for (const m of results)
    if (m.extra)
      process.stdout.write(
        `${m.name}: worst tensor relative RMSE ${(m.extra.worstRelRmse as number).toFixed(4)}, element-weighted ${(m.extra.meanRelRmse as number).toFixed(4)}\n`,
      );
  const fp8 = results[2]!;
  // What the arithmetic allows: the converter's CPU time per GiB spread over every core, with nothing else running.
  const ceilingMbps = sourceBytes / 1e6 / (fp8.cpuMs! / cores / 1000);
  process.stdout.write(
    `FP8 on ${cores} threads: ${((fp8.cpuMs ?? 0) / 1000 / gib).toFixed(1)} CPU-s/GiB, so at best ${ceilingMbps.toFixed(0)} MB/s with ${cores} cores to itself\n`,
  );
  const checks = [
    [`FP8 ≥ 0.25x cp`, mbps(fp8) / mbps(cp) >= 0.25],
    [`FP8 faster than numpy`, mbps(fp8) > mbps(numpy)],
    [`peak RSS < 300 MB (FP8, Q8_0)`, results.slice(1, 4).every((m) => (m.maxRssKiB ?? Infinity) / 1024 < 300)],
    [`FP8 on ${cores} threads ran on worker threads`, (fp8.extra?.workerThreads as number) === cores || cores === 1],
    // Every contender of a target (threads, before and after) wrote the same bytes.
    ...(['fp8', 'q8_0'] as const).map(
      (which) =>
        [
          `${which}: the same output bytes from every contender`,
          new Set(results.filter((m) => m.extra?.which === which).map((m) => m.extra!.digest)).size === 1,
        ] as const,
    ),
  ];
  for (const [label, ok] of checks) process.stdout.write(`${ok ? 'PASS' : 'FAIL'}  ${label}\n`);
  process.stdout.write(`${JSON.stringify({ gb, sourceBytes, load0, results })}\n`);
} finally {
  if (!args['keep-source']) await rm(work, { recursive: true, force: true });
  else process.stderr.write(`kept ${work}\n`);
}

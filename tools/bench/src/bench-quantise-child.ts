/**
 * One conversion for bench:quantise, in its own process so its CPU time and peak RSS are its own:
 *   tsx tools/bench/src/bench-quantise-child.ts <source dir> <output dir> <fp8|q8_0> [threads]
 * Prints one JSON line: wall and CPU milliseconds, peak RSS (KiB) and the artifact's quality summary.
 */
import { performance } from 'node:perf_hooks';
import { convertCheckpoint, type ConversionTarget } from '@fleetplane/quantise';

const [source, output, which, threadsArg] = process.argv.slice(2);
const threads = threadsArg === undefined ? undefined : Number(threadsArg);
if (
  !source ||
  !output ||
  (which !== 'fp8' && which !== 'q8_0') ||
  (threads !== undefined && !(Number.isInteger(threads) && threads >= 1))
) {
  process.stderr.write('usage: bench-quantise-child.ts <source dir> <output dir> <fp8|q8_0> [threads]\n');
  process.exit(2);
}
const target: ConversionTarget = which === 'fp8' ? { format: 'fp8-block' } : { format: 'gguf', type: 'Q8_0' };
const cpu0 = process.cpuUsage();
const t0 = performance.now();
let rssSamples = 0;
let rssMax = 0;
const sampler = setInterval(() => {
  rssSamples++;
  rssMax = Math.max(rssMax, process.memoryUsage.rss());
}, 250);
const result = await convertCheckpoint({ sourceDir: source, outputDir: output, parameters: { target }, threads });
clearInterval(sampler);
const wallMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
process.stdout.write(
  `${JSON.stringify({
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    maxRssKiB: process.resourceUsage().maxRSS,
    rssSamples,
    sampledRssMaxKiB: Math.round(rssMax / 1024),
    outputBytes: result.manifest.totalBytes,
    worstRelRmse: result.quality.worstRelRmse,
    meanRelRmse: result.quality.meanRelRmse,
    quantisedTensors: result.quality.quantisedTensors,
    workerThreads: result.workerThreads,
  })}\n`,
);

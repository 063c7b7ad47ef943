/**
 * A nearly idle process that wakes every millisecond and records when it could not: gaps that no
 * garbage collector or busy event loop of its own explains, only the machine (both cores taken, or the
 * hypervisor running another guest). Benchmarks use it to tell their own pauses from the machine's.
 *
 * Prints one JSON line on stdout when its stdin closes: { stalls: [[fromMs, toMs], …] } on the
 * machine-wide monotonic clock (process.hrtime), which every process on the machine shares.
 */
const thresholdMs = Number(process.argv[2] ?? '3');
const nowMs = () => Number(process.hrtime.bigint() / 1000n) / 1000;
const stalls: [number, number][] = [];
let last = nowMs();
const timer = setInterval(() => {
  const now = nowMs();
  // Due one interval after the last wake-up; anything beyond the threshold is time it could not run.
  if (now - last - 1 > thresholdMs) stalls.push([last + 1, now]);
  last = now;
}, 1);
process.stdin.resume();
process.stdin.on('end', () => {
  clearInterval(timer);
  process.stdout.write(`${JSON.stringify({ stalls })}\n`, () => process.exit(0));
});

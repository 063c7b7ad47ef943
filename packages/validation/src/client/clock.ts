/**
 * The clock request timings use. performance.now() reads the machine's monotonic clock
 * (CLOCK_MONOTONIC through libuv's uv_hrtime, as process.hrtime does) relative to this process's
 * start; adding `clockOffsetMs` turns it into milliseconds on that machine-wide clock, so two
 * processes on one machine (the runner and the reference endpoint) can compare their timestamps
 * directly. Unaffected by wall-clock steps (NTP, date changes).
 */
function measureOffset(): number {
  // Sample both clocks back to back, several times, and keep the pair read closest together.
  let best = Infinity;
  let offset = 0;
  for (let i = 0; i < 5; i += 1) {
    const a = performance.now();
    const hr = process.hrtime.bigint();
    const b = performance.now();
    if (b - a < best) {
      best = b - a;
      offset = Number(hr / 1000n) / 1000 - (a + b) / 2;
    }
  }
  return offset;
}

/** Machine-wide monotonic milliseconds minus performance.now() in this process. */
export const clockOffsetMs = measureOffset();

/** A performance.now() reading of this process on the machine-wide monotonic clock (ms). */
export function toMachineClock(perfNowMs: number): number {
  return perfNowMs + clockOffsetMs;
}

/**
 * A token bucket in bytes: `take(n)` resolves when n bytes may be sent at `bytesPerSecond`. A taker may
 * overdraw (the bucket goes into debt) and then waits until the debt is paid back, so chunks of any size
 * work and concurrent downloads sharing one bucket together stay at the rate. `burstBytes` is how much
 * may go out at once after an idle spell.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly bytesPerSecond: number,
    private readonly burstBytes = Math.max(64 * 1024, Math.floor(bytesPerSecond / 10)),
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(bytesPerSecond > 0)) throw new Error('TokenBucket: the rate must be positive');
    this.tokens = burstBytes;
    this.last = this.now();
  }

  /** Milliseconds the caller must wait after taking `n` bytes (0 when within the budget). */
  reserve(n: number): number {
    const t = this.now();
    this.tokens = Math.min(this.burstBytes, this.tokens + ((t - this.last) / 1000) * this.bytesPerSecond);
    this.last = t;
    this.tokens -= n;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.bytesPerSecond) * 1000;
  }

  async take(n: number, signal?: AbortSignal): Promise<void> {
    const waitMs = this.reserve(n);
    if (waitMs > 0) await sleep(waitMs, signal);
  }
}

/** Mbit/s (decimal, as links are sold) to bytes per second. */
export function mbpsToBytesPerSecond(mbps: number): number {
  return (mbps * 1_000_000) / 8;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason ?? new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

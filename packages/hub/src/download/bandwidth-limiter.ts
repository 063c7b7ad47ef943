import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Token bucket shared by every stream that takes from it (one per download call, or one per cluster
 * when the worker passes the same instance). Takers may go into debt; each then waits for its share,
 * so concurrent streams split the rate fairly and long-run throughput equals the rate.
 */
export class BandwidthLimiter {
  private tokens: number;
  private last = performance.now();

  constructor(
    private rate: number,
    private readonly burstBytes = Math.max(64 * 1024, rate / 4),
  ) {
    if (!(rate > 0)) throw new Error('Bandwidth limit must be a positive number of bytes per second');
    this.tokens = burstBytes;
  }

  get bytesPerSecond(): number {
    return this.rate;
  }

  setRate(bytesPerSecond: number): void {
    if (!(bytesPerSecond > 0)) throw new Error('Bandwidth limit must be a positive number of bytes per second');
    this.refill();
    this.rate = bytesPerSecond;
  }

  private refill() {
    const now = performance.now();
    this.tokens = Math.min(this.burstBytes, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
  }

  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    this.refill();
    this.tokens -= bytes;
    if (this.tokens < 0) await sleep((-this.tokens / this.rate) * 1000, undefined, { signal });
  }
}

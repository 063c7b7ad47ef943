/**
 * A counting semaphore for file downloads, shared by every download that takes from it (e.g. all
 * pipeline steps targeting one cluster in a worker process). Capacity can change at run time: raising
 * it admits waiters at once, lowering it lets running downloads finish and admits no one until the
 * count is below the new capacity. Waiters are served first come, first served.
 */
export class DownloadSlots {
  private active = 0;
  private peak = 0;
  private readonly waiters: Array<{ grant: () => void }> = [];

  constructor(private cap: number) {
    DownloadSlots.check(cap);
  }

  private static check(n: number) {
    if (!Number.isInteger(n) || n < 1) throw new Error('Download concurrency must be a positive integer');
  }

  get capacity(): number {
    return this.cap;
  }

  /** Downloads running now / the most that ever ran at once. */
  get inUse(): number {
    return this.active;
  }

  get peakInUse(): number {
    return this.peak;
  }

  setCapacity(n: number): void {
    DownloadSlots.check(n);
    this.cap = n;
    this.pump();
  }

  /** Resolves with a release function once a slot is free; rejects if `signal` aborts first. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    return new Promise((resolve, reject) => {
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        this.active--;
        this.pump();
      };
      const waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          this.active++;
          this.peak = Math.max(this.peak, this.active);
          resolve(release);
        },
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(signal?.reason ?? new DOMException('The download was aborted', 'AbortError'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
      this.pump();
    });
  }

  private pump() {
    while (this.active < this.cap && this.waiters.length > 0) this.waiters.shift()!.grant();
  }
}

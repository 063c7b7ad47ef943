export interface TPoolOptions {
  /** Number of concurrent workers (the caller has already applied the cluster's cap). */
  workers: number;
  signal?: AbortSignal;
  /** performance.now() after which no new item starts (in-flight ones finish). */
  deadline?: number;
  onSettled?: () => void;
}

export interface TPoolResult<R> {
  /** undefined for items that never started (cancelled or past the deadline). */
  results: (R | undefined)[];
  started: number;
  cancelled: boolean;
}

/**
 * Runs items through a fixed number of workers: never more than `workers` calls in flight, new
 * work stops as soon as the signal aborts or the deadline passes.
 */
export async function runPool<T, R>(
  items: readonly T[],
  fn: (item: T, index: number) => Promise<R>,
  opts: TPoolOptions,
): Promise<TPoolResult<R>> {
  const results: (R | undefined)[] = new Array(items.length).fill(undefined);
  let next = 0;
  const stop = () => opts.signal?.aborted === true || (opts.deadline !== undefined && performance.now() >= opts.deadline);
  const worker = async () => {
    while (next < items.length && !stop()) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
      opts.onSettled?.();
    }
  };
  const n = Math.max(1, Math.min(opts.workers, items.length));
  await Promise.all(Array.from({ length: n }, worker));
  return { results, started: next, cancelled: opts.signal?.aborted === true };
}

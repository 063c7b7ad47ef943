import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Scratch, type StripeBytesAllocator } from './source';
import { convertStripe, type StripeJob, type StripeResult } from './stripe';
import type { StripeRequest } from './stripe-worker';

/**
 * Converts stripes, in this thread or on a pool of worker threads. The converter reads stripes ahead, hands them
 * to `run` and writes results strictly in order, so the output bytes are the same whichever runner converts.
 */
export interface StripeRunner {
  /** Stripes that may be converting at once; the converter reads ahead this many. */
  readonly parallelism: number;
  /** Memory for a stripe's source bytes (scratch in this thread; buffers of their own when they move to a worker). */
  readonly alloc: StripeBytesAllocator;
  run(job: StripeJob): Promise<StripeResult>;
  close(): Promise<void>;
}

/** One stripe at a time on the calling thread; results are buffers of their own. */
export class InThreadStripeRunner implements StripeRunner {
  readonly parallelism = 1;
  private readonly scratch = new Scratch();
  readonly alloc: StripeBytesAllocator = (key, n) => this.scratch.bytes(key, n);

  run(job: StripeJob): Promise<StripeResult> {
    try {
      const r = convertStripe(job, this.scratch);
      // Copied out of the thread's kernel memory, which every conversion in this thread shares (the worker runs several
      // steps at once): another conversion's stripe would overwrite it while this result waits for its write.
      return Promise.resolve({ main: r.main.slice(), side: r.side.map((b) => b.slice()), sums: r.sums });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  async close(): Promise<void> {}
}

type WorkerReply = { id: number; result: StripeResult } | { id: number; error: { message: string; stack?: string } };

interface Waiting {
  id: number;
  job: StripeJob;
  resolve: (r: StripeResult) => void;
  reject: (e: Error) => void;
}

/** Worker file names next to this module: the worker app's bundle ships the first, sources run the second via tsx. */
const WORKER_ENTRIES = ['./quantise-stripe-worker.mjs', './stripe-worker.ts'];

function workerEntry(): URL | null {
  for (const name of WORKER_ENTRIES) {
    // A computed name keeps bundlers from treating this as an asset reference of their own.
    const url = new URL(name, import.meta.url);
    if (url.protocol === 'file:' && existsSync(fileURLToPath(url))) return url;
  }
  return null;
}

function startWorker(entry: URL): Worker {
  if (entry.pathname.endsWith('.mjs')) return new Worker(entry);
  // TypeScript sources (tests, benches, `tsx` runs): register tsx inside the worker before importing the entry.
  const tsxPackage = createRequire(import.meta.url).resolve('tsx/package.json');
  const { exports } = JSON.parse(readFileSync(tsxPackage, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  const tsxApi = pathToFileURL(join(dirname(tsxPackage), exports['./esm/api']!.import.default)).href;
  return new Worker(`import(${JSON.stringify(tsxApi)}).then((api) => { api.register(); return import(${JSON.stringify(entry.href)}); });`, {
    eval: true,
  });
}

/** Stripes converted on `threads` worker threads; source bytes and results move between threads without copies. */
export class WorkerPoolStripeRunner implements StripeRunner {
  readonly alloc: StripeBytesAllocator = (_key, n) => Buffer.from(new ArrayBuffer(Math.max(n, 8)), 0, n);
  private readonly idle: Worker[] = [];
  private readonly queue: Waiting[] = [];
  private readonly busy = new Map<Worker, Waiting>();
  private nextId = 0;
  private failure: Error | null = null;

  private constructor(private readonly workers: Worker[]) {
    for (const w of workers) {
      this.idle.push(w);
      w.on('message', (reply: WorkerReply) => this.settle(w, reply));
      w.on('error', (e) => this.fail(e));
      w.on('exit', (code) => {
        if (!this.closed) this.fail(new Error(`a quantisation worker thread exited with code ${code}`));
      });
    }
  }

  private closed = false;

  get parallelism(): number {
    return this.workers.length;
  }

  /** A pool of `threads` workers, or null when this build ships no worker entry (the caller converts in-thread). */
  static start(threads: number): WorkerPoolStripeRunner | null {
    const entry = workerEntry();
    if (!entry) return null;
    return new WorkerPoolStripeRunner(Array.from({ length: threads }, () => startWorker(entry)));
  }

  run(job: StripeJob): Promise<StripeResult> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, job, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const w = this.idle.pop()!;
      const waiting = this.queue.shift()!;
      this.busy.set(w, waiting);
      const { main, scale } = waiting.job;
      const transfer = new Set<ArrayBuffer>([main.buffer as ArrayBuffer]);
      if (scale) transfer.add(scale.buffer as ArrayBuffer);
      w.postMessage({ id: waiting.id, job: waiting.job } satisfies StripeRequest, [...transfer]);
    }
  }

  private settle(w: Worker, reply: WorkerReply): void {
    const waiting = this.busy.get(w);
    if (!waiting || waiting.id !== reply.id) return;
    this.busy.delete(w);
    this.idle.push(w);
    if ('error' in reply) {
      const e = new Error(reply.error.message);
      if (reply.error.stack) e.stack = reply.error.stack;
      waiting.reject(e);
    } else waiting.resolve(reply.result);
    this.dispatch();
  }

  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    for (const waiting of [...this.busy.values(), ...this.queue.splice(0)]) waiting.reject(e);
    this.busy.clear();
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Threads a conversion uses by default: every core the process may use. */
export function defaultConversionThreads(): number {
  return availableParallelism();
}

/**
 * The runners of one conversion: tensors of a single stripe convert on this thread (a worker would only add a
 * round trip); the worker pool starts on the first tensor with two stripes or more, so small checkpoints never
 * pay for starting threads.
 */
export class StripeRunners {
  private readonly inThread = new InThreadStripeRunner();
  private pool: WorkerPoolStripeRunner | null | undefined;

  constructor(private readonly threads: number) {}

  forStripes(stripes: number): StripeRunner {
    if (this.threads <= 1 || stripes < 2) return this.inThread;
    if (this.pool === undefined) this.pool = WorkerPoolStripeRunner.start(this.threads);
    return this.pool ?? this.inThread;
  }

  /** Worker threads this conversion ran on (0: all on the calling thread). */
  get workerThreads(): number {
    return this.pool?.parallelism ?? 0;
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }
}

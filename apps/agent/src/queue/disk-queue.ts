import { mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ZTelemetryBatch } from '@fleetplane/contracts';
import { fsyncDir, writeFileAtomic } from './atomic-file';

/** A batch as stored: the wire batch minus what is only known when it is sent. */
export const ZQueuedBatch = ZTelemetryBatch.omit({ sentAt: true, droppedSamples: true }).extend({
  enqueuedAt: z.iso.datetime(),
});
export type TQueuedBatch = z.infer<typeof ZQueuedBatch>;

const ZQueueState = z.object({
  droppedSinceAccepted: z.number().int().min(0),
  /** The dropped count promised to the batch being sent, so a retry repeats exactly the same number. */
  inflight: z.object({ batchId: z.string(), droppedSamples: z.number().int().min(0) }).nullable(),
});
type TQueueState = z.infer<typeof ZQueueState>;

// <seq>-<batchId>-<sampleCount>.json: order, identity and the drop accounting are readable without
// opening the file, so trimming a full queue never has to read old batches.
const ENTRY_NAME = /^(\d{16})-([0-9a-f-]{36})-(\d+)\.json$/;

/** One queued batch in the in-memory index: ~130 bytes each, so even a full queue of small batches stays a few MB. */
export class QueueEntry {
  constructor(
    readonly name: string,
    readonly samples: number,
    readonly bytes: number,
  ) {}

  get batchId(): string {
    return this.name.slice(17, 53);
  }
}

export interface QueueHead {
  entry: QueueEntry;
  batch: TQueuedBatch;
}

export interface DiskQueueOptions {
  maxBytes: number;
  maxDeadLetters?: number;
  onWarning?: (message: string, details?: Record<string, unknown>) => void;
}

export class QueueLockedError extends Error {
  override readonly name = 'QueueLockedError';
}

export function countSamples(batch: Pick<TQueuedBatch, 'gpuSamples' | 'xidEvents' | 'engineSamples'>): number {
  return batch.gpuSamples.length + batch.xidEvents.length + batch.engineSamples.length;
}

/**
 * A bounded, crash-safe FIFO of telemetry batches: one fsync'd file per batch under `pending/`, drained
 * oldest first. When the byte bound is exceeded the oldest batches are deleted and their sample count is
 * carried in `droppedSinceAccepted` until a batch reporting it is accepted.
 */
export class DiskQueue {
  private readonly entries: QueueEntry[] = [];
  private totalBytes = 0;
  private nextSeq = 1;
  private sending: string | null = null;
  private readonly warn: NonNullable<DiskQueueOptions['onWarning']>;

  private constructor(
    readonly dir: string,
    private readonly options: Required<Pick<DiskQueueOptions, 'maxBytes' | 'maxDeadLetters'>> & DiskQueueOptions,
    private state: TQueueState,
  ) {
    this.warn = options.onWarning ?? (() => {});
  }

  private get pendingDir() {
    return join(this.dir, 'pending');
  }
  private get deadLetterDir() {
    return join(this.dir, 'dead-letter');
  }
  private get statePath() {
    return join(this.dir, 'queue-state.json');
  }
  private get lockPath() {
    return join(this.dir, 'queue.lock');
  }

  static async open(dir: string, options: DiskQueueOptions): Promise<DiskQueue> {
    await mkdir(join(dir, 'pending'), { recursive: true, mode: 0o700 });
    await mkdir(join(dir, 'dead-letter'), { recursive: true, mode: 0o700 });
    const queue = new DiskQueue(dir, { maxDeadLetters: 100, ...options }, { droppedSinceAccepted: 0, inflight: null });
    await queue.lock();
    await queue.loadState();
    await queue.scan();
    return queue;
  }

  get pendingCount(): number {
    return this.entries.length;
  }
  get pendingBytes(): number {
    return this.totalBytes;
  }
  get droppedSinceAccepted(): number {
    return this.state.droppedSinceAccepted;
  }

  /** One agent per queue: two would send the same batches and fight over the drop counter. */
  private async lock(): Promise<void> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const handle = await open(this.lockPath, 'wx', 0o600);
        await handle.writeFile(String(process.pid));
        await handle.close();
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const pid = Number((await readFile(this.lockPath, 'utf8').catch(() => '')).trim());
        if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
          throw new QueueLockedError(`Another agent (pid ${pid}) is using the queue directory ${this.dir}`);
        }
        await unlink(this.lockPath).catch(() => {});
      }
    }
    throw new QueueLockedError(`Could not lock the queue directory ${this.dir}`);
  }

  async close(): Promise<void> {
    await unlink(this.lockPath).catch(() => {});
  }

  private async loadState(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.statePath, 'utf8');
    } catch {
      return;
    }
    const parsed = ZQueueState.safeParse(safeJson(text));
    if (parsed.success) this.state = parsed.data;
    else this.warn('queue state file is unreadable; the dropped-sample count restarts at 0', { path: this.statePath });
  }

  private async saveState(): Promise<void> {
    await writeFileAtomic(this.statePath, JSON.stringify(this.state));
  }

  private async scan(): Promise<void> {
    const names = (await readdir(this.pendingDir)).sort();
    for (const name of names) {
      const full = join(this.pendingDir, name);
      if (name.endsWith('.tmp')) {
        await unlink(full).catch(() => {}); // an enqueue interrupted before its rename
        continue;
      }
      const match = ENTRY_NAME.exec(name);
      if (!match) continue;
      const entry = new QueueEntry(name, Number(match[3]), (await stat(full)).size);
      this.entries.push(entry);
      this.totalBytes += entry.bytes;
      this.nextSeq = Math.max(this.nextSeq, Number(match[1]) + 1);
    }
  }

  /** Durably appends a batch, then trims the oldest batches past the byte bound. Returns the samples dropped. */
  async enqueue(batch: TQueuedBatch): Promise<{ dropped: number }> {
    const data = JSON.stringify(ZQueuedBatch.parse(batch));
    const seq = this.nextSeq++;
    const name = `${String(seq).padStart(16, '0')}-${batch.batchId}-${countSamples(batch)}.json`;
    await writeFileAtomic(join(this.pendingDir, name), data);
    const entry = new QueueEntry(name, countSamples(batch), Buffer.byteLength(data));
    this.entries.push(entry);
    this.totalBytes += entry.bytes;
    return { dropped: await this.trim() };
  }

  private async trim(): Promise<number> {
    let dropped = 0;
    let droppedBatches = 0;
    let i = 0;
    while (this.totalBytes > this.options.maxBytes && i < this.entries.length) {
      const entry = this.entries[i]!;
      if (entry.name === this.sending) {
        i++; // the batch on the wire may be accepted: dropping it would double-count
        continue;
      }
      await unlink(join(this.pendingDir, entry.name)).catch(() => {});
      this.entries.splice(i, 1);
      this.totalBytes -= entry.bytes;
      dropped += entry.samples;
      droppedBatches++;
    }
    if (droppedBatches > 0) {
      this.state.droppedSinceAccepted += dropped;
      await this.saveState();
      this.warn('disk queue full: dropped the oldest batches', {
        droppedBatches,
        droppedSamples: dropped,
        maxBytes: this.options.maxBytes,
      });
    }
    return dropped;
  }

  /** The oldest batch that can be read; unreadable files are moved to dead-letter/ on the way. */
  async head(): Promise<QueueHead | null> {
    while (this.entries.length > 0) {
      const entry = this.entries[0]!;
      let text: string;
      try {
        text = await readFile(join(this.pendingDir, entry.name), 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          this.forget(entry);
          continue;
        }
        throw err;
      }
      const parsed = ZQueuedBatch.safeParse(safeJson(text));
      if (parsed.success && parsed.data.batchId === entry.batchId) return { entry, batch: parsed.data };
      await this.deadLetter(entry, {
        reason: 'unreadable queue file',
        issues: parsed.success
          ? ['batchId does not match the file name']
          : parsed.error.issues.slice(0, 10).map((i) => `${i.path.join('.')}: ${i.message}`),
      });
    }
    return null;
  }

  /** Marks the head as on the wire and returns the droppedSamples it must carry (stable across retries). */
  async beginSend(entry: QueueEntry): Promise<number> {
    this.sending = entry.name;
    if (this.state.inflight?.batchId !== entry.batchId) {
      this.state.inflight = { batchId: entry.batchId, droppedSamples: this.state.droppedSinceAccepted };
      await this.saveState();
    }
    return this.state.inflight.droppedSamples;
  }

  /** The send failed in a retryable way: the batch stays at the head with the same droppedSamples. */
  endSend(): void {
    this.sending = null;
  }

  async accepted(entry: QueueEntry): Promise<void> {
    await unlink(join(this.pendingDir, entry.name)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    this.forget(entry);
    if (this.state.inflight?.batchId === entry.batchId) {
      this.state.droppedSinceAccepted = Math.max(0, this.state.droppedSinceAccepted - this.state.inflight.droppedSamples);
      this.state.inflight = null;
      await this.saveState();
    }
    this.sending = null;
  }

  /** Moves a batch the server refused (or that cannot be read) aside, with the reason next to it. */
  async deadLetter(entry: QueueEntry, info: Record<string, unknown>): Promise<void> {
    await rename(join(this.pendingDir, entry.name), join(this.deadLetterDir, entry.name)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await writeFileAtomic(
      join(this.deadLetterDir, entry.name.replace(/\.json$/, '.error.json')),
      JSON.stringify({ ...info, deadLetteredAt: new Date().toISOString() }, null, 2),
    );
    await fsyncDir(this.pendingDir);
    this.forget(entry);
    if (this.state.inflight?.batchId === entry.batchId) {
      this.state.inflight = null; // its dropped count was not delivered: the next batch carries it
      await this.saveState();
    }
    this.sending = null;
    await this.trimDeadLetters();
  }

  private forget(entry: QueueEntry): void {
    const index = this.entries.indexOf(entry);
    if (index !== -1) {
      this.entries.splice(index, 1);
      this.totalBytes -= entry.bytes;
    }
  }

  private async trimDeadLetters(): Promise<void> {
    const batches = (await readdir(this.deadLetterDir)).filter((n) => ENTRY_NAME.test(n)).sort();
    for (const name of batches.slice(0, Math.max(0, batches.length - this.options.maxDeadLetters))) {
      await unlink(join(this.deadLetterDir, name)).catch(() => {});
      await unlink(join(this.deadLetterDir, name.replace(/\.json$/, '.error.json'))).catch(() => {});
    }
  }

  async deadLetterNames(): Promise<string[]> {
    return (await readdir(this.deadLetterDir)).filter((n) => ENTRY_NAME.test(n)).sort();
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

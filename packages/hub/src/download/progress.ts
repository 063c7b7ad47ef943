export interface DownloadProgress {
  bytesDone: number;
  bytesTotal: number;
  /** Network throughput over the last few seconds. */
  bytesPerSecond: number;
  etaSeconds: number | null;
  filesDone: number;
  filesTotal: number;
  currentFiles: string[];
}

const WINDOW_MS = 5000;

/** Aggregates progress across concurrent files and rate-limits the callback. */
export class ProgressTracker {
  private bytesDone = 0;
  private filesDone = 0;
  private readonly current = new Set<string>();
  private readonly samples: Array<{ t: number; bytes: number }> = [];
  private networkBytes = 0;
  private lastEmit = 0;

  constructor(
    private readonly bytesTotal: number,
    private readonly filesTotal: number,
    private readonly onProgress: ((p: DownloadProgress) => void) | undefined,
    private readonly intervalMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.samples.push({ t: this.now(), bytes: 0 });
  }

  /** Bytes already on disk (resumed partials, reused files): counted as done, not as speed. */
  addExisting(bytes: number) {
    this.bytesDone += bytes;
    this.emit(false);
  }

  /** A partial was discarded (server ignored Range, bad partial): its bytes are no longer done. */
  discard(bytes: number) {
    this.bytesDone -= bytes;
  }

  addNetwork(bytes: number) {
    this.bytesDone += bytes;
    this.networkBytes += bytes;
    this.emit(false);
  }

  start(path: string) {
    this.current.add(path);
    this.emit(false);
  }

  finish(path: string) {
    this.current.delete(path);
    this.filesDone++;
    this.emit(false);
  }

  stop(path: string) {
    this.current.delete(path);
  }

  snapshot(): DownloadProgress {
    const t = this.now();
    this.samples.push({ t, bytes: this.networkBytes });
    while (this.samples.length > 2 && this.samples[1]!.t < t - WINDOW_MS) this.samples.shift();
    const first = this.samples[0]!;
    const elapsed = (t - first.t) / 1000;
    const bytesPerSecond = elapsed > 0 ? Math.round((this.networkBytes - first.bytes) / elapsed) : 0;
    const remaining = Math.max(0, this.bytesTotal - this.bytesDone);
    return {
      bytesDone: this.bytesDone,
      bytesTotal: this.bytesTotal,
      bytesPerSecond,
      etaSeconds: remaining === 0 ? 0 : bytesPerSecond > 0 ? Math.ceil(remaining / bytesPerSecond) : null,
      filesDone: this.filesDone,
      filesTotal: this.filesTotal,
      currentFiles: [...this.current].sort(),
    };
  }

  emit(force: boolean) {
    if (!this.onProgress) return;
    const t = this.now();
    if (!force && t - this.lastEmit < this.intervalMs) return;
    this.lastEmit = t;
    this.onProgress(this.snapshot());
  }
}

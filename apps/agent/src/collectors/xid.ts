import { constants } from 'node:fs';
import { createHash } from 'node:crypto';
import { open, readFile, stat, type FileHandle } from 'node:fs/promises';
import { uptime } from 'node:os';
import { z } from 'zod';
import { MAX_XID_EVENTS_PER_BATCH, ZXidEvent, type TXidEvent } from '@fleetplane/contracts';
import { writeFileAtomic } from '../queue/atomic-file';
import { KernelLogReader, type KernelClock } from './xid-parser';

const ZTailState = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('file'),
    path: z.string(),
    dev: z.number(),
    ino: z.number(),
    offset: z.number().int().min(0),
    /** sha256 of the file's first `headLength` bytes: a copytruncate that regrows the file past our offset changes it. */
    headLength: z.number().int().min(0),
    headHash: z.string(),
  }),
  z.object({ kind: z.literal('kmsg'), path: z.string(), bootId: z.string(), seq: z.number().int().min(-1) }),
]);
type TTailState = z.infer<typeof ZTailState>;

export interface XidCollectorOptions {
  /** A kernel log file (kern.log, a file a test writes) or the /dev/kmsg character device. */
  path: string;
  /** Where the read position survives restarts; null keeps it in memory only (--dry-run). */
  statePath: string | null;
  maxEvents?: number;
  /** Bytes read from a file per cycle; the rest waits for the next cycle. */
  maxBytesPerRead?: number;
  /** On the very first start, how far back into an existing file to look. */
  firstReadTailBytes?: number;
  clock?: () => KernelClock;
}

export interface XidCollection {
  events: TXidEvent[];
  error: string | null;
  warnings: string[];
  /** Call once the events are safely queued: only then is the read position moved past them. */
  commit: () => Promise<void>;
}

interface PendingLine {
  text: string;
  /** File offset after the line, or the kmsg sequence number of the record. */
  position: number;
}

const noop = async () => {};

/** Lines without `NVRM:` matter only for their position: a run of them collapses into one entry. */
function pushLine(lines: PendingLine[], text: string, position: number): void {
  const last = lines[lines.length - 1];
  if (text === '' && last?.text === '') last.position = position;
  else lines.push({ text, position });
}
const HEAD_BYTES = 256;

async function fileHead(handle: FileHandle, size: number): Promise<{ headLength: number; headHash: string }> {
  const buffer = Buffer.alloc(Math.min(size, HEAD_BYTES));
  const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
  return { headLength: bytesRead, headHash: createHash('sha256').update(buffer.subarray(0, bytesRead)).digest('hex') };
}

/**
 * Tails a kernel log for `NVRM: Xid` lines, remembering its position across cycles and restarts so each
 * line is reported once. Rotation (new inode) and truncation restart from the beginning of the new file.
 */
export class XidCollector {
  private state: TTailState | null = null;
  private loaded = false;
  private readonly gpuByPci = new Map<string, string>();
  private readonly maxEvents: number;
  private readonly maxBytes: number;
  private readonly tailBytes: number;
  private readonly clock: () => KernelClock;
  // One reader for the collector's life: a multi-line report can straddle two reads.
  private readonly reader = new KernelLogReader((gpu) => this.gpuByPci.set(gpu.pciBusId, gpu.uuid));

  constructor(private readonly options: XidCollectorOptions) {
    this.maxEvents = Math.min(options.maxEvents ?? MAX_XID_EVENTS_PER_BATCH, MAX_XID_EVENTS_PER_BATCH);
    this.maxBytes = options.maxBytesPerRead ?? 4 * 1024 * 1024;
    this.tailBytes = options.firstReadTailBytes ?? 4 * 1024 * 1024;
    this.clock = options.clock ?? (() => ({ now: new Date(), uptimeSeconds: uptime() }));
  }

  /** Xid lines name a PCI address; nvidia-smi tells which GPU UUID sits there. */
  learnGpus(gpus: ReadonlyArray<{ uuid: string; pciBusId: string }>): void {
    for (const g of gpus) this.gpuByPci.set(g.pciBusId, g.uuid);
  }

  private async loadState(): Promise<void> {
    if (this.loaded) return;
    this.loaded = true;
    if (!this.options.statePath) return;
    try {
      const parsed = ZTailState.safeParse(JSON.parse(await readFile(this.options.statePath, 'utf8')));
      if (parsed.success && parsed.data.path === this.options.path) this.state = parsed.data;
    } catch {
      // First start, or an unreadable state file: begin near the end of the log.
    }
  }

  async collect(readTime: Date = new Date()): Promise<XidCollection> {
    await this.loadState();
    let info;
    try {
      info = await stat(this.options.path);
    } catch (err) {
      return {
        events: [],
        error: `cannot read the kernel log ${this.options.path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        warnings: [],
        commit: noop,
      };
    }
    try {
      const { lines, next } = info.isCharacterDevice() ? await this.readKmsg() : await this.readFile(info);
      return this.toEvents(lines, next, readTime);
    } catch (err) {
      return {
        events: [],
        error: `cannot read the kernel log ${this.options.path}: ${(err as Error).message}`,
        warnings: [],
        commit: noop,
      };
    }
  }

  private async readFile(info: {
    dev: number;
    ino: number;
    size: number;
  }): Promise<{ lines: PendingLine[]; next: (position: number) => TTailState }> {
    const path = this.options.path;
    const prior = this.state?.kind === 'file' ? this.state : null;
    const handle = await open(path, 'r');
    let chunk: Buffer;
    let offset: number;
    let head: { headLength: number; headHash: string };
    try {
      head = await fileHead(handle, info.size);
      if (!prior) offset = Math.max(0, info.size - this.tailBytes);
      else if (prior.dev !== info.dev || prior.ino !== info.ino || info.size < prior.offset) offset = 0;
      else if (
        prior.headLength > 0 &&
        (head.headLength < prior.headLength || (await fileHead(handle, prior.headLength)).headHash !== prior.headHash)
      )
        offset = 0;
      else offset = prior.offset;
      const length = Math.min(info.size - offset, this.maxBytes);
      chunk = Buffer.alloc(Math.max(0, length));
      const { bytesRead } = await handle.read(chunk, 0, length, offset);
      chunk = chunk.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
    const next = (position: number): TTailState => ({ kind: 'file', path, dev: info.dev, ino: info.ino, offset: position, ...head });
    if (chunk.length === 0) return { lines: [], next: () => next(offset) };
    let start = 0;
    let base = offset;
    // Starting mid-file (first run): the first partial line is not ours to parse.
    if (!prior && offset > 0) {
      const firstNewline = chunk.indexOf(10);
      start = firstNewline === -1 ? chunk.length : firstNewline + 1;
      base = offset + start;
    }
    const lines: PendingLine[] = [];
    let newline = chunk.indexOf(10, start);
    while (newline !== -1) {
      pushLine(lines, chunk.subarray(start, newline).includes('NVRM:') ? chunk.toString('utf8', start, newline) : '', offset + newline + 1);
      start = newline + 1;
      newline = chunk.indexOf(10, start);
    }
    // A line longer than a whole read can never complete: skip it rather than stall forever.
    if (lines.length === 0 && chunk.length === this.maxBytes) lines.push({ text: '', position: offset + chunk.length });
    return { lines, next: (position) => next(position === -1 ? base : position) };
  }

  private async readKmsg(): Promise<{ lines: PendingLine[]; next: (position: number) => TTailState }> {
    const bootId = (await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => 'unknown')).trim();
    const prior = this.state?.kind === 'kmsg' && this.state.bootId === bootId ? this.state : null;
    // Each cycle opens a fresh reader, which starts at the oldest record in the ring buffer: records
    // read but not committed (the enqueue failed) are seen again; sequence numbers skip the rest.
    const handle = await open(this.options.path, constants.O_RDONLY | constants.O_NONBLOCK);
    const buffer = Buffer.alloc(16 * 1024);
    const lines: PendingLine[] = [];
    let lastSeq = prior?.seq ?? -1;
    try {
      for (let i = 0; i < 1_000_000; i++) {
        let bytesRead: number;
        try {
          ({ bytesRead } = await handle.read(buffer, 0, buffer.length, null));
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'EPIPE') continue; // records were overwritten before we read them
          if (code === 'EAGAIN') break;
          throw err;
        }
        if (bytesRead === 0) break;
        const record = buffer.toString('utf8', 0, bytesRead);
        const header = /^(\d+),(\d+),/.exec(record);
        if (!header) continue;
        const seq = Number(header[2]);
        if (seq <= lastSeq) continue;
        lastSeq = seq;
        // Only the message line: continuation lines (" SUBSYSTEM=...") are metadata.
        const message = record.split('\n')[0]!;
        pushLine(lines, message.includes('NVRM:') ? message : '', seq);
      }
    } finally {
      await handle.close();
    }
    const finalSeq = lastSeq;
    return { lines, next: (position) => ({ kind: 'kmsg', path: this.options.path, bootId, seq: position === -1 ? finalSeq : position }) };
  }

  private toEvents(lines: PendingLine[], next: (position: number) => TTailState, readTime: Date): XidCollection {
    const clock = this.clock();
    const events: TXidEvent[] = [];
    const warnings: string[] = [];
    let position = -1;
    for (const line of lines) {
      if (events.length >= this.maxEvents) break; // the rest is read next cycle
      position = line.position;
      const parsed = this.reader.line(line.text, clock);
      if (!parsed) continue;
      if (!parsed.pciBusId) {
        warnings.push(`Xid line with an unrecognised PCI id skipped: ${parsed.pciAsPrinted}`);
        continue;
      }
      const event = ZXidEvent.safeParse({
        // A line whose time we cannot read is sent with the time we read it, flagged as undated, so
        // nobody mistakes the read time for when the fault happened.
        occurredAt: (parsed.timestamp ?? readTime).toISOString(),
        pciBusId: parsed.pciBusId,
        gpuUuid: this.gpuByPci.get(parsed.pciBusId) ?? null,
        xid: parsed.xid,
        pid: parsed.pid,
        processName: parsed.processName,
        message: parsed.message,
        rawLine: parsed.rawLine,
        kind: parsed.kind,
        gpuInstanceId: parsed.gpuInstanceId,
        undated: parsed.timestamp === null,
      });
      if (event.success) events.push(event.data);
      else
        warnings.push(
          `Xid line skipped (${event.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}): ${parsed.rawLine.slice(0, 200)}`,
        );
    }
    const state = next(position);
    return {
      events,
      error: null,
      warnings,
      commit: async () => {
        this.state = state;
        if (this.options.statePath) await writeFileAtomic(this.options.statePath, JSON.stringify(state));
      },
    };
  }
}

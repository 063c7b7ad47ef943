import type { TTelemetryBatch } from '@fleetplane/contracts';
import type { ApiResult } from '../api/client';
import type { Logger } from '../logger';
import type { DiskQueue } from '../queue/disk-queue';
import { backoffDelayMs } from './backoff';

export interface TelemetrySender {
  postTelemetry(batch: TTelemetryBatch, signal?: AbortSignal): Promise<ApiResult<{ duplicate: boolean; stored: Record<string, number> }>>;
}

export interface DrainResult {
  sent: number;
  deadLettered: number;
  /** Why draining stopped with batches left, or null when the queue is empty. */
  blockedBy: { kind: 'retry' | 'unauthorized'; message: string; retryAfterMs: number | null } | null;
}

export interface ShipperOptions {
  queue: DiskQueue;
  client: TelemetrySender;
  logger: Logger;
  retryBaseMs?: number;
  retryMaxMs?: number;
  random?: () => number;
}

/** Drains the disk queue in order, in the background, backing off while the server is away. */
export class Shipper {
  private stopped = false;
  private attempt = 0;
  private nextAttemptAt = 0;
  private wake: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private loopDone: Promise<void> | null = null;
  private readonly abort = new AbortController();
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;

  constructor(private readonly options: ShipperOptions) {
    this.retryBaseMs = options.retryBaseMs ?? 1000;
    this.retryMaxMs = options.retryMaxMs ?? 60_000;
  }

  /** Sends batches oldest first until the queue is empty or the server cannot take more right now. */
  async drainOnce(): Promise<DrainResult> {
    const { queue, client, logger } = this.options;
    const result: DrainResult = { sent: 0, deadLettered: 0, blockedBy: null };
    while (!this.abort.signal.aborted) {
      const head = await queue.head();
      if (!head) return result;
      const { entry, batch: stored } = head;
      const droppedSamples = await queue.beginSend(entry);
      const { enqueuedAt: _enqueuedAt, ...rest } = stored;
      const batch: TTelemetryBatch = { ...rest, sentAt: new Date().toISOString(), droppedSamples };
      const response = await client.postTelemetry(batch, this.abort.signal);
      switch (response.kind) {
        case 'ok':
          await queue.accepted(entry);
          result.sent++;
          logger.debug({ batchId: batch.batchId, duplicate: response.body.duplicate, stored: response.body.stored, droppedSamples }, 'batch delivered');
          break;
        case 'rejected':
          logger.error({ batchId: batch.batchId, status: response.status, code: response.code, issues: response.issues.slice(0, 20) }, `server refused batch ${batch.batchId}: ${response.message}; moved to dead-letter, not retried`);
          await queue.deadLetter(entry, { status: response.status, code: response.code, message: response.message, issues: response.issues });
          result.deadLettered++;
          break;
        default:
          queue.endSend();
          result.blockedBy = { kind: response.kind, message: response.message, retryAfterMs: response.kind === 'retry' ? response.retryAfterMs : null };
          return result;
      }
    }
    queue.endSend();
    return result;
  }

  /** Runs the drain loop until stop(). */
  start(): void {
    this.loopDone ??= this.loop();
  }

  /** A new batch was queued: send it now unless we are backing off. */
  kick(): void {
    if (Date.now() >= this.nextAttemptAt) this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.wake?.();
    await this.loopDone;
  }

  private async loop(): Promise<void> {
    const { logger, queue } = this.options;
    while (!this.stopped) {
      await this.waitForWork();
      if (this.stopped) break;
      let result: DrainResult;
      try {
        result = await this.drainOnce();
      } catch (err) {
        // Disk trouble (full, read-only): keep the process alive and try again later.
        result = { sent: 0, deadLettered: 0, blockedBy: { kind: 'retry', message: `queue error: ${(err as Error).message}`, retryAfterMs: null } };
      }
      if (this.stopped) break;
      if (!result.blockedBy) {
        if (this.attempt > 0) logger.info({ pending: queue.pendingCount }, 'delivery recovered');
        this.attempt = 0;
        this.nextAttemptAt = 0;
        continue;
      }
      const jitter = backoffDelayMs(this.attempt, this.retryBaseMs, this.retryMaxMs, this.options.random);
      const delay = result.blockedBy.kind === 'unauthorized' ? this.retryMaxMs : Math.max(jitter, Math.min(result.blockedBy.retryAfterMs ?? 0, this.retryMaxMs * 10));
      this.attempt++;
      this.nextAttemptAt = Date.now() + delay;
      const details = { pending: queue.pendingCount, pendingBytes: queue.pendingBytes, attempt: this.attempt, retryInMs: delay };
      if (result.blockedBy.kind === 'unauthorized') {
        logger.error(details, `the server refused this node's credential (${result.blockedBy.message}): it was revoked or the node was deleted. Telemetry keeps queuing on disk; re-enroll the node with a new join token`);
      } else {
        logger.warn(details, `delivery failed, will retry: ${result.blockedBy.message}`);
      }
    }
  }

  private async waitForWork(): Promise<void> {
    while (!this.stopped) {
      const now = Date.now();
      if (this.options.queue.pendingCount > 0 && now >= this.nextAttemptAt) return;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        if (this.nextAttemptAt > now) this.timer = setTimeout(resolve, this.nextAttemptAt - now);
      });
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.wake = null;
    }
  }
}

import { MAX_CLOCK_SKEW_SECONDS, type TTelemetryBatch } from '@fleetplane/contracts';
import type { ApiResult } from '../api/client';
import type { Logger } from '../logger';
import type { DiskQueue } from '../queue/disk-queue';
import { backoffDelayMs } from './backoff';

export interface TelemetrySender {
  postTelemetry(batch: TTelemetryBatch, signal?: AbortSignal): Promise<ApiResult<{ duplicate: boolean; stored: Record<string, number> }>>;
  /** This host's clock minus the server's (ms), sent with each batch; null when not measured yet. */
  clockOffsetMs?(): number | null;
}

export interface DrainResult {
  sent: number;
  deadLettered: number;
  /** Why draining stopped with batches left, or null when the queue is empty. `outage`: the server is down or restarting. */
  blockedBy: { kind: 'retry' | 'unauthorized'; message: string; retryAfterMs: number | null; outage?: boolean } | null;
}

/**
 * Backoff cap while the server is down or restarting (connection refused, 500/502/503/504). An
 * outage usually ends with a restart; with the 60 s cap of the general backoff an agent could sit idle
 * for most of a minute after the server came back (one took 34 s after a Postgres restart). Capped
 * here, with full jitter, each agent tries on average every 2.5 s: it resumes within seconds, and a
 * thousand agents cost the starting server a few hundred cheap refused connections a second.
 */
export const OUTAGE_RETRY_MAX_MS = 5_000;

export interface ShipperOptions {
  queue: DiskQueue;
  client: TelemetrySender;
  logger: Logger;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Backoff cap while the server is down; defaults to OUTAGE_RETRY_MAX_MS (never above retryMaxMs). */
  outageRetryMaxMs?: number;
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
  private readonly outageRetryMaxMs: number;
  private clockWarned = false;

  constructor(private readonly options: ShipperOptions) {
    this.retryBaseMs = options.retryBaseMs ?? 1000;
    this.retryMaxMs = options.retryMaxMs ?? 60_000;
    this.outageRetryMaxMs = Math.min(options.outageRetryMaxMs ?? OUTAGE_RETRY_MAX_MS, this.retryMaxMs);
  }

  /** Says once (and once more when it is fixed) that this host's clock is off: the server refuses samples dated ahead. */
  private checkClock(): void {
    const offset = this.options.client.clockOffsetMs?.() ?? null;
    if (offset === null) return;
    const off = Math.abs(offset) > MAX_CLOCK_SKEW_SECONDS * 1000;
    if (off && !this.clockWarned) {
      this.options.logger.error(
        { clockOffsetMs: offset },
        `this host's clock is ${Math.round(Math.abs(offset) / 1000)} s ${offset > 0 ? 'ahead of' : 'behind'} the server's (tolerance ${MAX_CLOCK_SKEW_SECONDS} s): the server refuses samples dated ahead of its clock. Fix time sync (NTP/chrony)`,
      );
    } else if (!off && this.clockWarned)
      this.options.logger.info({ clockOffsetMs: offset }, "this host's clock agrees with the server's again");
    this.clockWarned = off;
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
      const clockOffsetMs = client.clockOffsetMs?.() ?? null;
      const batch: TTelemetryBatch = {
        ...rest,
        sentAt: new Date().toISOString(),
        droppedSamples,
        ...(clockOffsetMs === null ? {} : { clockOffsetMs }),
      };
      const response = await client.postTelemetry(batch, this.abort.signal);
      this.checkClock();
      switch (response.kind) {
        case 'ok':
          await queue.accepted(entry);
          result.sent++;
          logger.debug(
            { batchId: batch.batchId, duplicate: response.body.duplicate, stored: response.body.stored, droppedSamples },
            'batch delivered',
          );
          break;
        case 'rejected':
          logger.error(
            { batchId: batch.batchId, status: response.status, code: response.code, issues: response.issues.slice(0, 20) },
            `server refused batch ${batch.batchId}: ${response.message}; moved to dead-letter, not retried`,
          );
          await queue.deadLetter(entry, {
            status: response.status,
            code: response.code,
            message: response.message,
            issues: response.issues,
          });
          result.deadLettered++;
          break;
        default:
          queue.endSend();
          result.blockedBy =
            response.kind === 'retry'
              ? { kind: 'retry', message: response.message, retryAfterMs: response.retryAfterMs, outage: response.outage }
              : { kind: response.kind, message: response.message, retryAfterMs: null };
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
        result = {
          sent: 0,
          deadLettered: 0,
          blockedBy: { kind: 'retry', message: `queue error: ${(err as Error).message}`, retryAfterMs: null },
        };
      }
      if (this.stopped) break;
      if (!result.blockedBy) {
        if (this.attempt > 0) logger.info({ pending: queue.pendingCount }, 'delivery recovered');
        this.attempt = 0;
        this.nextAttemptAt = 0;
        continue;
      }
      const cap = result.blockedBy.outage ? this.outageRetryMaxMs : this.retryMaxMs;
      const jitter = backoffDelayMs(this.attempt, this.retryBaseMs, cap, this.options.random);
      const delay =
        result.blockedBy.kind === 'unauthorized'
          ? this.retryMaxMs
          : Math.max(jitter, Math.min(result.blockedBy.retryAfterMs ?? 0, this.retryMaxMs * 10));
      this.attempt++;
      this.nextAttemptAt = Date.now() + delay;
      const details = { pending: queue.pendingCount, pendingBytes: queue.pendingBytes, attempt: this.attempt, retryInMs: delay };
      if (result.blockedBy.kind === 'unauthorized') {
        logger.error(
          details,
          `the server refused this node's credential (${result.blockedBy.message}): it was revoked or the node was deleted. Telemetry keeps queuing on disk; re-enroll the node with a new join token`,
        );
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

import type { TProgress, TRequestSample, TValidationTarget, TVerdict } from '@fleetplane/contracts';
import type { TEndpointConnection } from '../client/chat-client';
import type { TChatOutcome } from '../client/chat-types';

/** What every check implementation gets: the validated target, a connection and progress reporting. */
export interface TCheckEnv {
  target: TValidationTarget;
  conn: TEndpointConnection;
  signal?: AbortSignal;
  /** performance.now() when the check started; sample offsets are relative to it. */
  t0: number;
  progress: ProgressTracker;
}

/** What a check implementation returns; runCheck adds key, kind, timing and thresholds. */
export interface TCheckOutcome {
  verdict: TVerdict;
  score: number | null;
  metrics: Record<string, unknown>;
  samples: TRequestSample[];
  explanation: string;
}

export class ProgressTracker {
  private done = 0;
  private total = 0;
  constructor(private readonly onProgress?: (p: TProgress) => void) {}
  setTotal(total: number): void {
    this.total = total;
    this.onProgress?.({ done: this.done, total });
  }
  tick(n = 1): void {
    this.done += n;
    this.onProgress?.({ done: this.done, total: this.total });
  }
  get snapshot(): TProgress {
    return { done: this.done, total: this.total };
  }
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;

export function clip(s: string, max = 500): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** The timing and usage part of a sample, rounded to microseconds to keep stored JSON small. */
export function sampleFromOutcome(o: TChatOutcome, t0: number): TRequestSample {
  return {
    requestId: o.requestId,
    startOffsetMs: r3(Math.max(0, o.startedAt - t0)),
    ttftMs: o.ttftMs === null ? null : r3(o.ttftMs),
    itlMs: o.itlMs.map(r3),
    e2eMs: o.e2eMs === null ? null : r3(o.e2eMs),
    promptTokens: o.usage?.promptTokens ?? null,
    completionTokens: o.usage?.completionTokens ?? null,
    ok: o.ok,
    ...(o.error ? { error: clip(o.error, 2000) } : {}),
    ...(o.status !== null ? { httpStatus: o.status } : {}),
    stream: o.stream,
    finishReason: o.finishReason === null ? null : clip(o.finishReason, 32),
  };
}

export function cancelledOutcome(
  what: string,
  p: TProgress,
  metrics: Record<string, unknown> = {},
  samples: TRequestSample[] = [],
): TCheckOutcome {
  return {
    verdict: 'skipped',
    score: null,
    metrics: { ...metrics, cancelled: true },
    samples,
    explanation: `Cancelled: ${what} stopped after ${p.done} of ${p.total} requests; no verdict.`,
  };
}

/** "a, b, c … and 4 more" for explanation lists. */
export function listWithMore(lines: readonly string[], max = 15): string[] {
  return lines.length <= max ? [...lines] : [...lines.slice(0, max), `… and ${lines.length - max} more`];
}

/** When nothing got through, the check could not judge the model: an error, not a failure. */
export function allFailedOutcome(what: string, samples: TRequestSample[], metrics: Record<string, unknown>): TCheckOutcome | null {
  if (samples.length === 0 || samples.some((s) => s.ok)) return null;
  const reasons = [...new Set(samples.map((s) => s.error ?? 'unknown error'))];
  return {
    verdict: 'error',
    score: null,
    metrics,
    samples,
    explanation: `No ${what} request succeeded (${samples.length} tried): ${listWithMore(reasons, 3).join('; ')}`,
  };
}

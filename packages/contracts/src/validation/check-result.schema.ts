import { z } from 'zod';
import { ZCheckKind } from './check-definition.schema';

export const VERDICTS = ['pass', 'fail', 'error', 'skipped'] as const;
export const ZVerdict = z.enum(VERDICTS);
export type TVerdict = z.infer<typeof ZVerdict>;

/**
 * One request as the runner saw it. Timings follow vLLM's benchmark: st is taken just before the
 * POST, TTFT at the first chunk carrying content/reasoning/tool-call text, ITL between such chunks,
 * E2E at the last chunk. Token counts come from the server's usage, never from a guess.
 */
export const ZRequestSample = z.object({
  requestId: z.string().max(128).optional(),
  /** Milliseconds from the start of the check (or of the performance level) to this request's st. */
  startOffsetMs: z.number().min(0),
  ttftMs: z.number().min(0).nullable(),
  itlMs: z.array(z.number().min(0)),
  e2eMs: z.number().min(0).nullable(),
  promptTokens: z.number().int().min(0).nullable(),
  completionTokens: z.number().int().min(0).nullable(),
  ok: z.boolean(),
  error: z.string().max(2000).optional(),
  httpStatus: z.number().int().optional(),
  // Check-specific fields; each check fills the ones that mean something for it.
  caseId: z.string().max(128).optional(),
  repeat: z.number().int().min(0).optional(),
  mode: z.string().max(32).optional(),
  stream: z.boolean().optional(),
  concurrency: z.number().int().min(1).optional(),
  contextLength: z.number().int().min(1).optional(),
  depth: z.number().min(0).max(1).optional(),
  expected: z.string().max(2000).optional(),
  got: z.string().max(2000).optional(),
  correct: z.boolean().optional(),
  hasReasoning: z.boolean().optional(),
  finishReason: z.string().max(32).nullable().optional(),
  problems: z.array(z.string().max(500)).optional(),
});
export type TRequestSample = z.infer<typeof ZRequestSample>;

export const ZCheckResult = z.object({
  key: z.string(),
  kind: ZCheckKind,
  required: z.boolean(),
  verdict: ZVerdict,
  /** 0–1 where the kind has a natural score (accuracy, pass rate); null otherwise. */
  score: z.number().min(0).max(1).nullable(),
  thresholds: z.record(z.string(), z.unknown()),
  /** Aggregates (percentiles, throughput, per-cell retrieval scores, ...); JSON only. */
  metrics: z.record(z.string(), z.unknown()),
  samples: z.array(ZRequestSample),
  explanation: z.string(),
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime(),
  durationMs: z.number().min(0),
});
export type TCheckResult = z.infer<typeof ZCheckResult>;

export const ZProgress = z.object({ done: z.number().int().min(0), total: z.number().int().min(0) });
export type TProgress = z.infer<typeof ZProgress>;

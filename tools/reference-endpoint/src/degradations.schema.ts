import { z } from 'zod';

/**
 * Faults the reference endpoint can inject, each mirroring a real failure mode a validation check
 * must catch. All are deterministic given the endpoint's seed.
 */
export const ZDegradations = z
  .object({
    /** Share of exact-answer and reasoning prompts answered wrongly, chosen by hash(seed, prompt). */
    wrongAnswerRate: z.number().min(0).max(1).optional(),
    /** Needles further than this many (approximate) tokens into the prompt are not found. */
    loseNeedlesBeyondTokens: z.number().int().min(0).optional(),
    /** Tool-call arguments are emitted as broken JSON. */
    malformedToolCallJson: z.boolean().optional(),
    /** Reasoning is emitted in non-thinking mode too. */
    reasoningLeak: z.boolean().optional(),
    /** Extra delay before the first token (queueing), plus up to jitterMs more, per request. */
    addedLatencyMs: z.number().min(0).max(600_000).optional(),
    jitterMs: z.number().min(0).max(600_000).optional(),
    /** Global decode budget across all requests, in output tokens per second. */
    throughputCapTokensPerSec: z.number().positive().optional(),
    /** Share of completion requests answered with HTTP 500, chosen by hash(seed, request number). */
    errorRate5xx: z.number().min(0).max(1).optional(),
    /** The engine is dead: /health and completions answer 503. */
    dead: z.boolean().optional(),
  })
  .strict();
export type TDegradations = z.infer<typeof ZDegradations>;

import { z } from 'zod';
import { ZVerdict } from './check-result.schema';

/** ratio: a 0–1 value shown as a percentage, with differences in points; percent: already 0–100. */
export const METRIC_UNITS = ['ms', 'ratio', 'percent', 'tok/s', 'req/s', 'count'] as const;
export const ZMetricUnit = z.enum(METRIC_UNITS);
export type TMetricUnit = z.infer<typeof ZMetricUnit>;

/**
 * Candidate-vs-baseline gate on one metric of one check, e.g. "TTFT p99 no more than 10% worse" or
 * "accuracy no more than 1 point lower beyond the noise measured from the baseline's repeats".
 * `metric` is a dot path into the check's metrics; a `*` segment matches every key present in both runs
 * (for example `levels.*.ttftMs.p99` gates each concurrency level).
 */
export const ZBaselineGate = z
  .object({
    label: z.string().trim().min(1).max(100),
    checkKey: z.string().min(1).max(64),
    metric: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[A-Za-z0-9_*]+(\.[A-Za-z0-9_*]+)*$/, 'Use a dot path such as levels.*.ttftMs.p99'),
    better: z.enum(['lower', 'higher']),
    /** Allowed regression relative to the baseline value, in percent. */
    maxRegressionPct: z.number().min(0).max(10_000).optional(),
    /** Allowed regression in the metric's own units (0.01 = 1 point of a 0–1 accuracy); with both limits the larger applies. */
    maxRegressionAbs: z.number().min(0).optional(),
    /** Dot path to an array of per-repeat values in the baseline; k × their sample std dev widens the limit. */
    noiseMetric: z.string().min(1).max(200).optional(),
    noiseK: z.number().min(0).max(10).default(1),
    unit: ZMetricUnit.default('ratio'),
    required: z.boolean().default(true),
  })
  .refine((g) => g.maxRegressionPct !== undefined || g.maxRegressionAbs !== undefined, {
    message: 'Give maxRegressionPct or maxRegressionAbs',
  });
export type TBaselineGate = z.infer<typeof ZBaselineGate>;
export type TBaselineGateInput = z.input<typeof ZBaselineGate>;

export const ZBaselineGateConfig = z.object({ gates: z.array(ZBaselineGate) });
export type TBaselineGateConfig = z.infer<typeof ZBaselineGateConfig>;

export const ZGateResult = z.object({
  label: z.string(),
  checkKey: z.string(),
  /** The concrete path (wildcards expanded). */
  metric: z.string(),
  required: z.boolean(),
  baseline: z.number().nullable(),
  candidate: z.number().nullable(),
  /** candidate − baseline, in the metric's units. */
  delta: z.number().nullable(),
  deltaPct: z.number().nullable(),
  /** The regression allowed, in the metric's units (limit plus noise allowance). */
  allowed: z.number().nullable(),
  noise: z.number().nullable(),
  verdict: ZVerdict,
  explanation: z.string(),
});
export type TGateResult = z.infer<typeof ZGateResult>;

export const ZBaselineComparison = z.object({
  baselineRunId: z.string().nullable(),
  verdict: ZVerdict,
  gates: z.array(ZGateResult),
  summary: z.string(),
});
export type TBaselineComparison = z.infer<typeof ZBaselineComparison>;

import { z } from 'zod';

// Admin-editable (stored as a JSON setting), so it is parsed strictly: a misspelt key must fail
// loudly instead of silently falling back to a default.
export const ZHealthThresholds = z.strictObject({
  /** Warning at or above this GPU temperature. H100/H200 slow down from about 87–90 °C. */
  temperatureWarnC: z.number().min(40).max(120).default(87),
  /**
   * Warning when memory used / total reaches this. vLLM pre-allocates about 90% of the card
   * (--gpu-memory-utilization 0.9, often 0.95), so the default sits above a normal serving GPU.
   */
  memoryUsedWarnFraction: z.number().gt(0).max(1).default(0.97),
  /** SwPowerCap counts as power throttling only at or above this share of the power limit. */
  powerAtLimitFraction: z.number().gt(0).max(1.5).default(0.95),
  /** Warning when corrected volatile ECC errors rise by at least this much inside the ECC window. */
  eccCorrectableBurst: z.number().int().min(1).default(100),
  eccWindowSeconds: z
    .number()
    .int()
    .min(60)
    .max(7 * 86400)
    .default(3600),
  /** XIDs older than this no longer affect health (they stay in the event log). */
  xidWindowSeconds: z
    .number()
    .int()
    .min(60)
    .max(7 * 86400)
    .default(3600),
  /** One fault prints many lines of the same XID within milliseconds; lines closer than this are one incident. */
  xidIncidentGapSeconds: z.number().min(0).max(3600).default(10),
  /** An application-level XID with at least this many incidents in the window is "repeated". */
  appXidRepeatCount: z.number().int().min(2).max(1000).default(3),
  /** A latest reading older than this counts as no data (the agent stopped sampling this GPU). */
  maxReadingAgeSeconds: z.number().int().min(1).max(86400).default(300),
});

export type THealthThresholds = z.infer<typeof ZHealthThresholds>;
export type THealthThresholdsInput = z.input<typeof ZHealthThresholds>;

export const DEFAULT_HEALTH_THRESHOLDS: Readonly<THealthThresholds> = Object.freeze(ZHealthThresholds.parse({}));

/** Validates a (partial) thresholds object, filling defaults; throws one readable error listing every problem. */
export function resolveHealthThresholds(input: unknown = {}): THealthThresholds {
  if (input === DEFAULT_HEALTH_THRESHOLDS) return DEFAULT_HEALTH_THRESHOLDS;
  const parsed = ZHealthThresholds.safeParse(input ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new RangeError(`Invalid health thresholds: ${problems}`);
  }
  return parsed.data;
}

import { z } from 'zod';
import { ZBaselineComparison } from './baseline.schema';
import { ZCheckResult, ZVerdict } from './check-result.schema';
import { ZValidationSuite } from './suite.schema';
import { ZServingEngine } from '../inventory/cluster.schema';

/**
 * Everything an approver needs to trust a verdict, hashed as canonical JSON (sorted keys) with sha256.
 * The API key is never part of it.
 */
export const ZEvidenceBundle = z.object({
  schemaVersion: z.literal(1),
  runId: z.string().nullable(),
  suite: ZValidationSuite,
  target: z.object({
    baseUrl: z.string(),
    servedModelName: z.string(),
    engine: ZServingEngine,
    engineVersion: z.string(),
    minEngineVersion: z.string().nullable(),
    maxContextTokens: z.number().int(),
    concurrencyCap: z.number().int(),
    clusterId: z.string().nullable(),
    artifactDigest: z.string().nullable(),
  }),
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime(),
  verdict: ZVerdict,
  summary: z.string(),
  checks: z.array(ZCheckResult),
  baseline: ZBaselineComparison.nullable(),
  generator: z.object({ name: z.string(), version: z.string() }),
});
export type TEvidenceBundle = z.infer<typeof ZEvidenceBundle>;

export const ZSealedEvidence = z.object({
  bundle: ZEvidenceBundle,
  /** "sha256:<64 hex>" of the canonical JSON. */
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
});
export type TSealedEvidence = z.infer<typeof ZSealedEvidence>;

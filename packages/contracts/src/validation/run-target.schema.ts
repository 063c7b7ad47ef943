import { z } from 'zod';
import { ZServingEngine } from '../inventory/cluster.schema';

/** What a validation run talks to: the plain, serialisable part of the run context. */
export const ZValidationTarget = z.object({
  baseUrl: z
    .string()
    .trim()
    .url()
    .refine((u) => /^https?:\/\//.test(u), 'Only http:// and https:// endpoints are supported'),
  apiKey: z.string().min(1).optional(),
  servedModelName: z.string().trim().min(1).max(200),
  engine: ZServingEngine,
  engineVersion: z.string().trim().min(1).max(64),
  minEngineVersion: z.string().trim().min(1).max(64).optional(),
  maxContextTokens: z.number().int().min(1024).max(16_777_216),
  concurrencyCap: z.number().int().min(1).max(4096),
  requestTimeoutMs: z.number().int().min(100).max(3_600_000).default(600_000),
});
export type TValidationTarget = z.infer<typeof ZValidationTarget>;
export type TValidationTargetInput = z.input<typeof ZValidationTarget>;

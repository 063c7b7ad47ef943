import { z } from 'zod';

export const CHECK_KINDS = ['endpoint', 'exact_answer', 'long_context', 'tool_calling', 'reasoning_modes', 'performance'] as const;
export const ZCheckKind = z.enum(CHECK_KINDS);
export type TCheckKind = z.infer<typeof ZCheckKind>;

export const EXACT_ANSWER_CATEGORIES = ['arithmetic', 'unit_conversion', 'extraction', 'code_output'] as const;
export const ZExactAnswerCategory = z.enum(EXACT_ANSWER_CATEGORIES);
export type TExactAnswerCategory = z.infer<typeof ZExactAnswerCategory>;

export const ZCheckKey = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'Check keys use lower-case letters, digits, "_" and "-"');

const ratio = z.number().min(0).max(1);
const positiveInt = z.number().int().min(1);
const idList = z.array(z.string().min(1).max(64)).min(1);
/** How many requests of this check may be in flight at once; the cluster's cap still bounds it. */
const parallelism = z.number().int().min(1).max(1024);

export const ZEndpointParams = z.object({
  requireHealth: z.boolean().default(true),
  /** SGLang has no /version, so by default the version falls back to the cluster's recorded one. */
  requireVersionEndpoint: z.boolean().default(false),
  /** Overrides the artifact's minimum engine version passed in the run context. */
  minEngineVersion: z.string().trim().min(1).max(64).optional(),
  /** One tiny generation proves the engine does more than answer HTTP. */
  probeCompletion: z.boolean().default(true),
  /** A server that serves less context than the cluster record claims would fail long-context cells later. */
  requireMaxModelLenAtLeastClusterMax: z.boolean().default(true),
});
export const ZEndpointThresholds = z.object({});

export const ZExactAnswerParams = z.object({
  taskIds: idList.optional(),
  categories: z.array(ZExactAnswerCategory).min(1).optional(),
  /** Take at most this many tasks after filtering (in task-set order). */
  limit: positiveInt.optional(),
  /** Repeats measure run-to-run noise, which baseline gates use as an allowance. */
  repeats: z.number().int().min(1).max(20).default(1),
  thinking: z.boolean().default(false),
  maxTokens: positiveInt.max(65536).default(512),
  temperature: z.number().min(0).max(2).default(0),
  parallelism: parallelism.default(8),
});
export const ZExactAnswerThresholds = z.object({ minAccuracy: ratio.default(0.9) });

/** A context length in tokens, or "max" for the cluster's configured maximum (a run parameter). */
export const ZContextLength = z.union([z.number().int().min(256).max(16_777_216), z.literal('max')]);
export type TContextLength = z.infer<typeof ZContextLength>;

export const ZLongContextParams = z.object({
  contextLengths: z.array(ZContextLength).min(1),
  depths: z.array(ratio).min(1),
  repeats: z.number().int().min(1).max(20).default(1),
  maxTokens: positiveInt.max(4096).default(64),
  thinking: z.boolean().default(false),
  /** Long prompts are expensive; keep few in flight by default. */
  parallelism: parallelism.default(2),
  seed: z.number().int().min(0).default(1),
});
export const ZLongContextThresholds = z.object({
  minScore: ratio.default(1),
  /** every_cell: each (length, depth) cell must reach minScore; overall: the mean over all cells must. */
  mode: z.enum(['every_cell', 'overall']).default('every_cell'),
});

export const TOOL_CALL_MODES = ['non_stream', 'stream'] as const;
export const ZToolCallingParams = z.object({
  caseIds: idList.optional(),
  modes: z.array(z.enum(TOOL_CALL_MODES)).min(1).default(['non_stream', 'stream']),
  repeats: z.number().int().min(1).max(20).default(1),
  maxTokens: positiveInt.max(65536).default(512),
  parallelism: parallelism.default(8),
});
export const ZToolCallingThresholds = z.object({ minPassRate: ratio.default(1) });

export const REASONING_MODES = ['non_thinking', 'thinking'] as const;
export const ZReasoningMode = z.enum(REASONING_MODES);
export type TReasoningMode = z.infer<typeof ZReasoningMode>;
export const ZReasoningModesParams = z.object({
  promptIds: idList.optional(),
  modes: z.array(ZReasoningMode).min(1).default(['non_thinking', 'thinking']),
  maxTokens: positiveInt.max(65536).default(4096),
  parallelism: parallelism.default(8),
});
export const ZReasoningModesThresholds = z.object({
  minAccuracy: ratio.default(1),
  requireReasoningInThinking: z.boolean().default(true),
  forbidReasoningInNonThinking: z.boolean().default(true),
});

/** Goodput SLOs in milliseconds, as vLLM's benchmark takes them (--goodput ttft:… tpot:… e2el:…). */
export const ZGoodputSlos = z.object({
  ttftMs: z.number().positive().optional(),
  tpotMs: z.number().positive().optional(),
  e2elMs: z.number().positive().optional(),
});
export type TGoodputSlos = z.infer<typeof ZGoodputSlos>;

export const ZPerformanceParams = z.object({
  concurrencyLevels: z.array(z.number().int().min(1).max(4096)).min(1),
  inputTokens: positiveInt.max(1_048_576),
  outputTokens: positiveInt.max(65536),
  /** Requests per level; defaults to requestsPerSlot × concurrency. */
  requestsPerLevel: positiveInt.max(100_000).optional(),
  requestsPerSlot: positiveInt.max(1000).default(4),
  /** Stop issuing new requests at a level after this many seconds (in-flight ones finish). */
  maxDurationSPerLevel: z.number().positive().max(3600).optional(),
  percentiles: z.array(z.number().min(0).max(100)).min(1).default([50, 90, 99]),
  slos: ZGoodputSlos.optional(),
});
export const ZPerformanceThresholds = z.object({
  /** Latency limits apply at every concurrency level. */
  maxTtftP99Ms: z.number().positive().optional(),
  maxTpotP99Ms: z.number().positive().optional(),
  maxItlP99Ms: z.number().positive().optional(),
  /** Throughput floors apply at the highest concurrency level that ran (the peak-load level). */
  minOutputThroughputTokS: z.number().positive().optional(),
  minRequestThroughput: z.number().positive().optional(),
  maxErrorRate: ratio.default(0.01),
  /** Share of requests meeting every goodput SLO, at every level; needs params.slos. */
  minGoodputRatio: ratio.optional(),
});

const base = {
  key: ZCheckKey,
  title: z.string().trim().max(200).optional(),
  required: z.boolean().default(true),
};

// prefault (not default) so an omitted params/thresholds object still gets its inner defaults.
export const ZEndpointCheck = z.object({
  ...base,
  kind: z.literal('endpoint'),
  params: ZEndpointParams.prefault({}),
  thresholds: ZEndpointThresholds.prefault({}),
});
export const ZExactAnswerCheck = z.object({
  ...base,
  kind: z.literal('exact_answer'),
  params: ZExactAnswerParams.prefault({}),
  thresholds: ZExactAnswerThresholds.prefault({}),
});
export const ZLongContextCheck = z.object({
  ...base,
  kind: z.literal('long_context'),
  params: ZLongContextParams,
  thresholds: ZLongContextThresholds.prefault({}),
});
export const ZToolCallingCheck = z.object({
  ...base,
  kind: z.literal('tool_calling'),
  params: ZToolCallingParams.prefault({}),
  thresholds: ZToolCallingThresholds.prefault({}),
});
export const ZReasoningModesCheck = z.object({
  ...base,
  kind: z.literal('reasoning_modes'),
  params: ZReasoningModesParams.prefault({}),
  thresholds: ZReasoningModesThresholds.prefault({}),
});
export const ZPerformanceCheck = z.object({
  ...base,
  kind: z.literal('performance'),
  params: ZPerformanceParams,
  thresholds: ZPerformanceThresholds.prefault({}),
});

export const ZCheckDefinition = z.discriminatedUnion('kind', [
  ZEndpointCheck,
  ZExactAnswerCheck,
  ZLongContextCheck,
  ZToolCallingCheck,
  ZReasoningModesCheck,
  ZPerformanceCheck,
]);
/** A parsed check (defaults applied). Use TCheckDefinitionInput for hand-written data. */
export type TCheckDefinition = z.infer<typeof ZCheckDefinition>;
export type TCheckDefinitionInput = z.input<typeof ZCheckDefinition>;
export type TEndpointCheck = z.infer<typeof ZEndpointCheck>;
export type TExactAnswerCheck = z.infer<typeof ZExactAnswerCheck>;
export type TLongContextCheck = z.infer<typeof ZLongContextCheck>;
export type TToolCallingCheck = z.infer<typeof ZToolCallingCheck>;
export type TReasoningModesCheck = z.infer<typeof ZReasoningModesCheck>;
export type TPerformanceCheck = z.infer<typeof ZPerformanceCheck>;
export type TCheckOfKind<K extends TCheckKind> = Extract<TCheckDefinition, { kind: K }>;

import { z } from 'zod';
import { ZId } from '../common/pagination';

// ── Vocabulary shared by the domain rules, the catalogs and the API ──────────────────────────

export const GPU_GENERATIONS = ['ampere', 'ada', 'hopper', 'blackwell', 'cdna3', 'apple', 'ascend', 'other'] as const;
export const ZGpuGeneration = z.enum(GPU_GENERATIONS);

export const GPU_VENDORS = ['nvidia', 'amd', 'apple', 'huawei'] as const;
export const ZGpuVendor = z.enum(GPU_VENDORS);

/** Wider than ServingEngine: TGI and Ollama are known so the rules can say why they are refused. */
export const CAPACITY_ENGINE_KINDS = ['vllm', 'sglang', 'nim', 'llamacpp', 'ollama', 'mlx', 'tgi'] as const;
export const ZCapacityEngineKind = z.enum(CAPACITY_ENGINE_KINDS);
export type TCapacityEngineKind = z.infer<typeof ZCapacityEngineKind>;

/** Same values as Prisma's ArtifactFormat. */
export const ARTIFACT_FORMATS = ['safetensors', 'fp8', 'fp4_fp8', 'gguf', 'awq', 'mlx'] as const;
export const ZArtifactFormatName = z.enum(ARTIFACT_FORMATS);

export const KV_CACHE_DTYPES = ['auto', 'bf16', 'fp16', 'fp8', 'fp8_e4m3', 'fp8_e5m2', 'q8_0', 'q4_0'] as const;
export const ZKvCacheDtype = z.enum(KV_CACHE_DTYPES);

const version = z.string().trim().min(1).max(64);
const source = z.string().trim().min(1, 'Say where this comes from').max(1000);
const usd = z.number().min(0, 'Cannot be negative').max(1000);

// ── Catalogs ─────────────────────────────────────────────────────────────────────────────

export const ZCatalogGpuFields = z.object({
  model: z.string().trim().min(2).max(120),
  vendor: ZGpuVendor,
  generation: ZGpuGeneration,
  memoryMib: z
    .number()
    .int()
    .min(1024, 'At least 1024 MiB')
    .max(4 * 1024 * 1024),
  computeCapability: z
    .string()
    .trim()
    .regex(/^\d+\.\d+$/, 'Like 9.0')
    .nullable(),
  fp8TensorCores: z.boolean(),
  fp4TensorCores: z.boolean(),
  interconnect: z.string().trim().min(1).max(40),
  typicalHourlyUsd: usd.nullable(),
});
export type TCatalogGpuFields = z.infer<typeof ZCatalogGpuFields>;
export const ZCreateCatalogGpuInput = ZCatalogGpuFields;
export const ZUpdateCatalogGpuInput = z.object({ id: ZId, data: ZCatalogGpuFields });
export type TUpdateCatalogGpuInput = z.infer<typeof ZUpdateCatalogGpuInput>;

export const ZCatalogEngineFields = z.object({
  label: z.string().trim().min(1).max(80),
  servesV4: z.boolean().nullable(),
  minV4Version: version.nullable(),
  minV4OfficialVersion: version.nullable(),
  minV4Source: source,
  formats: z.array(ZArtifactFormatName).max(ARTIFACT_FORMATS.length),
  hopperFp4MinVersion: version.nullable(),
  hopperFp4Source: source,
  images: z.partialRecord(ZGpuGeneration, z.string().trim().min(1).max(300)),
  needsTrustRemoteCode: z.boolean(),
});
export type TCatalogEngineFields = z.infer<typeof ZCatalogEngineFields>;
export const ZUpdateCatalogEngineInput = z.object({ kind: ZCapacityEngineKind, data: ZCatalogEngineFields });
export type TUpdateCatalogEngineInput = z.infer<typeof ZUpdateCatalogEngineInput>;

export const ZApiPriceFields = z.object({
  inputPerM: usd,
  outputPerM: usd,
  cacheHitInputPerM: usd,
  asOf: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'A date such as 2026-04-24'),
});
export const ZUpdateApiPriceInput = z.object({ family: z.string().trim().min(1).max(80), data: ZApiPriceFields });
export type TUpdateApiPriceInput = z.infer<typeof ZUpdateApiPriceInput>;

// ── Planner ──────────────────────────────────────────────────────────────────────────────

export const ZPlanModelSource = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('artifact'), artifactId: ZId }),
  z.object({
    kind: z.literal('config'),
    /** The text of a config.json. */
    configJson: z.string().min(2, 'Paste a config.json').max(1_000_000),
    weightsBytes: z.number().positive('The checkpoint size must be above zero').max(1e14),
    format: ZArtifactFormatName,
    modelRef: z.string().trim().min(1).max(300).default('/models/checkpoint'),
    repoId: z.string().trim().max(200).nullable().default(null),
  }),
]);

export const ZPlanTarget = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('gpu'),
    gpuModel: z.string().trim().min(1).max(120),
    gpuCount: z.number().int().min(1, 'At least one GPU').max(1024),
  }),
  z.object({ kind: z.literal('cluster'), clusterId: ZId }),
]);

export const ZPlanInput = z.object({
  model: ZPlanModelSource,
  target: ZPlanTarget,
  /** Required with a GPU target; a cluster target brings its own engine and version. */
  engine: ZCapacityEngineKind.nullable().default(null),
  engineVersion: version.nullable().default(null),
  contextTokens: z.number().int().min(1, 'At least 1 token').max(16_777_216),
  concurrency: z.number().int().min(1, 'At least 1 sequence').max(100_000),
  kvCacheDtype: ZKvCacheDtype.nullable().default(null),
  gpuMemoryUtilization: z.number().gt(0).max(1).nullable().default(null),
  tensorParallelSize: z.number().int().min(1).max(1024).nullable().default(null),
});
export type TPlanRequest = z.input<typeof ZPlanInput>;

/** Which artifacts can run on which cluster: the revision page's matrix. */
export const ZCompatibilityForRevisionInput = z.object({ revisionId: ZId });
export const ZCompatibilityForClusterInput = z.object({ clusterId: ZId });

// ── Cost ─────────────────────────────────────────────────────────────────────────────────

export const COST_WINDOWS = ['1h', '24h', '7d', '30d'] as const;
export const ZCostWindow = z.enum(COST_WINDOWS);
export const COST_WINDOW_HOURS: Record<(typeof COST_WINDOWS)[number], number> = { '1h': 1, '24h': 24, '7d': 168, '30d': 720 };

export const ZClusterCostInput = z.object({
  clusterId: ZId,
  window: ZCostWindow.default('24h'),
  /** Electricity price; null = rented GPUs whose hourly price includes power. */
  powerUsdPerKwh: z.number().min(0).max(10).nullable().default(null),
  /** The engines' cached-token counter is not scraped yet: an assumed share of prompt tokens served from cache. */
  assumedCacheHitShare: z.number().min(0).max(1).default(0),
});
export type TClusterCostInput = z.input<typeof ZClusterCostInput>;

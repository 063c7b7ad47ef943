import { z } from 'zod';

export const SERVING_ENGINES = ['vllm', 'sglang', 'nim', 'llamacpp', 'mlx'] as const;
export const ZServingEngine = z.enum(SERVING_ENGINES);
export type TServingEngine = z.infer<typeof ZServingEngine>;
export const SERVING_ENGINE_LABELS: Record<TServingEngine, string> = {
  vllm: 'vLLM',
  sglang: 'SGLang',
  nim: 'NVIDIA NIM',
  llamacpp: 'llama.cpp',
  mlx: 'MLX',
};

export const HEALTH_STATUSES = ['unknown', 'healthy', 'warning', 'critical', 'offline'] as const;
export const ZHealthStatus = z.enum(HEALTH_STATUSES);
export type THealthStatus = z.infer<typeof ZHealthStatus>;

const name = z
  .string()
  .trim()
  .min(2, 'Name must be at least 2 characters')
  .max(63, 'Name must be at most 63 characters')
  .regex(/^[a-z0-9][a-z0-9-]*[a-z0-9]$/, 'Use lower-case letters, digits and dashes (like a DNS label)');

const httpUrl = z
  .string()
  .trim()
  .max(2048)
  .url('Enter a full URL such as http://10.0.0.5:8000')
  .refine((u) => /^https?:\/\//.test(u), 'Only http:// and https:// endpoints are supported');

export const ZEngineVersion = z
  .string()
  .trim()
  .min(1, 'Engine version is required')
  .max(64)
  .regex(/^(v?\d+(\.\d+){0,3}([-+.][0-9A-Za-z.-]+)?|b\d+)$/, 'Use a version such as 0.11.2 or b6123');

export const ZClusterFields = z.object({
  name,
  siteId: z.string().min(1, 'Choose a site'),
  description: z.string().trim().max(500).default(''),
  servingEngine: ZServingEngine,
  engineVersion: ZEngineVersion,
  endpointUrl: httpUrl.nullable().default(null),
  endpointApiKeyRef: z
    .string()
    .trim()
    .max(128)
    .regex(/^[A-Z][A-Z0-9_]*$/, 'Secret references are environment variable names such as VLLM_API_KEY')
    .nullable()
    .default(null),
  servedModelName: z.string().trim().max(200).nullable().default(null),
  maxContextTokens: z.number().int().min(1024, 'At least 1024 tokens').max(1_048_576, 'DeepSeek V4 serves at most 1,048,576 tokens'),
  gpuHourlyCostUsd: z.number().min(0, 'Cost cannot be negative').max(1000, 'At most $1000 per GPU-hour'),
  validationConcurrencyCap: z.number().int().min(1).max(1024).default(16),
  // Pipeline downloads for this cluster (shared by its runs); null = not limited.
  downloadConcurrency: z
    .number()
    .int('Whole files only')
    .min(1, 'At least 1 file at once')
    .max(64, 'At most 64 files at once')
    .nullable()
    .default(null),
  downloadBandwidthMbps: z
    .number()
    .int('Whole Mbit/s only')
    .min(1, 'At least 1 Mbit/s')
    .max(400_000, 'At most 400,000 Mbit/s (400 Gbit/s)')
    .nullable()
    .default(null),
});

export const ZCreateClusterInput = ZClusterFields;
export type TCreateClusterInput = z.input<typeof ZCreateClusterInput>;
export const ZUpdateClusterInput = z.object({ id: z.string().min(1), data: ZClusterFields });
export type TUpdateClusterInput = z.input<typeof ZUpdateClusterInput>;

export const ZClusterListInput = z.object({
  page: z.number().int().min(1).default(1),
  pageSize: z.number().int().min(1).max(200).default(25),
  sortBy: z.enum(['name', 'servingEngine', 'nodeCount', 'gpuCount', 'health', 'createdAt']).default('name'),
  sortDir: z.enum(['asc', 'desc']).default('asc'),
  search: z.string().trim().max(200).optional(),
  servingEngine: ZServingEngine.optional(),
});
export type TClusterListInput = z.input<typeof ZClusterListInput>;

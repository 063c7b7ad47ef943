import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'Use true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const url = (protocols: string[], example: string) =>
  z
    .string()
    .trim()
    .refine(
      (v) => {
        try {
          return protocols.includes(new URL(v).protocol);
        } catch {
          return false;
        }
      },
      `Must be a ${protocols.join(' or ')} URL such as ${example}`,
    );

/**
 * Every setting Fleetplane reads, with its default. The README's configuration table is generated
 * from the descriptions here (tools/scripts/config-table.ts), so they stay in step.
 */
export const CONFIG_SPEC = {
  DATABASE_URL: {
    schema: url(['postgresql:', 'postgres:'], 'postgresql://postgres@127.0.0.1:5432/fleetplane'),
    default: 'postgresql://postgres@127.0.0.1:5432/fleetplane',
    doc: 'Postgres connection string (system of record).',
  },
  REDIS_URL: {
    schema: url(['redis:', 'rediss:'], 'redis://127.0.0.1:6379'),
    default: 'redis://127.0.0.1:6379',
    doc: 'Redis for BullMQ queues.',
  },
  PORT: {
    schema: z.coerce.number().int().min(1).max(65535),
    default: '3000',
    doc: 'HTTP port of the web app (dashboard, tRPC API, agent API, /metrics).',
  },
  FLEETPLANE_PUBLIC_URL: {
    schema: url(['http:', 'https:'], 'http://localhost:3000'),
    default: 'http://localhost:3000',
    doc: 'Origin users and agents reach the web app at; sign-in cookies and CSRF checks use it.',
  },
  BETTER_AUTH_SECRET: {
    schema: z.string().min(32, 'Must be at least 32 characters (e.g. openssl rand -hex 32)'),
    default: undefined,
    doc: 'Secret that signs sessions. `npm start` generates one into .data/secrets.json when unset; required in production.',
  },
  FLEETPLANE_SECRET_KEY: {
    schema: z.string().regex(/^[0-9a-f]{64}$/i, 'Must be 64 hex characters (32 bytes)'),
    default: undefined,
    doc: 'Key that encrypts stored upstream access tokens (AES-256-GCM). Generated like BETTER_AUTH_SECRET when unset.',
  },
  FLEETPLANE_ADMIN_EMAIL: {
    schema: z.email('Must be an email address'),
    default: 'admin@fleetplane.local',
    doc: 'Email of the first admin, created at start when no admin exists.',
  },
  FLEETPLANE_ADMIN_PASSWORD: {
    schema: z.string().min(12, 'Must be at least 12 characters'),
    default: undefined,
    doc: 'Password of the first admin. When unset, `npm start` generates one and prints it once.',
  },
  FLEETPLANE_DATA_DIR: {
    schema: z.string().min(1),
    default: '.data',
    doc: 'Local state: embedded Postgres/Redis data, generated secrets, artifact store.',
  },
  FLEETPLANE_DEMO: {
    schema: bool,
    default: 'true',
    doc: 'Seed demo data into an empty database and start the simulated fleet (agents, hub, endpoints) with `npm start`.',
  },
  SIGN_IN_ATTEMPTS_PER_MINUTE: {
    schema: z.coerce.number().int().min(1).max(10_000),
    default: '5',
    doc: 'Sign-in attempts allowed per client IP per minute (Better Auth rate limit, stored in Postgres).',
  },
  SIGN_IN_ATTEMPTS_PER_ACCOUNT: {
    schema: z.coerce.number().int().min(1).max(10_000),
    default: '10',
    doc: 'Sign-in attempts allowed per account per 15 minutes, from any address.',
  },
  TRUSTED_PROXY_CIDRS: {
    schema: z.string().regex(/^[0-9a-fA-F:./,\s]*$/, 'Comma-separated CIDRs such as 10.0.0.0/8'),
    default: '',
    doc: 'Reverse proxies whose X-Forwarded-For is trusted for the client IP (rate limits, audit).',
  },
  LOG_LEVEL: { schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), default: 'info', doc: 'pino log level.' },
  HF_ENDPOINT: {
    schema: url(['http:', 'https:'], 'https://huggingface.co'),
    default: 'https://huggingface.co',
    doc: 'Default Hugging Face Hub URL for tracked repos (a repo may override it).',
  },
  HUB_WEBHOOK_SECRET: {
    schema: z.string().min(16, 'Must be at least 16 characters'),
    default: undefined,
    doc: 'Shared secret Hub webhooks must send in X-Webhook-Secret; webhooks are refused when unset.',
  },
  TELEMETRY_RAW_RETENTION_HOURS: {
    schema: z.coerce
      .number()
      .int()
      .min(1)
      .max(24 * 90),
    default: '48',
    doc: 'How long raw GPU samples are kept before only rollups remain.',
  },
  ALERT_WEBHOOK_URL: {
    schema: url(['http:', 'https:'], 'https://hooks.slack.com/services/...'),
    default: undefined,
    doc: 'Optional Slack-compatible webhook notified when alerts open or resolve.',
  },
  METRICS_BEARER_TOKEN: {
    schema: z.string().min(16, 'Must be at least 16 characters'),
    default: undefined,
    doc: 'When set, /metrics answers only scrapes sending `Authorization: Bearer <token>` (Prometheus `authorization.credentials`); open when unset.',
  },
  FLEETPLANE_DEMO_FLEET_NODES: {
    schema: z.coerce.number().int().min(0).max(5000),
    default: '0',
    doc: 'With the demo: also run a simulated fleet of this many 8-GPU nodes (real enrollments and agent API traffic, no agent processes) in cluster "sim-fleet".',
  },
  FLEETPLANE_QUEUE_PREFIX: {
    schema: z.string().regex(/^[A-Za-z0-9_-]+$/, 'Letters, digits, - and _ only'),
    default: 'fleetplane',
    doc: 'Redis key prefix of every BullMQ queue (lets several installs or test runs share one Redis).',
  },
  LLAMA_QUANTIZE_PATH: {
    schema: z.string().min(1),
    default: 'llama-quantize',
    doc: 'Program the GGUF K-quant recipes run as `llama-quantize` (a path, or a name on the PATH); the demo uses the stand-in in tools/fake-llama-quantize.',
  },
  WORKER_CONCURRENCY: {
    schema: z.coerce.number().int().min(1).max(64),
    default: '4',
    doc: 'Jobs processed at once per queue by one worker process.',
  },
} as const;

type Spec = typeof CONFIG_SPEC;
type Key = keyof Spec;
export type FleetplaneConfig = {
  [K in Key]: Spec[K]['default'] extends undefined ? z.output<Spec[K]['schema']> | undefined : z.output<Spec[K]['schema']>;
};

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Reads and validates the whole configuration; throws ConfigError listing every bad variable at once. */
export function loadConfig(env: Record<string, string | undefined> = process.env): FleetplaneConfig {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, spec] of Object.entries(CONFIG_SPEC) as [Key, Spec[Key]][]) {
    const raw = env[key] === '' ? undefined : env[key];
    const value = raw ?? spec.default;
    if (value === undefined) {
      out[key] = undefined;
      continue;
    }
    const parsed = (spec.schema as z.ZodType).safeParse(value);
    if (parsed.success) out[key] = parsed.data;
    else problems.push(`${key}=${JSON.stringify(raw)}: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  }
  if (problems.length) throw new ConfigError(problems);
  return out as FleetplaneConfig;
}

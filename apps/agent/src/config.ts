import { readFile, stat } from 'node:fs/promises';
import { z } from 'zod';
import { ZAgentCredential, ZAgentJoinToken, ZHostname, ZId } from '@fleetplane/contracts';

export const DEFAULT_CREDENTIAL_PATH = '/etc/fleetplane/agent.json';
export const DEFAULT_QUEUE_DIR = '/var/lib/fleetplane/agent/queue';
/** Beside the queue under the agent's state directory; artifacts are large, so operators often point it at a data disk. */
export const DEFAULT_CACHE_DIR = '/var/lib/fleetplane/agent/model-cache';
/** About 16 hours of an 8-GPU node at 10 s intervals; the in-memory index of a full queue stays a few MB. */
export const DEFAULT_QUEUE_MAX_BYTES = 32 * 1024 * 1024;
export const DEFAULT_INTERVAL_SECONDS = 10;
export const MIN_QUEUE_MAX_BYTES = 4096;

/** Thrown for anything the operator has to fix; the CLI prints the message and exits 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const httpUrl = z
  .string()
  .trim()
  .url('must be a full URL such as https://fleetplane.example.com')
  .refine((u) => /^https?:\/\//i.test(u), 'must be an http:// or https:// URL')
  .transform((u) => u.replace(/\/+$/, ''));

const bool = z.preprocess(
  (v) => {
    if (typeof v !== 'string') return v;
    const s = v.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(s)) return true;
    if (['0', 'false', 'no', 'off', ''].includes(s)) return false;
    return v;
  },
  z.boolean({ error: 'must be true or false' }),
);

const path = z.string().trim().min(1, 'must not be empty');

interface OptionSpec {
  flag: string;
  env: string;
  schema: z.ZodType;
}

// One table drives both flags and FLEETPLANE_AGENT_* variables, so they can never disagree.
const RUN_OPTIONS = {
  once: { flag: '--once', env: 'FLEETPLANE_AGENT_ONCE', schema: bool.default(false) },
  dryRun: { flag: '--dry-run', env: 'FLEETPLANE_AGENT_DRY_RUN', schema: bool.default(false) },
  intervalSeconds: {
    flag: '--interval',
    env: 'FLEETPLANE_AGENT_INTERVAL',
    schema: z.coerce
      .number({ error: 'must be a number of seconds' })
      .min(0.2, 'must be at least 0.2 seconds')
      .max(3600, 'must be at most 3600 seconds')
      .optional(),
  },
  nvidiaSmi: { flag: '--nvidia-smi', env: 'FLEETPLANE_AGENT_NVIDIA_SMI', schema: path.default('nvidia-smi') },
  kernelLog: { flag: '--kernel-log', env: 'FLEETPLANE_AGENT_KERNEL_LOG', schema: path.optional() },
  metricsUrl: { flag: '--metrics-url', env: 'FLEETPLANE_AGENT_METRICS_URL', schema: httpUrl.optional() },
  server: { flag: '--server', env: 'FLEETPLANE_AGENT_SERVER', schema: httpUrl.optional() },
  queueDir: { flag: '--queue-dir', env: 'FLEETPLANE_AGENT_QUEUE_DIR', schema: path.default(DEFAULT_QUEUE_DIR) },
  queueMaxBytes: {
    flag: '--queue-max-bytes',
    env: 'FLEETPLANE_AGENT_QUEUE_MAX_BYTES',
    schema: z.coerce
      .number({ error: 'must be a number of bytes' })
      .int('must be a whole number of bytes')
      .min(MIN_QUEUE_MAX_BYTES, `must be at least ${MIN_QUEUE_MAX_BYTES} bytes`)
      .default(DEFAULT_QUEUE_MAX_BYTES),
  },
  credentialPath: { flag: '--credential-path', env: 'FLEETPLANE_AGENT_CREDENTIAL_PATH', schema: path.default(DEFAULT_CREDENTIAL_PATH) },
  cacheDir: { flag: '--cache-dir', env: 'FLEETPLANE_AGENT_CACHE_DIR', schema: path.default(DEFAULT_CACHE_DIR) },
  hostname: { flag: '--hostname', env: 'FLEETPLANE_AGENT_HOSTNAME', schema: ZHostname.optional() },
  /** Command journal, engine state file and engine.log; default: the directory holding the queue directory. */
  stateDir: { flag: '--state-dir', env: 'FLEETPLANE_AGENT_STATE_DIR', schema: path.optional() },
  /** Run the control plane's commands (load, restart, stop the engine; prefetch, evict artifacts). */
  commands: { flag: '--commands', env: 'FLEETPLANE_AGENT_COMMANDS', schema: bool.default(true) },
  /** Bind address for the engine instead of the launch spec's host ({host}), e.g. 127.0.0.1 on a test machine. */
  engineBindHost: {
    flag: '--engine-bind-host',
    env: 'FLEETPLANE_AGENT_ENGINE_BIND_HOST',
    schema: z.string().trim().min(1).max(255).optional(),
  },
  /** Port for the engine instead of the launch spec's ({port}): several agents on one machine each need their own. */
  enginePort: {
    flag: '--engine-port',
    env: 'FLEETPLANE_AGENT_ENGINE_PORT',
    schema: z.coerce.number({ error: 'must be a port number' }).int().min(1).max(65535).optional(),
  },
  retryMaxSeconds: {
    flag: '--retry-max-seconds',
    env: 'FLEETPLANE_AGENT_RETRY_MAX_SECONDS',
    schema: z.coerce.number({ error: 'must be a number of seconds' }).min(0.1).max(3600).default(60),
  },
} satisfies Record<string, OptionSpec>;

const ENROLL_OPTIONS = {
  server: { flag: '--server', env: 'FLEETPLANE_AGENT_SERVER', schema: httpUrl },
  token: { flag: '--token', env: 'FLEETPLANE_AGENT_TOKEN', schema: ZAgentJoinToken },
  credentialPath: RUN_OPTIONS.credentialPath,
  hostname: RUN_OPTIONS.hostname,
  nvidiaSmi: RUN_OPTIONS.nvidiaSmi,
  force: { flag: '--force', env: 'FLEETPLANE_AGENT_FORCE', schema: bool.default(false) },
} satisfies Record<string, OptionSpec>;

type Parsed<T extends Record<string, OptionSpec>> = { [K in keyof T]: z.output<T[K]['schema']> };
export type TRunConfig = Parsed<typeof RUN_OPTIONS>;
export type TEnrollConfig = Parsed<typeof ENROLL_OPTIONS>;

function resolve<T extends Record<string, OptionSpec>>(specs: T, flags: Record<string, unknown>, env: NodeJS.ProcessEnv): Parsed<T> {
  const raw: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(specs)) {
    const fromFlag = flags[key];
    raw[key] = fromFlag !== undefined ? fromFlag : env[spec.env];
  }
  const shape = Object.fromEntries(Object.entries(specs).map(([k, s]) => [k, s.schema]));
  const result = z.strictObject(shape).safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const spec = specs[String(issue.path[0])];
      const where = spec ? `${spec.flag} (or ${spec.env})` : String(issue.path.join('.'));
      const received = spec && raw[String(issue.path[0])] === undefined ? 'is required' : issue.message;
      return `  ${where}: ${received}`;
    });
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return result.data as Parsed<T>;
}

export function resolveRunConfig(flags: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): TRunConfig {
  return resolve(RUN_OPTIONS, flags, env);
}

export function resolveEnrollConfig(flags: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): TEnrollConfig {
  return resolve(ENROLL_OPTIONS, flags, env);
}

/** What `enroll` writes and `run` reads. */
export const ZStoredCredential = z.strictObject({
  server: httpUrl,
  nodeId: ZId,
  clusterId: ZId,
  credential: ZAgentCredential,
  reportIntervalSeconds: z.number().int().min(1).max(3600).optional(),
});
export type TStoredCredential = z.infer<typeof ZStoredCredential>;

export async function readStoredCredential(credentialPath: string): Promise<{ credential: TStoredCredential; warning: string | null }> {
  let text: string;
  try {
    text = await readFile(credentialPath, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new ConfigError(
        `No agent credential at ${credentialPath}. Enroll this node first: fleetplane-agent enroll --server URL --token TOKEN`,
      );
    if (code === 'EACCES')
      throw new ConfigError(
        `Cannot read the agent credential at ${credentialPath}: permission denied (run the agent as the user that enrolled it)`,
      );
    throw new ConfigError(`Cannot read the agent credential at ${credentialPath}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError(`The agent credential at ${credentialPath} is not valid JSON; enroll the node again`);
  }
  const parsed = ZStoredCredential.safeParse(json);
  if (!parsed.success) {
    throw new ConfigError(
      `The agent credential at ${credentialPath} is malformed (${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}); enroll the node again`,
    );
  }
  const mode = (await stat(credentialPath)).mode & 0o777;
  const warning =
    (mode & 0o077) !== 0
      ? `The agent credential at ${credentialPath} is readable by other users (mode ${mode.toString(8)}); chmod 600 it`
      : null;
  return { credential: parsed.data, warning };
}

import { z } from 'zod';

/**
 * Commands to nodes: the control plane keeps them in Postgres, agents fetch their own node's commands over
 * the agent API (no inbound port on the node) and report progress and outcome. Delivery is at-least-once;
 * every handler has "ensure" semantics (ensure the artifact is cached, ensure the engine serves X), so a
 * command delivered again after a crash finishes with the same result instead of doing something else.
 */

export const NODE_COMMAND_KINDS = ['prefetch_artifact', 'load_artifact', 'restart_engine', 'stop_engine', 'evict_artifact'] as const;
export const ZNodeCommandKind = z.enum(NODE_COMMAND_KINDS);
export type TNodeCommandKind = z.infer<typeof ZNodeCommandKind>;

export const NODE_COMMAND_STATES = ['queued', 'delivered', 'running', 'succeeded', 'failed', 'cancelled', 'expired'] as const;
export const ZNodeCommandState = z.enum(NODE_COMMAND_STATES);
export type TNodeCommandState = z.infer<typeof ZNodeCommandState>;
export const TERMINAL_NODE_COMMAND_STATES: readonly TNodeCommandState[] = ['succeeded', 'failed', 'cancelled', 'expired'];

/** Serving engines the agent can supervise (wider than the telemetry's metric dialects). */
export const SUPERVISED_ENGINE_KINDS = ['vllm', 'sglang', 'nim', 'llamacpp', 'mlx'] as const;
export const ZSupervisedEngineKind = z.enum(SUPERVISED_ENGINE_KINDS);
export type TSupervisedEngineKind = z.infer<typeof ZSupervisedEngineKind>;

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex sha256');
/** Relative POSIX path inside an artifact: no leading slash, no `..`, no backslash, no empty segment. */
export const ZArtifactRelativePath = z
  .string()
  .min(1)
  .max(1024)
  .refine((p) => !p.startsWith('/') && !p.includes('\\') && p.split('/').every((s) => s !== '' && s !== '.' && s !== '..'), {
    message: 'A relative path inside the artifact (no leading slash, no "..", no backslash)',
  });

export const ZArtifactFileRef = z.strictObject({
  path: ZArtifactRelativePath,
  sizeBytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  sha256: sha256Hex,
});
export type TArtifactFileRef = z.infer<typeof ZArtifactFileRef>;

/** What an agent needs to fetch and verify an artifact: its identity and its manifest. */
export const ZArtifactRef = z.strictObject({
  id: z.string().min(1).max(64),
  /** sha256 over the canonical manifest: the artifact's identity (what approvals bind to). */
  digest: sha256Hex,
  /** Human label: repo@short-sha and quantisation, for logs. */
  label: z.string().min(1).max(256),
  files: z.array(ZArtifactFileRef).min(1).max(100_000),
});
export type TArtifactRef = z.infer<typeof ZArtifactRef>;

/**
 * How to start the engine, rendered by the control plane from the cluster's (or node's) engine settings and
 * the artifact. `argv` may contain the placeholders `{artifact_dir}` (the agent's local copy of the
 * artifact), `{port}` and `{host}`, which only the agent can fill in; nothing else is substituted.
 */
export const ZEngineLaunchSpec = z.strictObject({
  kind: ZSupervisedEngineKind,
  version: z.string().min(1).max(64),
  /** `child`: the agent runs argv as its child process. `command`: argv starts a systemd unit / container and returns; stopArgv stops it. */
  mode: z.enum(['child', 'command']),
  argv: z.array(z.string().max(4096)).min(1).max(256),
  stopArgv: z.array(z.string().max(4096)).max(256).nullable(),
  env: z.record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/), z.string().max(4096)),
  host: z.string().min(1).max(255),
  port: z.number().int().min(1).max(65535),
  /** The model id clients must use; what /v1/models should list. */
  servedModelName: z.string().min(1).max(256),
  /** Seconds to wait for /health then /v1/models after start (V4-Pro loads take many minutes). */
  readyTimeoutSeconds: z
    .number()
    .int()
    .min(1)
    .max(24 * 3600),
  /** Seconds to let in-flight requests finish before stopping. */
  drainSeconds: z.number().int().min(0).max(3600),
});
export type TEngineLaunchSpec = z.infer<typeof ZEngineLaunchSpec>;

export const ZPrefetchArtifactPayload = z.strictObject({
  artifact: ZArtifactRef,
  /** Cluster download cap in Mbit/s at the time the command was issued; null = not limited. */
  bandwidthMbps: z.number().int().min(1).max(1_000_000).nullable(),
});
export const ZLoadArtifactPayload = z.strictObject({
  artifact: ZArtifactRef,
  launch: ZEngineLaunchSpec,
  bandwidthMbps: z.number().int().min(1).max(1_000_000).nullable(),
});
export const ZRestartEnginePayload = z.strictObject({ reason: z.string().max(1024) });
export const ZStopEnginePayload = z.strictObject({ drainSeconds: z.number().int().min(0).max(3600) });
export const ZEvictArtifactPayload = z.strictObject({ digest: sha256Hex });

/** The command as an agent receives it: a discriminated union on `kind`. */
export const ZAgentCommand = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('prefetch_artifact'), payload: ZPrefetchArtifactPayload }),
  z.strictObject({ kind: z.literal('load_artifact'), payload: ZLoadArtifactPayload }),
  z.strictObject({ kind: z.literal('restart_engine'), payload: ZRestartEnginePayload }),
  z.strictObject({ kind: z.literal('stop_engine'), payload: ZStopEnginePayload }),
  z.strictObject({ kind: z.literal('evict_artifact'), payload: ZEvictArtifactPayload }),
]);
export type TAgentCommandBody = z.infer<typeof ZAgentCommand>;

export const ZDeliveredCommand = z.intersection(
  z.strictObject({
    id: z.string().min(1).max(64),
    issuedAt: z.iso.datetime(),
    /** After this the control plane marks the command expired and ignores late reports. */
    deadlineAt: z.iso.datetime(),
    /** How many times it has been delivered (1 on first delivery). */
    delivery: z.number().int().min(1),
  }),
  ZAgentCommand,
);
export type TDeliveredCommand = z.infer<typeof ZDeliveredCommand>;

/** GET commands?waitSeconds=N (long poll, at most 30 s): the node's commands not yet finished, oldest first. */
export const MAX_COMMAND_POLL_WAIT_SECONDS = 30;
export const ZCommandPollResponse = z.strictObject({ commands: z.array(ZDeliveredCommand).max(100) });
export type TCommandPollResponse = z.infer<typeof ZCommandPollResponse>;

/** Progress, any shape the handler has (bytes done, phase), kept small. */
export const ZCommandProgress = z.strictObject({
  phase: z.string().min(1).max(64),
  message: z.string().max(1024).optional(),
  bytesDone: z.number().int().min(0).optional(),
  bytesTotal: z.number().int().min(0).optional(),
  bytesPerSecond: z.number().min(0).optional(),
});
export type TCommandProgress = z.infer<typeof ZCommandProgress>;

/** What a finished load / restart reports: what the engine really serves once ready. */
export const ZEngineReadyResult = z.strictObject({
  endpointUrl: z.url(),
  servedModelIds: z.array(z.string().max(256)).max(64),
  artifactDigest: sha256Hex.nullable(),
  loadSeconds: z.number().min(0),
});

export const ZCommandReport = z.discriminatedUnion('state', [
  z.strictObject({ state: z.literal('running'), progress: ZCommandProgress }),
  z.strictObject({ state: z.literal('succeeded'), result: z.record(z.string(), z.unknown()) }),
  z.strictObject({ state: z.literal('failed'), error: z.string().min(1).max(4096), result: z.record(z.string(), z.unknown()).optional() }),
]);
export type TCommandReport = z.infer<typeof ZCommandReport>;

/**
 * 200 body for a report. `state` is the command's state after the report; when it is `cancelled` or
 * `expired` the agent stops working on it (a report on a finished command is not an error: at-least-once
 * means the same outcome may arrive twice, and the first one counts).
 */
export const ZCommandReportResponse = z.strictObject({ state: ZNodeCommandState });
export type TCommandReportResponse = z.infer<typeof ZCommandReportResponse>;

/** Engine states the agent reports for its node (the supervisor's view). */
export const ENGINE_STATES = ['stopped', 'starting', 'ready', 'draining', 'stopping', 'crashed', 'failed'] as const;
export const ZEngineState = z.enum(ENGINE_STATES);
export type TEngineState = z.infer<typeof ZEngineState>;

/**
 * What the node really runs, as the agent saw it: PUT node-state, latest wins (`observedAt` orders reports).
 * The control plane compares `served` with the node's desired deployment (drift).
 */
export const ZNodeStateReport = z.strictObject({
  observedAt: z.iso.datetime(),
  engine: z.strictObject({
    state: ZEngineState,
    kind: ZSupervisedEngineKind.nullable(),
    version: z.string().max(64).nullable(),
    endpointUrl: z.url().nullable(),
    /** Read from the engine itself: /v1/models ids and `root`, the artifact digest of the loaded directory (or the engine's metrics label). */
    served: z
      .strictObject({
        modelIds: z.array(z.string().max(256)).max(64),
        root: z.string().max(4096).nullable(),
        artifactDigest: sha256Hex.nullable(),
        maxModelLen: z.number().int().min(0).nullable(),
        /** vLLM's `vllm:cache_config_info` labels (block_size, num_gpu_blocks, cache_dtype, gpu_memory_utilization, ...). */
        cacheConfig: z.record(z.string().max(64), z.string().max(256)).nullable(),
      })
      .nullable(),
    restarts: z.number().int().min(0),
    lastError: z.string().max(4096).nullable(),
    lastLoadSeconds: z.number().min(0).nullable(),
  }),
  cache: z.strictObject({
    totalBytes: z.number().int().min(0),
    freeBytes: z.number().int().min(0),
    artifacts: z
      .array(
        z.strictObject({
          digest: sha256Hex,
          sizeBytes: z.number().int().min(0),
          complete: z.boolean(),
          lastUsedAt: z.iso.datetime().nullable(),
        }),
      )
      .max(1000),
  }),
});
export type TNodeStateReport = z.infer<typeof ZNodeStateReport>;

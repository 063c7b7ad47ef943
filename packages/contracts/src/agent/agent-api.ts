/** The agent HTTP API is versioned in its path; a breaking change gets a new version, never an edit of v1. */
export const AGENT_API_VERSION = 'v1' as const;

export const AGENT_API_PATHS = {
  enroll: `/api/agent/${AGENT_API_VERSION}/enroll`,
  telemetry: `/api/agent/${AGENT_API_VERSION}/telemetry`,
  /** GET ?waitSeconds=N: the node's open commands (long poll). */
  commands: `/api/agent/${AGENT_API_VERSION}/commands`,
  /** POST a ZCommandReport for one command. */
  commandReport: (commandId: string) => `/api/agent/${AGENT_API_VERSION}/commands/${encodeURIComponent(commandId)}/report`,
  /** PUT a ZNodeStateReport: engine state, what it serves, the model cache. */
  nodeState: `/api/agent/${AGENT_API_VERSION}/node-state`,
  /** GET (Range supported) one file of an artifact the node's cluster may fetch. */
  artifactFile: (artifactId: string, relativePath: string) =>
    `/api/agent/${AGENT_API_VERSION}/artifacts/${encodeURIComponent(artifactId)}/files/${relativePath.split('/').map(encodeURIComponent).join('/')}`,
} as const;

// Per-batch bounds. An 8-GPU node reporting every 10 s produces 8 GPU samples per batch; the bounds leave
// room for large nodes and MIG while keeping a batch well under MAX_TELEMETRY_BODY_BYTES.
export const MAX_GPU_SAMPLES_PER_BATCH = 5000;
export const MAX_XID_EVENTS_PER_BATCH = 1000;
export const MAX_ENGINE_SAMPLES_PER_BATCH = 1000;
/** Servers should refuse larger bodies with 413 `payload_too_large`. */
export const MAX_TELEMETRY_BODY_BYTES = 8 * 1024 * 1024;

/** Lengths the schemas enforce; the agent truncates to these before sending. */
export const MAX_XID_MESSAGE_LENGTH = 1024;
export const MAX_XID_RAW_LINE_LENGTH = 2048;

/**
 * How far ahead of the server's clock a timestamp in a batch (sentAt, sampledAt, occurredAt) may be. A
 * sample dated further ahead is refused with the whole batch: stored, it would stay the GPU's "latest"
 * reading until that date and freeze its health. It is also the offset at which a node's clock counts as
 * wrong (a node health warning). NTP keeps real clocks within milliseconds; five minutes leaves room for
 * a node that just booted without a synced clock, and is far above what the agent's measurement of its
 * offset can get wrong (the HTTP Date header has one-second resolution).
 */
export const MAX_CLOCK_SKEW_SECONDS = 5 * 60;

/** nvidia-smi's bracketed error text (`[GPU requires reset]`) is at most a few dozen characters; longer is cut. */
export const MAX_GPU_ERROR_MARKER_LENGTH = 128;
/** One marker per queried field at most. */
export const MAX_GPU_ERROR_STATES = 64;

/** Credentials travel as `Authorization: Bearer <credential>`. */
export function agentAuthorizationHeader(credential: string): string {
  return `Bearer ${credential}`;
}

/** Returns the credential from an Authorization header value, or null when it is not a Bearer credential. */
export function parseAgentBearer(header: string | null | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer[ ]+([^\s]+)\s*$/i.exec(header);
  return match?.[1] ?? null;
}

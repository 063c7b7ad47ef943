/** The agent HTTP API is versioned in its path; a breaking change gets a new version, never an edit of v1. */
export const AGENT_API_VERSION = 'v1' as const;

export const AGENT_API_PATHS = {
  enroll: `/api/agent/${AGENT_API_VERSION}/enroll`,
  telemetry: `/api/agent/${AGENT_API_VERSION}/telemetry`,
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

import { z } from 'zod';

export const AGENT_ERROR_CODES = [
  'invalid_payload',
  'unauthorized',
  'forbidden',
  'expired',
  'payload_too_large',
  'conflict',
  'not_found',
  'range_not_satisfiable',
  'rate_limited',
  'internal',
] as const;
export const ZAgentErrorCode = z.enum(AGENT_ERROR_CODES);
export type TAgentErrorCode = z.infer<typeof ZAgentErrorCode>;

/**
 * The HTTP status that goes with each code. Enrollment uses 401 for an unknown or revoked join token,
 * 409 for a token that was already used and 410 for an expired one; telemetry uses 401 for an unknown or
 * revoked node credential and 403 for a credential that may not report for the node it names.
 */
export const AGENT_ERROR_HTTP_STATUS: Record<TAgentErrorCode, number> = {
  invalid_payload: 400,
  unauthorized: 401,
  forbidden: 403,
  conflict: 409,
  // Also a command id that is not this node's: the same answer whether it belongs to another node or to none.
  not_found: 404,
  range_not_satisfiable: 416,
  expired: 410,
  payload_too_large: 413,
  rate_limited: 429,
  internal: 500,
};

export const ZAgentErrorIssue = z.strictObject({
  path: z.string().max(500),
  message: z.string().max(1000),
});
export type TAgentErrorIssue = z.infer<typeof ZAgentErrorIssue>;

export const ZAgentError = z.strictObject({
  error: z.strictObject({
    code: ZAgentErrorCode,
    message: z.string().min(1).max(2000),
    issues: z.array(ZAgentErrorIssue).max(100).optional(),
  }),
});
export type TAgentError = z.infer<typeof ZAgentError>;

/** Builds the error body; `issues` is capped so a huge invalid batch cannot produce a huge error. */
export function agentErrorBody(code: TAgentErrorCode, message: string, issues?: readonly TAgentErrorIssue[]): TAgentError {
  const body: TAgentError = { error: { code, message: message.slice(0, 2000) || code } };
  if (issues && issues.length > 0)
    body.error.issues = issues.slice(0, 100).map((i) => ({ path: i.path.slice(0, 500), message: i.message.slice(0, 1000) }));
  return body;
}

/** Flattens zod issues into the wire form: `gpuSamples.3.temperatureC`. */
export function toAgentErrorIssues(error: z.ZodError): TAgentErrorIssue[] {
  return error.issues.slice(0, 100).map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
}

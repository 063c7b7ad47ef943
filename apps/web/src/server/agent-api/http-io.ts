// Request and response plumbing every agent API v1 handler shares (enroll, telemetry, commands, node
// state, artifact files): the clients they are handed, the node credential from the Authorization header,
// JSON answers that are never cached, ZAgentError bodies, bounded body reads and zod-checked JSON bodies.
// The handlers are Web-standard Request -> Response functions: the Next.js routes under
// src/app/api/agent/v1 are one-line adapters around them, and tests call them with real Requests (or
// serve them on a loopback port to a real agent process). What happens to the parsed input is a
// service's (plain inputs, typed results, AgentApiError for a refusal).
import type { z } from 'zod';
import { parseAgentBearer, toAgentErrorIssues } from '@fleetplane/contracts';
import type { PrismaClient } from '@fleetplane/db';
import {
  AgentApiError,
  authenticateAgent,
  type Admission,
  type AgentIdentity,
  type IngestMetrics,
  type TelemetryPool,
} from '@fleetplane/services';

export interface AgentHttpLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface AgentHttpDeps {
  prisma: PrismaClient;
  pool: TelemetryPool;
  metrics?: IngestMetrics;
  /** Defaults to the process-wide one (8 batches at a time, 1,024 waiting). */
  admission?: Admission;
  log?: AgentHttpLogger;
  now?: () => Date;
}

const SEND_CREDENTIAL = 'Send the node credential as "Authorization: Bearer <credential>" (written by fleetplane-agent enroll).';

/** The node behind the request's credential; 401 `unauthorized` without a live one. */
export async function identifyAgent(deps: Pick<AgentHttpDeps, 'pool'>, req: Request, missing = SEND_CREDENTIAL): Promise<AgentIdentity> {
  const credential = parseAgentBearer(req.headers.get('authorization'));
  if (!credential) throw new AgentApiError('unauthorized', missing);
  return authenticateAgent(deps.pool, credential);
}

/** An error that is not a refusal: logged, and answered as a 500 `internal` the agent retries. */
export function unexpected(deps: Pick<AgentHttpDeps, 'log'>, e: unknown, what: string): Response {
  deps.log?.error({ err: e }, `${what} failed`);
  return agentErrorResponse(new AgentApiError('internal', `The server could not process the ${what}; retry later.`));
}

// no-transform also keeps Next.js from gzipping these ~100-byte answers (measurable CPU at high rates).
const NO_STORE = { 'content-type': 'application/json', 'cache-control': 'no-store, no-transform' };

export function agentJson(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...NO_STORE, ...headers } });
}

export function agentErrorResponse(error: AgentApiError): Response {
  const headers: Record<string, string> = error.code === 'unauthorized' ? { 'www-authenticate': 'Bearer realm="fleetplane-agent"' } : {};
  // The client may still be sending a body we refuse to read; tell it not to reuse the connection.
  if (error.code === 'payload_too_large') headers.connection = 'close';
  return agentJson(error.status, error.toBody(), headers);
}

/** Reads at most `limit` bytes: Content-Length is checked first, and the running count while streaming. */
export async function readLimitedBody(req: Request, limit: number): Promise<string> {
  const declared = req.headers.get('content-length');
  if (declared !== null && Number(declared) > limit) {
    throw new AgentApiError('payload_too_large', `The body is ${declared} bytes; the limit is ${limit} bytes. Send smaller batches.`);
  }
  if (!req.body) return '';
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      throw new AgentApiError('payload_too_large', `The body exceeds the limit of ${limit} bytes. Send smaller batches.`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total).toString('utf8');
}

/** A JSON body checked against its contract; anything else is a 400 `invalid_payload` naming the first problem. */
export async function readAgentJson<T extends z.ZodType>(req: Request, limit: number, schema: T, what: string): Promise<z.output<T>> {
  const type = req.headers.get('content-type') ?? '';
  if (!/^application\/json\b/i.test(type)) {
    throw new AgentApiError(
      'invalid_payload',
      `Send the ${what} as JSON with Content-Type: application/json (got ${type ? `"${type.slice(0, 100)}"` : 'none'}).`,
    );
  }
  const text = await readLimitedBody(req, limit);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new AgentApiError('invalid_payload', `The ${what} is not valid JSON: ${(e as Error).message}`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issues = toAgentErrorIssues(parsed.error);
    const first = issues[0];
    const where = first ? ` First problem: ${first.path || '(body)'}: ${first.message}` : '';
    throw new AgentApiError(
      'invalid_payload',
      `The ${what} is invalid (${issues.length}${issues.length === 100 ? '+' : ''} problem${issues.length === 1 ? '' : 's'}); nothing was stored.${where}`,
      issues,
    );
  }
  return parsed.data;
}

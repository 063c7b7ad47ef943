// The versioned agent HTTP API (v1) on Web-standard Request/Response: the Next.js route handlers are
// one-line adapters around these, and tests call them in-process without a server.
import type pg from 'pg';
import type { z } from 'zod';
import {
  agentErrorBody,
  MAX_TELEMETRY_BODY_BYTES,
  parseAgentBearer,
  toAgentErrorIssues,
  ZEnrollRequest,
  ZTelemetryBatch,
  type TAgentErrorCode,
} from '@fleetplane/contracts';
import type { PrismaClient } from '@fleetplane/db';
import { enrollNode } from '../enrollment/enroll.service';
import { ingestAdmission, type Admission } from './admission';
import { AgentApiError } from '../shared/agent-api-error';
import { authenticateAgent, ingestTelemetry } from './ingest.service';
import { ingestMetrics, type IngestMetrics, type TIngestRejectReason } from './ingest-metrics';

/** An enrollment request is a few hundred bytes; anything near this is not an agent. */
export const MAX_ENROLL_BODY_BYTES = 16 * 1024;

export interface AgentHttpLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface AgentHttpDeps {
  prisma: PrismaClient;
  pool: pg.Pool;
  metrics?: IngestMetrics;
  /** Defaults to the process-wide one (8 batches at a time, 1,024 waiting). */
  admission?: Admission;
  log?: AgentHttpLogger;
  now?: () => Date;
}

// no-transform also keeps Next.js from gzipping these ~100-byte answers (measurable CPU at high rates).
const NO_STORE = { 'content-type': 'application/json', 'cache-control': 'no-store, no-transform' };

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...NO_STORE, ...headers } });
}

function errorResponse(error: AgentApiError): Response {
  const headers: Record<string, string> = error.code === 'unauthorized' ? { 'www-authenticate': 'Bearer realm="fleetplane-agent"' } : {};
  // The client may still be sending a body we refuse to read; tell it not to reuse the connection.
  if (error.code === 'payload_too_large') headers.connection = 'close';
  return json(error.status, error.toBody(), headers);
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

async function readJson<T extends z.ZodType>(req: Request, limit: number, schema: T, what: string): Promise<z.output<T>> {
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

function unexpected(deps: AgentHttpDeps, e: unknown, what: string): Response {
  deps.log?.error({ err: e }, `${what} failed`);
  return errorResponse(new AgentApiError('internal', `The server could not process the ${what}; retry later.`));
}

/** POST /api/agent/v1/enroll → 201 ZEnrollResponse | 400/401/409/410/413 ZAgentError. */
export async function handleEnrollRequest(deps: AgentHttpDeps, req: Request, meta: { ipAddress: string | null }): Promise<Response> {
  const metrics = deps.metrics ?? ingestMetrics();
  try {
    const body = await readJson(req, MAX_ENROLL_BODY_BYTES, ZEnrollRequest, 'enrollment request');
    const result = await enrollNode(deps.prisma, body, meta, deps.now?.());
    metrics.enrollments.inc({ result: 'enrolled' });
    return json(201, result);
  } catch (e) {
    if (e instanceof AgentApiError) {
      metrics.enrollments.inc({ result: e.code });
      if (e.code !== 'invalid_payload') deps.log?.warn({ code: e.code, ip: meta.ipAddress }, `enrollment refused: ${e.message}`);
      return errorResponse(e);
    }
    metrics.enrollments.inc({ result: 'internal' });
    return unexpected(deps, e, 'enrollment request');
  }
}

/** POST /api/agent/v1/telemetry (Bearer credential) → 200 ZTelemetryResponse | 400/401/403/413 ZAgentError. */
export async function handleTelemetryRequest(deps: AgentHttpDeps, req: Request): Promise<Response> {
  const metrics = deps.metrics ?? ingestMetrics();
  const stopTimer = metrics.ingestSeconds.startTimer();
  const reject = (reason: TIngestRejectReason) => metrics.batchesRejected.inc({ reason });
  try {
    const credential = parseAgentBearer(req.headers.get('authorization'));
    if (!credential)
      throw new AgentApiError(
        'unauthorized',
        'Send the node credential as "Authorization: Bearer <credential>" (written by fleetplane-agent enroll).',
      );
    // Authenticate before reading the body: an unknown caller never costs us a large read.
    const who = await authenticateAgent(deps.pool, credential);
    const leave = await (deps.admission ?? ingestAdmission()).enter();
    if (!leave) {
      metrics.batchesRejected.inc({ reason: 'rate_limited' });
      return json(429, agentErrorBody('rate_limited', 'The control plane is busy; the agent keeps the batch and retries.'), {
        'retry-after': '2',
      });
    }
    let outcome;
    try {
      const batch = await readJson(req, MAX_TELEMETRY_BODY_BYTES, ZTelemetryBatch, 'telemetry batch');
      outcome = await ingestTelemetry(deps.pool, who, batch, deps.now?.() ?? new Date());
    } finally {
      leave();
    }
    if (outcome.duplicate) metrics.batchesDuplicate.inc();
    else {
      metrics.batchesAccepted.inc();
      metrics.samplesAccepted.inc(outcome.stored.gpuSamples);
      metrics.xidEventsAccepted.inc(outcome.stored.xidEvents);
      metrics.engineSamplesAccepted.inc(outcome.stored.engineSamples);
    }
    if (outcome.registeredGpus.length > 0)
      deps.log?.warn(
        { nodeId: who.nodeId, gpus: outcome.registeredGpus },
        `registered ${outcome.registeredGpus.length} new GPU(s) reported by ${who.hostname}`,
      );
    const { registeredGpus: _registered, ...body } = outcome;
    return json(200, body);
  } catch (e) {
    if (e instanceof AgentApiError) {
      reject(REJECT_REASON[e.code] ?? 'internal');
      return errorResponse(e);
    }
    reject('internal');
    return unexpected(deps, e, 'telemetry batch');
  } finally {
    stopTimer();
  }
}

const REJECT_REASON: Partial<Record<TAgentErrorCode, TIngestRejectReason>> = {
  invalid_payload: 'invalid_payload',
  unauthorized: 'unauthorized',
  forbidden: 'forbidden',
  payload_too_large: 'payload_too_large',
};

// The versioned agent HTTP API (v1) on Web-standard Request/Response: the Next.js route handlers are
// one-line adapters around these, and tests call them in-process without a server.
import {
  agentErrorBody,
  MAX_TELEMETRY_BODY_BYTES,
  parseAgentBearer,
  ZEnrollRequest,
  ZTelemetryBatch,
  type TAgentErrorCode,
} from '@fleetplane/contracts';
import type { PrismaClient } from '@fleetplane/db';
import { enrollNode } from '../enrollment/enroll.service';
import { ingestAdmission, type Admission } from './admission';
import { AgentApiError } from '../shared/agent-api-error';
import { agentErrorResponse, agentJson, readAgentJson } from '../shared/agent-http-io';
import { authenticateAgent, ingestTelemetry } from './ingest.service';
import { ingestMetrics, type IngestMetrics, type TIngestRejectReason } from './ingest-metrics';
import type { TelemetryPool } from './telemetry-pool.sql';

/** An enrollment request is a few hundred bytes; anything near this is not an agent. */
export const MAX_ENROLL_BODY_BYTES = 16 * 1024;

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

function unexpected(deps: AgentHttpDeps, e: unknown, what: string): Response {
  deps.log?.error({ err: e }, `${what} failed`);
  return agentErrorResponse(new AgentApiError('internal', `The server could not process the ${what}; retry later.`));
}

/** POST /api/agent/v1/enroll → 201 ZEnrollResponse | 400/401/409/410/413 ZAgentError. */
export async function handleEnrollRequest(deps: AgentHttpDeps, req: Request, meta: { ipAddress: string | null }): Promise<Response> {
  const metrics = deps.metrics ?? ingestMetrics();
  try {
    const body = await readAgentJson(req, MAX_ENROLL_BODY_BYTES, ZEnrollRequest, 'enrollment request');
    const result = await enrollNode(deps.prisma, body, meta, deps.now?.());
    metrics.enrollments.inc({ result: 'enrolled' });
    return agentJson(201, result);
  } catch (e) {
    if (e instanceof AgentApiError) {
      metrics.enrollments.inc({ result: e.code });
      if (e.code !== 'invalid_payload') deps.log?.warn({ code: e.code, ip: meta.ipAddress }, `enrollment refused: ${e.message}`);
      return agentErrorResponse(e);
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
      return agentJson(429, agentErrorBody('rate_limited', 'The control plane is busy; the agent keeps the batch and retries.'), {
        'retry-after': '2',
      });
    }
    let outcome;
    try {
      const batch = await readAgentJson(req, MAX_TELEMETRY_BODY_BYTES, ZTelemetryBatch, 'telemetry batch');
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
    return agentJson(200, body);
  } catch (e) {
    if (e instanceof AgentApiError) {
      reject(REJECT_REASON[e.code] ?? 'internal');
      return agentErrorResponse(e);
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

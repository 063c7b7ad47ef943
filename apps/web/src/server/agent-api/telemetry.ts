import { agentErrorBody, MAX_TELEMETRY_BODY_BYTES, ZTelemetryBatch, type TAgentErrorCode } from '@fleetplane/contracts';
import { AgentApiError, ingestAdmission, ingestMetrics, ingestTelemetry, type TIngestRejectReason } from '@fleetplane/services';
import { agentErrorResponse, agentJson, identifyAgent, readAgentJson, unexpected, type AgentHttpDeps } from './http-io';

/** POST /api/agent/v1/telemetry (Bearer credential) → 200 ZTelemetryResponse | 400/401/403/413 ZAgentError. */
export async function handleTelemetryRequest(deps: AgentHttpDeps, req: Request): Promise<Response> {
  const metrics = deps.metrics ?? ingestMetrics();
  const stopTimer = metrics.ingestSeconds.startTimer();
  const reject = (reason: TIngestRejectReason) => metrics.batchesRejected.inc({ reason });
  try {
    // Authenticate before reading the body: an unknown caller never costs us a large read.
    const who = await identifyAgent(deps, req);
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

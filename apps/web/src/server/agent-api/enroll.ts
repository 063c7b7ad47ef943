import { ZEnrollRequest } from '@fleetplane/contracts';
import { AgentApiError, enrollNode, ingestMetrics } from '@fleetplane/services';
import { agentErrorResponse, agentJson, readAgentJson, unexpected, type AgentHttpDeps } from './http-io';

/** An enrollment request is a few hundred bytes; anything near this is not an agent. */
export const MAX_ENROLL_BODY_BYTES = 16 * 1024;

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

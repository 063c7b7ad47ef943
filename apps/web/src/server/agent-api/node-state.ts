import { toAgentErrorIssues, ZNodeStateReport } from '@fleetplane/contracts';
import { AgentApiError, recordNodeState } from '@fleetplane/services';
import { agentJson, identifyAgent, readLimitedBody, type AgentHttpDeps } from './http-io';

/** A node state is small: the cache lists at most 1,000 artifacts. */
export const MAX_NODE_STATE_BODY_BYTES = 512 * 1024;

// Its refusals predate agentErrorResponse and differ in two details agents may see (a shorter credential
// message, no Connection: close on 413); kept as they are so the wire stays the same.
const refusal = (e: AgentApiError) =>
  agentJson(e.status, e.toBody(), e.code === 'unauthorized' ? { 'www-authenticate': 'Bearer realm="fleetplane-agent"' } : {});

/** PUT /api/agent/v1/node-state (Bearer credential) → 200 {accepted} | 400/401/413 ZAgentError. */
export async function handleNodeStateRequest(deps: AgentHttpDeps, req: Request): Promise<Response> {
  try {
    const who = await identifyAgent(deps, req, 'Send the node credential as "Authorization: Bearer <credential>".');
    if (!/^application\/json\b/i.test(req.headers.get('content-type') ?? ''))
      throw new AgentApiError('invalid_payload', 'Send the node state as JSON with Content-Type: application/json.');
    let value: unknown;
    try {
      value = JSON.parse(await readLimitedBody(req, MAX_NODE_STATE_BODY_BYTES));
    } catch (e) {
      if (e instanceof AgentApiError) throw e;
      throw new AgentApiError('invalid_payload', `The node state is not valid JSON: ${(e as Error).message}`);
    }
    const parsed = ZNodeStateReport.safeParse(value);
    if (!parsed.success) {
      const issues = toAgentErrorIssues(parsed.error);
      throw new AgentApiError(
        'invalid_payload',
        `The node state is invalid; nothing was stored. First problem: ${issues[0]?.path || '(body)'}: ${issues[0]?.message}`,
        issues,
      );
    }
    // The node is the credential's: an agent cannot report for another node.
    return agentJson(200, await recordNodeState(deps.prisma, who.nodeId, parsed.data));
  } catch (e) {
    if (e instanceof AgentApiError) return refusal(e);
    deps.log?.error({ err: e }, 'node state failed');
    return refusal(new AgentApiError('internal', 'The server could not store the node state; retry later.'));
  }
}

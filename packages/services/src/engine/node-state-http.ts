import { parseAgentBearer, toAgentErrorIssues, ZNodeStateReport } from '@fleetplane/contracts';
import { AgentApiError } from '../shared/agent-api-error';
import { readLimitedBody } from '../shared/agent-http-io';
import type { AgentHttpDeps } from '../telemetry/agent-http';
import { authenticateAgent } from '../telemetry/ingest.service';
import { recordNodeState } from './node-state.service';

/** A node state is small: the cache lists at most 1,000 artifacts. */
export const MAX_NODE_STATE_BODY_BYTES = 512 * 1024;

const HEADERS = { 'content-type': 'application/json', 'cache-control': 'no-store, no-transform' };
const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { ...HEADERS, ...headers } });

/** PUT /api/agent/v1/node-state (Bearer credential) → 200 {accepted} | 400/401/413 ZAgentError. */
export async function handleNodeStateRequest(deps: AgentHttpDeps, req: Request): Promise<Response> {
  try {
    const credential = parseAgentBearer(req.headers.get('authorization'));
    if (!credential) throw new AgentApiError('unauthorized', 'Send the node credential as "Authorization: Bearer <credential>".');
    const who = await authenticateAgent(deps.pool, credential);
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
    return json(200, await recordNodeState(deps.prisma, who.nodeId, parsed.data));
  } catch (e) {
    if (e instanceof AgentApiError) {
      return json(e.status, e.toBody(), e.code === 'unauthorized' ? { 'www-authenticate': 'Bearer realm="fleetplane-agent"' } : {});
    }
    deps.log?.error({ err: e }, 'node state failed');
    const err = new AgentApiError('internal', 'The server could not store the node state; retry later.');
    return json(err.status, err.toBody());
  }
}

import { handleCommandPollRequest } from '~/server/agent-api/commands';
import { agentRuntime } from '~/server/agent-runtime';

export const dynamic = 'force-dynamic';

/** Agent API v1: the node's open commands; ?waitSeconds=N holds the request up to N (≤ 30) seconds for news. */
export function GET(req: Request) {
  return handleCommandPollRequest(agentRuntime(), req);
}

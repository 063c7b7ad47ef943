import { handleNodeStateRequest } from '~/server/agent-api/node-state';
import { agentRuntime } from '~/server/agent-runtime';

export const dynamic = 'force-dynamic';

/** Agent API v1: what the node's engine really serves and its model cache, authenticated by the node credential. */
export function PUT(req: Request) {
  return handleNodeStateRequest(agentRuntime(), req);
}

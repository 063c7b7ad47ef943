import { handleEnrollRequest } from '~/server/agent-api/enroll';
import { agentRuntime } from '~/server/agent-runtime';
import { clientIp } from '~/server/session';

export const dynamic = 'force-dynamic';

/** Agent API v1: trade a one-time join token for a node credential (see packages/contracts/src/agent). */
export function POST(req: Request) {
  return handleEnrollRequest(agentRuntime(), req, { ipAddress: clientIp(req.headers) });
}

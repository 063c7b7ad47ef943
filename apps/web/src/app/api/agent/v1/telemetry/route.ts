import { handleTelemetryRequest } from '~/server/agent-api/telemetry';
import { agentRuntime } from '~/server/agent-runtime';

export const dynamic = 'force-dynamic';

/** Agent API v1: one telemetry batch per request, authenticated by the node credential. */
export function POST(req: Request) {
  return handleTelemetryRequest(agentRuntime(), req);
}

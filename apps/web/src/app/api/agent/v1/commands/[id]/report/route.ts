import { handleCommandReportRequest } from '~/server/agent-api/commands';
import { agentRuntime } from '~/server/agent-runtime';

export const dynamic = 'force-dynamic';

/** Agent API v1: progress or outcome of one of the node's own commands. */
export async function POST(req: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return handleCommandReportRequest(agentRuntime(), req, id);
}

import { handleArtifactFileRequest } from '~/server/agent-api/artifact-files';
import { agentRuntime } from '~/server/agent-runtime';

export const dynamic = 'force-dynamic';

type Params = { params: Promise<{ artifactId: string; path: string[] }> };

/** Agent API v1: one file of an artifact the node's cluster may fetch (Range, ETag = sha256), streamed from disk. */
export async function GET(req: Request, { params }: Params) {
  return handleArtifactFileRequest(agentRuntime(), req, await params);
}

export async function HEAD(req: Request, { params }: Params) {
  return handleArtifactFileRequest(agentRuntime(), req, await params);
}

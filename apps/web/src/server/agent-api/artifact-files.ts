// GET/HEAD /api/agent/v1/artifacts/<artifactId>/files/<...path>: artifact files for agents. Which file a
// node may have, opened and checked, is the service's (openArtifactFileForNode); this is the HTTP side:
// ranges, ETag, HEAD, and streaming from disk in 1 MiB reads, never buffered whole (V4 shards are many GB).
import { Readable } from 'node:stream';
import { contentRange, decideByteRange } from '@fleetplane/domain';
import { AgentApiError, openArtifactFileForNode, type OpenArtifactFile } from '@fleetplane/services';
import { agentJson, identifyAgent, type AgentHttpDeps } from './http-io';

/** Read size from disk; large reads keep the per-chunk overhead of web streams negligible. */
const READ_CHUNK_BYTES = 1024 * 1024;

export type ArtifactHttpDeps = Pick<AgentHttpDeps, 'prisma' | 'pool' | 'log'>;

// Refusals here never close the connection (an agent resumes on the same one after a 416).
function errorResponse(error: AgentApiError, extra: Record<string, string> = {}): Response {
  const headers: Record<string, string> = { ...extra };
  if (error.code === 'unauthorized') headers['www-authenticate'] = 'Bearer realm="fleetplane-agent"';
  return agentJson(error.status, error.toBody(), headers);
}

/**
 * Serves one file of an artifact the caller's node may fetch. 200 / 206 with Content-Range / 416; ETag is
 * the file's quoted sha256 (If-Range with it resumes safely); HEAD answers the same headers without a
 * body. 401 without a live credential, 404 for anything the node may not see.
 */
export async function handleArtifactFileRequest(
  deps: ArtifactHttpDeps,
  req: Request,
  params: { artifactId: string; path: readonly string[] },
): Promise<Response> {
  let file: OpenArtifactFile | null = null;
  try {
    const who = await identifyAgent(deps, req);
    file = await openArtifactFileForNode(deps.prisma, { id: who.nodeId, clusterId: who.clusterId }, params, deps.log);
    const { size } = file;
    const etag = `"${file.sha256}"`;
    const headers: Record<string, string> = {
      'content-type': 'application/octet-stream',
      'cache-control': 'private, no-transform',
      'accept-ranges': 'bytes',
      etag,
    };
    const range = decideByteRange(req.headers.get('range'), size, { ifRange: req.headers.get('if-range'), etag });
    if (range.kind === 'unsatisfiable') {
      await file.handle.close();
      file = null;
      return errorResponse(new AgentApiError('range_not_satisfiable', `The range is outside the file (${size} bytes).`), {
        'content-range': contentRange(range, size),
      });
    }
    const start = range.kind === 'partial' ? range.start : 0;
    const end = range.kind === 'partial' ? range.end : size - 1;
    const length = size === 0 ? 0 : end - start + 1;
    headers['content-length'] = String(length);
    const status = range.kind === 'partial' ? 206 : 200;
    if (range.kind === 'partial') headers['content-range'] = contentRange(range, size);
    if (req.method === 'HEAD' || length === 0) {
      await file.handle.close();
      file = null;
      return new Response(null, { status, headers });
    }
    // The stream owns the handle from here: it closes it at the end, on error and when the agent hangs up.
    const stream = file.handle.createReadStream({ start, end, highWaterMark: READ_CHUNK_BYTES, autoClose: true });
    file = null;
    return new Response(Readable.toWeb(stream) as ReadableStream<Uint8Array>, { status, headers });
  } catch (e) {
    await file?.handle.close().catch(() => undefined);
    if (e instanceof AgentApiError) return errorResponse(e);
    deps.log?.error({ err: e }, 'artifact file request failed');
    return errorResponse(new AgentApiError('internal', 'The server could not serve the artifact file; retry later.'));
  }
}

// GET/HEAD /api/agent/v1/artifacts/<artifactId>/files/<...path>: artifact files for agents, on Web-standard
// Request/Response like the rest of the agent API (the Next.js route is a one-line adapter; tests call this
// in-process). Files are streamed from disk in 1 MiB reads, never buffered whole: V4 shards are many GB.
import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { parseAgentBearer, ZArtifactRelativePath } from '@fleetplane/contracts';
import { contentRange, decideByteRange } from '@fleetplane/domain';
import { AgentApiError } from '../shared/agent-api-error';
import { authenticateAgent } from '../telemetry/ingest.service';
import type { AgentHttpDeps } from '../telemetry/agent-http';
import { artifactFileForNode } from './artifact-access.service';
import { artifactDirectory, safeArtifactFilePath } from './artifact-storage';

/** Read size from disk; large reads keep the per-chunk overhead of web streams negligible. */
const READ_CHUNK_BYTES = 1024 * 1024;

export type ArtifactHttpDeps = Pick<AgentHttpDeps, 'prisma' | 'pool' | 'log'>;

function errorResponse(error: AgentApiError, extra: Record<string, string> = {}): Response {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'cache-control': 'no-store, no-transform', ...extra };
  if (error.code === 'unauthorized') headers['www-authenticate'] = 'Bearer realm="fleetplane-agent"';
  return new Response(JSON.stringify(error.toBody()), { status: error.status, headers });
}

// One answer for "no such artifact" and "not yours": a credential cannot probe which artifacts exist elsewhere.
const NOT_FOUND = (artifactId: string) =>
  new AgentApiError(
    'not_found',
    `No artifact ${artifactId.slice(0, 64)} for this node (unknown, or not deployed, proposed or commanded to its cluster).`,
  );

/**
 * Serves one file of an artifact the caller's node may fetch (decideArtifactAccess). 200 / 206 with
 * Content-Range / 416; ETag is the file's quoted sha256 (If-Range with it resumes safely); HEAD answers the
 * same headers without a body. 401 without a live credential, 404 for anything the node may not see.
 */
export async function handleArtifactFileRequest(
  deps: ArtifactHttpDeps,
  req: Request,
  params: { artifactId: string; path: readonly string[] },
): Promise<Response> {
  let handle: FileHandle | null = null;
  try {
    const credential = parseAgentBearer(req.headers.get('authorization'));
    if (!credential)
      throw new AgentApiError(
        'unauthorized',
        'Send the node credential as "Authorization: Bearer <credential>" (written by fleetplane-agent enroll).',
      );
    const who = await authenticateAgent(deps.pool, credential);
    const relativePath = params.path.join('/');
    if (params.artifactId.length === 0 || params.artifactId.length > 64 || !ZArtifactRelativePath.safeParse(relativePath).success)
      throw NOT_FOUND(params.artifactId);
    const { decision, file } = await artifactFileForNode(
      deps.prisma,
      { id: who.nodeId, clusterId: who.clusterId },
      params.artifactId,
      relativePath,
    );
    if (!decision.allowed) throw NOT_FOUND(params.artifactId);
    if (!file) throw new AgentApiError('not_found', `Artifact ${params.artifactId} has no file ${relativePath.slice(0, 512)}.`);
    const dir = artifactDirectory(file.storageUri);
    const full = dir ? safeArtifactFilePath(dir, file.path) : null;
    if (!full) {
      deps.log?.error({ artifactId: file.artifactId, storageUri: file.storageUri, path: file.path }, 'artifact file is not on this server');
      throw new AgentApiError('internal', `Artifact ${file.artifactId} is not stored on this control plane's disk.`);
    }
    try {
      handle = await open(full, 'r');
    } catch (e) {
      deps.log?.error({ err: e, artifactId: file.artifactId, path: full }, 'artifact file missing from the store');
      throw new AgentApiError('internal', `File ${file.path} of artifact ${file.artifactId} is missing from the artifact store.`);
    }
    const { size } = await handle.stat();
    if (size !== file.sizeBytes) {
      // Serving it would only fail the agent's sha256 check after a full transfer; say what is wrong now.
      deps.log?.error(
        { artifactId: file.artifactId, path: full, size, expected: file.sizeBytes },
        'artifact file size differs from its manifest',
      );
      throw new AgentApiError('internal', `File ${file.path} of artifact ${file.artifactId} on disk does not match its manifest.`);
    }
    const etag = `"${file.sha256}"`;
    const headers: Record<string, string> = {
      'content-type': 'application/octet-stream',
      'cache-control': 'private, no-transform',
      'accept-ranges': 'bytes',
      etag,
    };
    const range = decideByteRange(req.headers.get('range'), size, { ifRange: req.headers.get('if-range'), etag });
    if (range.kind === 'unsatisfiable') {
      await handle.close();
      handle = null;
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
      await handle.close();
      handle = null;
      return new Response(null, { status, headers });
    }
    // The stream owns the handle from here: it closes it at the end, on error and when the agent hangs up.
    const stream = handle.createReadStream({ start, end, highWaterMark: READ_CHUNK_BYTES, autoClose: true });
    handle = null;
    return new Response(Readable.toWeb(stream) as ReadableStream<Uint8Array>, { status, headers });
  } catch (e) {
    await handle?.close().catch(() => undefined);
    if (e instanceof AgentApiError) return errorResponse(e);
    deps.log?.error({ err: e }, 'artifact file request failed');
    return errorResponse(new AgentApiError('internal', 'The server could not serve the artifact file; retry later.'));
  }
}

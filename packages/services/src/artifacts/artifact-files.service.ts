// An artifact file for a node: may the node fetch it (decideArtifactAccess), and the file opened from the
// artifact store and checked against its manifest. The agent API route (apps/web/src/server/agent-api/
// artifact-files.ts) authenticates the node, turns the open handle into a (ranged) streamed response and
// answers AgentApiError refusals with their wire status.
import { open, type FileHandle } from 'node:fs/promises';
import { ZArtifactRelativePath } from '@fleetplane/contracts';
import type { Db } from '@fleetplane/db';
import { AgentApiError } from '../shared/agent-api-error';
import { artifactFileForNode } from './artifact-access.service';
import { artifactDirectory, safeArtifactFilePath } from './artifact-storage';

export interface ArtifactFileLogger {
  error(obj: object, msg: string): void;
}

export interface OpenArtifactFile {
  /** Open for reading; the caller owns it (closes it, or hands it to a stream that does). */
  handle: FileHandle;
  /** Size on disk, equal to the manifest's. */
  size: number;
  sha256: string;
}

// One answer for "no such artifact" and "not yours": a credential cannot probe which artifacts exist elsewhere.
const NOT_FOUND = (artifactId: string) =>
  new AgentApiError(
    'not_found',
    `No artifact ${artifactId.slice(0, 64)} for this node (unknown, or not deployed, proposed or commanded to its cluster).`,
  );

/**
 * Opens `path` (the URL's segments) of `artifactId` for `node`. Throws AgentApiError: `not_found` for
 * anything the node may not see (also a malformed id or path), `internal` when the store and the
 * manifest disagree (missing file, other size: serving it would only fail the agent's sha256 check after
 * a full transfer).
 */
export async function openArtifactFileForNode(
  db: Db,
  node: { id: string; clusterId: string },
  params: { artifactId: string; path: readonly string[] },
  log?: ArtifactFileLogger,
): Promise<OpenArtifactFile> {
  const relativePath = params.path.join('/');
  if (params.artifactId.length === 0 || params.artifactId.length > 64 || !ZArtifactRelativePath.safeParse(relativePath).success)
    throw NOT_FOUND(params.artifactId);
  const { decision, file } = await artifactFileForNode(db, node, params.artifactId, relativePath);
  if (!decision.allowed) throw NOT_FOUND(params.artifactId);
  if (!file) throw new AgentApiError('not_found', `Artifact ${params.artifactId} has no file ${relativePath.slice(0, 512)}.`);
  const dir = artifactDirectory(file.storageUri);
  const full = dir ? safeArtifactFilePath(dir, file.path) : null;
  if (!full) {
    log?.error({ artifactId: file.artifactId, storageUri: file.storageUri, path: file.path }, 'artifact file is not on this server');
    throw new AgentApiError('internal', `Artifact ${file.artifactId} is not stored on this control plane's disk.`);
  }
  let handle: FileHandle;
  try {
    handle = await open(full, 'r');
  } catch (e) {
    log?.error({ err: e, artifactId: file.artifactId, path: full }, 'artifact file missing from the store');
    throw new AgentApiError('internal', `File ${file.path} of artifact ${file.artifactId} is missing from the artifact store.`);
  }
  try {
    const { size } = await handle.stat();
    if (size !== file.sizeBytes) {
      log?.error(
        { artifactId: file.artifactId, path: full, size, expected: file.sizeBytes },
        'artifact file size differs from its manifest',
      );
      throw new AgentApiError('internal', `File ${file.path} of artifact ${file.artifactId} on disk does not match its manifest.`);
    }
    return { handle, size, sha256: file.sha256 };
  } catch (e) {
    await handle.close().catch(() => undefined);
    throw e;
  }
}

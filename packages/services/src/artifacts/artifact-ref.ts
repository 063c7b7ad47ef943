import { ZArtifactRef, type TArtifactRef } from '@fleetplane/contracts';
import type { Db } from '@fleetplane/db';
import { notFound, precondition } from '../errors';

/**
 * What an agent needs to fetch and verify an artifact (the `artifact` of prefetch/load commands): its id,
 * its digest (the artifact's identity, which approvals bind to) and the manifest from artifact_file rows,
 * in path order so the same artifact always gives the same ref.
 */
export async function artifactRefFor(db: Db, artifactId: string): Promise<TArtifactRef> {
  const artifact = await db.artifact.findUnique({
    where: { id: artifactId },
    select: {
      id: true,
      digest: true,
      status: true,
      quantisation: true,
      revision: { select: { commitSha: true, trackedRepo: { select: { hubRepoId: true } } } },
      files: { select: { path: true, sizeBytes: true, sha256: true }, orderBy: { path: 'asc' } },
    },
  });
  if (!artifact) throw notFound('Artifact', artifactId);
  if (artifact.status !== 'ready')
    throw precondition(`Artifact ${artifactId} is ${artifact.status}; only a ready artifact can be delivered to nodes`);
  if (artifact.files.length === 0) throw precondition(`Artifact ${artifactId} has no files to deliver`);
  const label = `${artifact.revision.trackedRepo.hubRepoId}@${artifact.revision.commitSha.slice(0, 12)} ${artifact.quantisation}`;
  // Parsed, so a row that breaks the wire contract (a path with "..") fails here, not on the node.
  return ZArtifactRef.parse({
    id: artifact.id,
    digest: artifact.digest,
    label: label.slice(0, 256),
    files: artifact.files.map((f) => ({ path: f.path, sizeBytes: Number(f.sizeBytes), sha256: f.sha256 })),
  });
}

import { ACCESS_COMMAND_STATES, decideArtifactAccess, type ArtifactAccessDecision } from '@fleetplane/domain';
import type { Db } from '@fleetplane/db';

export interface ServableArtifactFile {
  artifactId: string;
  storageUri: string;
  path: string;
  sizeBytes: number;
  sha256: string;
}

/**
 * Whether `node` may fetch `artifactId`, and the requested file's manifest row when it may. Gathers the
 * facts the rule needs (this cluster's deployments and proposals, this node's commands) in one round trip
 * each; the rule itself is decideArtifactAccess (domain).
 */
export async function artifactFileForNode(
  db: Db,
  node: { id: string; clusterId: string },
  artifactId: string,
  filePath: string,
): Promise<{ decision: ArtifactAccessDecision; file: ServableArtifactFile | null }> {
  const artifact = await db.artifact.findFirst({
    where: { id: artifactId, status: 'ready' },
    select: {
      id: true,
      storageUri: true,
      deployments: { where: { clusterId: node.clusterId }, select: { clusterId: true, nodeId: true, state: true } },
      nodeCommands: { where: { nodeId: node.id, state: { in: [...ACCESS_COMMAND_STATES] } }, select: { nodeId: true, state: true } },
      proposals: { where: { clusterId: node.clusterId }, select: { clusterId: true, state: true } },
    },
  });
  const decision = decideArtifactAccess({
    node,
    artifact: artifact ? { id: artifact.id } : null,
    deployments: artifact?.deployments ?? [],
    commands: artifact?.nodeCommands ?? [],
    proposals: artifact?.proposals ?? [],
  });
  if (!decision.allowed || !artifact) return { decision, file: null };
  const row = await db.artifactFile.findUnique({
    where: { artifactId_path: { artifactId, path: filePath } },
    select: { path: true, sizeBytes: true, sha256: true },
  });
  return {
    decision,
    file: row
      ? { artifactId, storageUri: artifact.storageUri, path: row.path, sizeBytes: Number(row.sizeBytes), sha256: row.sha256 }
      : null,
  };
}

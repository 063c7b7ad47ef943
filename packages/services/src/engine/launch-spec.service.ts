import type { TEngineLaunchSpec } from '@fleetplane/contracts';
import type { Db } from '@fleetplane/db';
import { buildEngineLaunchSpec, LaunchSpecError, type TEngineLaunchInput } from '@fleetplane/domain';
import { invalid, notFound, precondition } from '../errors';

/** The cluster columns a launch spec is rendered from. */
export const ENGINE_SETTINGS_SELECT = {
  id: true,
  name: true,
  servingEngine: true,
  engineVersion: true,
  servedModelName: true,
  maxContextTokens: true,
  engineRunMode: true,
  enginePort: true,
  engineReadyTimeoutSeconds: true,
  engineDrainSeconds: true,
  engineLaunchTemplate: true,
  engineStopTemplate: true,
  engineTensorParallelSize: true,
  engineGpuMemoryUtilization: true,
  engineKvCacheDtype: true,
  engineTrustRemoteCode: true,
  engineChunkedPrefill: true,
  stagingNodeId: true,
} as const;

type ClusterEngineRow = {
  servingEngine: TEngineLaunchInput['kind'];
  engineVersion: string;
  servedModelName: string | null;
  maxContextTokens: number;
  engineRunMode: string;
  enginePort: number;
  engineReadyTimeoutSeconds: number;
  engineDrainSeconds: number;
  engineLaunchTemplate: string | null;
  engineStopTemplate: string | null;
  engineTensorParallelSize: number | null;
  engineGpuMemoryUtilization: number;
  engineKvCacheDtype: string;
  engineTrustRemoteCode: boolean;
  engineChunkedPrefill: boolean;
};

/** Maps settings + artifact + node to the domain's input; pure, so the settings form's preview uses it too. */
export function launchInputFrom(
  cluster: ClusterEngineRow,
  artifact: { format: TEngineLaunchInput['artifact']['format']; files: readonly string[]; repoId: string },
  node: { gpuCount: number; engineLaunchTemplate: string | null },
): TEngineLaunchInput {
  return {
    kind: cluster.servingEngine,
    version: cluster.engineVersion,
    runMode: cluster.engineRunMode === 'command' ? 'command' : 'child',
    port: cluster.enginePort,
    readyTimeoutSeconds: cluster.engineReadyTimeoutSeconds,
    drainSeconds: cluster.engineDrainSeconds,
    servedModelName: cluster.servedModelName ?? artifact.repoId,
    artifact: { format: artifact.format, files: artifact.files },
    settings: {
      tensorParallelSize: cluster.engineTensorParallelSize ?? Math.max(1, node.gpuCount),
      maxModelLen: cluster.maxContextTokens,
      gpuMemoryUtilization: cluster.engineGpuMemoryUtilization,
      kvCacheDtype: cluster.engineKvCacheDtype,
      trustRemoteCode: cluster.engineTrustRemoteCode,
      chunkedPrefill: cluster.engineChunkedPrefill,
    },
    launchTemplate: node.engineLaunchTemplate ?? cluster.engineLaunchTemplate,
    stopTemplate: cluster.engineStopTemplate,
  };
}

/**
 * The launch spec a load_artifact command for (node, artifact) carries: the cluster's engine settings,
 * the node's own template when it has one, and the artifact's format and files. Refuses (invalid, on
 * the settings field to fix) when the settings cannot launch this artifact.
 */
export async function engineLaunchSpecFor(db: Db, input: { nodeId: string; artifactId: string }): Promise<TEngineLaunchSpec> {
  const node = await db.node.findUnique({
    where: { id: input.nodeId },
    select: { engineLaunchTemplate: true, _count: { select: { gpus: true } }, cluster: { select: ENGINE_SETTINGS_SELECT } },
  });
  if (!node) throw notFound('Node', input.nodeId);
  const artifact = await db.artifact.findUnique({
    where: { id: input.artifactId },
    select: {
      format: true,
      status: true,
      files: { select: { path: true } },
      revision: { select: { trackedRepo: { select: { hubRepoId: true } } } },
    },
  });
  if (!artifact) throw notFound('Artifact', input.artifactId);
  if (artifact.status !== 'ready') throw precondition(`Artifact ${input.artifactId} is ${artifact.status}, not ready to serve`);
  try {
    return buildEngineLaunchSpec(
      launchInputFrom(
        node.cluster,
        { format: artifact.format, files: artifact.files.map((f) => f.path), repoId: artifact.revision.trackedRepo.hubRepoId },
        { gpuCount: node._count.gpus, engineLaunchTemplate: node.engineLaunchTemplate },
      ),
    );
  } catch (e) {
    if (e instanceof LaunchSpecError) throw invalid(e.message, e.field);
    throw e;
  }
}

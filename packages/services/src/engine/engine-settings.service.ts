import {
  ZClusterEngineSettings,
  ZPreviewLaunchInput,
  ZUpdateClusterEngineSettingsInput,
  ZUpdateNodeEngineTemplateInput,
  type TClusterEngineSettings,
} from '@fleetplane/contracts';
import type { Db } from '@fleetplane/db';
import { buildEngineLaunchSpec, LaunchSpecError, parseLaunchTemplate, renderLaunchSpec } from '@fleetplane/domain';
import { withAudit, type ServiceContext } from '../context';
import { invalid, notFound } from '../errors';
import { ARTIFACT_LABEL_SELECT, artifactLabel } from './artifact-label';
import { evaluateNodeDrift } from './drift.service';
import { ENGINE_SETTINGS_SELECT, launchInputFrom } from './launch-spec.service';
import { nodeKvCapacity } from '../capacity/planner.service';

type Settings = TClusterEngineSettings;

async function loadCluster(db: Db, clusterId: string) {
  const cluster = await db.cluster.findUnique({ where: { id: clusterId }, select: ENGINE_SETTINGS_SELECT });
  if (!cluster) throw notFound('Cluster', clusterId);
  return cluster;
}

/**
 * The preview: the launch command these settings render for the artifact the cluster serves now (or,
 * before any deployment, an example safetensors checkpoint), on a node with the cluster's usual GPU count.
 */
async function preview(
  db: Db,
  cluster: Awaited<ReturnType<typeof loadCluster>>,
  s: Settings,
): Promise<{ command: string | null; error: string | null; field: string | null; artifact: string }> {
  const [deployment, gpus] = await Promise.all([
    db.deployment.findFirst({
      where: { clusterId: cluster.id, state: { in: ['active', 'rolling_out'] } },
      orderBy: { startedAt: 'desc' },
      select: { artifact: { select: { ...ARTIFACT_LABEL_SELECT, format: true, files: { select: { path: true } } } } },
    }),
    db.node.findFirst({ where: { clusterId: cluster.id }, select: { _count: { select: { gpus: true } } }, orderBy: { createdAt: 'asc' } }),
  ]);
  const a = deployment?.artifact;
  const artifact = a
    ? { format: a.format, files: a.files.map((f) => f.path), repoId: a.revision.trackedRepo.hubRepoId }
    : {
        format: 'safetensors' as const,
        files: ['config.json', 'model-00001-of-00002.safetensors'],
        repoId: 'deepseek-ai/DeepSeek-V4-Flash',
      };
  try {
    const spec = buildEngineLaunchSpec(
      launchInputFrom({ ...cluster, ...s }, artifact, { gpuCount: gpus?._count.gpus ?? 1, engineLaunchTemplate: null }),
    );
    const stop = spec.stopArgv ? `\n# stop:\n${renderLaunchSpec({ argv: spec.stopArgv, env: {} })}` : '';
    return {
      command: renderLaunchSpec(spec) + stop,
      error: null,
      field: null,
      artifact: a ? artifactLabel(a) : 'an example safetensors checkpoint',
    };
  } catch (e) {
    if (e instanceof LaunchSpecError)
      return { command: null, error: e.message, field: e.field, artifact: a ? artifactLabel(a) : 'an example' };
    throw e;
  }
}

function settingsOf(c: Awaited<ReturnType<typeof loadCluster>>): Settings {
  return {
    engineRunMode: c.engineRunMode === 'command' ? 'command' : 'child',
    enginePort: c.enginePort,
    engineReadyTimeoutSeconds: c.engineReadyTimeoutSeconds,
    engineDrainSeconds: c.engineDrainSeconds,
    engineTensorParallelSize: c.engineTensorParallelSize,
    engineGpuMemoryUtilization: c.engineGpuMemoryUtilization,
    engineKvCacheDtype: ZClusterEngineSettings.shape.engineKvCacheDtype.catch('auto').parse(c.engineKvCacheDtype),
    engineTrustRemoteCode: c.engineTrustRemoteCode,
    engineChunkedPrefill: c.engineChunkedPrefill,
    engineLaunchTemplate: c.engineLaunchTemplate,
    engineStopTemplate: c.engineStopTemplate,
    stagingNodeId: c.stagingNodeId,
  };
}

export async function getClusterEngineSettings(ctx: Pick<ServiceContext, 'prisma'>, clusterId: string) {
  const cluster = await loadCluster(ctx.prisma, clusterId);
  const settings = settingsOf(cluster);
  const nodes = await ctx.prisma.node.findMany({
    where: { clusterId },
    select: { id: true, hostname: true, health: true, runtimeState: { select: { engineState: true } } },
    orderBy: { hostname: 'asc' },
  });
  const drift = new Map(
    (
      await evaluateNodeDrift(
        ctx.prisma,
        new Date(),
        nodes.map((n) => n.id),
      )
    ).map((d) => [d.nodeId, d.verdict]),
  );
  return {
    clusterId,
    servingEngine: cluster.servingEngine,
    engineVersion: cluster.engineVersion,
    servedModelName: cluster.servedModelName,
    maxContextTokens: cluster.maxContextTokens,
    settings,
    stagingNodeOptions: nodes.map((n) => ({ id: n.id, hostname: n.hostname, health: n.health })),
    /** What each node's engine does, and whether it serves what it should ("serving X, expected Y"). */
    nodeEngines: nodes.map((n) => ({
      nodeId: n.id,
      hostname: n.hostname,
      state: n.runtimeState?.engineState ?? null,
      drift: drift.get(n.id) ?? { status: 'unknown' as const, message: null, severity: null },
    })),
    preview: await preview(ctx.prisma, cluster, settings),
  };
}

/** Check templates the way the launch will, so a bad one is refused on its field when saved, not when a node loads. */
function checkTemplates(s: Settings): void {
  if (s.engineLaunchTemplate) {
    const r = parseLaunchTemplate(s.engineLaunchTemplate);
    if (!r.ok) throw invalid(r.error, 'engineLaunchTemplate');
  }
  if (s.engineStopTemplate) {
    const r = parseLaunchTemplate(s.engineStopTemplate, { requireArtifactDir: false });
    if (!r.ok) throw invalid(r.error, 'engineStopTemplate');
  }
  if (s.engineRunMode === 'command' && s.engineLaunchTemplate && !s.engineStopTemplate)
    throw invalid('Command mode with a launch template needs a stop template too', 'engineStopTemplate');
}

export async function previewEngineLaunch(ctx: Pick<ServiceContext, 'prisma'>, input: unknown) {
  const { clusterId, data } = ZPreviewLaunchInput.parse(input);
  return preview(ctx.prisma, await loadCluster(ctx.prisma, clusterId), data);
}

export async function updateClusterEngineSettings(ctx: ServiceContext, input: unknown) {
  const { clusterId, data } = ZUpdateClusterEngineSettingsInput.parse(input);
  checkTemplates(data);
  return withAudit(ctx, async (tx, audit) => {
    const before = await loadCluster(tx, clusterId);
    if (data.stagingNodeId) {
      const node = await tx.node.findUnique({ where: { id: data.stagingNodeId }, select: { clusterId: true } });
      if (!node || node.clusterId !== clusterId) throw invalid('The staging node must be a node of this cluster', 'stagingNodeId');
    }
    await tx.cluster.update({ where: { id: clusterId }, data });
    await audit({
      action: 'cluster.engine_settings.update',
      targetType: 'cluster',
      targetId: clusterId,
      before: settingsOf(before),
      after: data,
    });
    return { id: clusterId };
  });
}

export async function updateNodeEngineTemplate(ctx: ServiceContext, input: unknown) {
  const { nodeId, engineLaunchTemplate } = ZUpdateNodeEngineTemplateInput.parse(input);
  if (engineLaunchTemplate) {
    const r = parseLaunchTemplate(engineLaunchTemplate);
    if (!r.ok) throw invalid(r.error, 'engineLaunchTemplate');
  }
  return withAudit(ctx, async (tx, audit) => {
    const before = await tx.node.findUnique({ where: { id: nodeId }, select: { engineLaunchTemplate: true } });
    if (!before) throw notFound('Node', nodeId);
    await tx.node.update({ where: { id: nodeId }, data: { engineLaunchTemplate } });
    await audit({ action: 'node.engine_template.update', targetType: 'node', targetId: nodeId, before, after: { engineLaunchTemplate } });
    return { id: nodeId };
  });
}

/** The node page's engine panel: what runs (as the agent reported it), what should, drift, the model cache. */
export async function getNodeEngine(ctx: Pick<ServiceContext, 'prisma'>, nodeId: string, now = new Date()) {
  const node = await ctx.prisma.node.findUnique({
    where: { id: nodeId },
    select: {
      id: true,
      engineLaunchTemplate: true,
      runtimeState: true,
      cluster: { select: { id: true, servingEngine: true, engineVersion: true, stagingNodeId: true } },
    },
  });
  if (!node) throw notFound('Node', nodeId);
  const [drift] = await evaluateNodeDrift(ctx.prisma, now, [nodeId]);
  const rs = node.runtimeState;
  const cache = (rs?.cache ?? {}) as {
    totalBytes?: number;
    freeBytes?: number;
    artifacts?: { digest: string; sizeBytes: number; complete: boolean; lastUsedAt: string | null }[];
  };
  const digests = (cache.artifacts ?? []).map((a) => a.digest);
  const known = digests.length
    ? await ctx.prisma.artifact.findMany({ where: { digest: { in: digests } }, select: ARTIFACT_LABEL_SELECT })
    : [];
  const labels = new Map(known.map((a) => [a.digest, artifactLabel(a)]));
  const kvCapacity = rs
    ? await nodeKvCapacity(ctx.prisma, {
        nodeId,
        engine: node.cluster.servingEngine,
        cacheConfig: rs.cacheConfig as Record<string, string> | null,
        servedArtifactDigest: rs.servedArtifactDigest,
        maxModelLen: rs.maxModelLen,
      })
    : null;
  return {
    nodeId,
    isStagingNode: node.cluster.stagingNodeId === nodeId,
    engineLaunchTemplate: node.engineLaunchTemplate,
    clusterEngine: { kind: node.cluster.servingEngine, version: node.cluster.engineVersion },
    reported: rs
      ? {
          observedAt: rs.observedAt,
          state: rs.engineState,
          kind: rs.engineKind,
          version: rs.engineVersion,
          endpointUrl: rs.endpointUrl,
          servedModelIds: rs.servedModelIds,
          servedRoot: rs.servedRoot,
          servedArtifactDigest: rs.servedArtifactDigest,
          servedLabel: drift?.servedLabel ?? null,
          maxModelLen: rs.maxModelLen,
          cacheConfig: rs.cacheConfig as Record<string, string> | null,
          restarts: rs.restarts,
          lastError: rs.lastError,
          lastLoadSeconds: rs.lastLoadSeconds,
        }
      : null,
    /** The engine's own KV capacity beside the planner's estimate for this node (null when the engine does not report it). */
    kvCapacity,
    desired: drift?.desired ?? { kind: 'none' as const },
    drift: drift?.verdict ?? { status: 'unknown' as const, message: null, severity: null },
    cache: {
      totalBytes: cache.totalBytes ?? 0,
      freeBytes: cache.freeBytes ?? 0,
      artifacts: (cache.artifacts ?? []).map((a) => ({ ...a, label: labels.get(a.digest) ?? null })),
    },
  };
}

import { ZEngineState } from '@fleetplane/contracts';
import type { Db } from '@fleetplane/db';
import {
  desiredArtifactForNode,
  driftAlertCondition,
  evaluateDrift,
  type AlertCondition,
  type TDesiredEngine,
  type TDriftVerdict,
} from '@fleetplane/domain';
import { ARTIFACT_LABEL_SELECT, artifactLabel } from './artifact-label';
import { latestEngineCommands } from './drift.sql';

/** A report older than this many reporting intervals (at least a minute) is too old to judge drift on. */
const STALE_INTERVALS = 6;

export interface NodeDrift {
  nodeId: string;
  clusterId: string;
  hostname: string;
  desired: TDesiredEngine;
  verdict: TDriftVerdict;
  servedLabel: string | null;
}

/**
 * Drift for the given nodes (all nodes when omitted): the desired engine from deployments and newer
 * load/stop commands, against the latest node-state report. Three queries whatever the node count.
 */
export async function evaluateNodeDrift(db: Db, now: Date, nodeIds?: string[]): Promise<NodeDrift[]> {
  const nodes = await db.node.findMany({
    where: nodeIds ? { id: { in: nodeIds } } : undefined,
    select: { id: true, clusterId: true, hostname: true, reportIntervalSeconds: true, runtimeState: true },
  });
  if (nodes.length === 0) return [];
  const clusterIds = [...new Set(nodes.map((n) => n.clusterId))];
  const [deployments, commands] = await Promise.all([
    db.deployment.findMany({
      where: { clusterId: { in: clusterIds }, state: { in: ['active', 'rolling_out'] } },
      select: { clusterId: true, nodeId: true, state: true, startedAt: true, artifact: { select: ARTIFACT_LABEL_SELECT } },
    }),
    // Only the latest live engine command of a node can be its intent.
    latestEngineCommands(
      db,
      nodes.map((n) => n.id),
    ),
  ]);
  const artifactIds = [
    ...new Set(
      [...commands.map((c) => c.artifact_id), ...nodes.map((n) => n.runtimeState?.servedArtifactDigest)].filter((x): x is string => !!x),
    ),
  ];
  const known = await db.artifact.findMany({
    where: { OR: [{ id: { in: artifactIds } }, { digest: { in: artifactIds } }] },
    select: ARTIFACT_LABEL_SELECT,
  });
  const byId = new Map(known.map((a) => [a.id, a]));
  const byDigest = new Map(known.map((a) => [a.digest, a]));
  const desiredOf = (a: (typeof known)[number]) => ({ artifactId: a.id, digest: a.digest, label: artifactLabel(a) });

  return nodes.map((n) => {
    const desired = desiredArtifactForNode({
      nodeId: n.id,
      deployments: deployments
        .filter((d) => d.clusterId === n.clusterId)
        .map((d) => ({ nodeId: d.nodeId, state: d.state, startedAt: d.startedAt, artifact: desiredOf(d.artifact) })),
      commands: commands
        .filter((c) => c.node_id === n.id)
        .map((c) => ({
          kind: c.kind,
          state: c.state,
          issuedAt: c.issued_at,
          artifact: c.artifact_id && byId.has(c.artifact_id) ? desiredOf(byId.get(c.artifact_id)!) : null,
        })),
    });
    const rs = n.runtimeState;
    const servedArtifact = rs?.servedArtifactDigest ? byDigest.get(rs.servedArtifactDigest) : undefined;
    const servedLabel = servedArtifact ? artifactLabel(servedArtifact) : null;
    const verdict = evaluateDrift(
      desired,
      rs
        ? {
            observedAt: rs.observedAt,
            state: ZEngineState.catch('failed').parse(rs.engineState),
            servedDigest: rs.servedArtifactDigest,
            servedModelIds: rs.servedModelIds,
            servedRoot: rs.servedRoot,
            lastError: rs.lastError,
            servedLabel,
          }
        : null,
      { now, staleAfterSeconds: Math.max(60, n.reportIntervalSeconds * STALE_INTERVALS) },
    );
    return { nodeId: n.id, clusterId: n.clusterId, hostname: n.hostname, desired, verdict, servedLabel };
  });
}

/** The drift alerts the health pass reconciles with the rest. */
export async function driftAlertConditions(db: Db, now: Date): Promise<AlertCondition[]> {
  const drift = await evaluateNodeDrift(db, now);
  return drift.flatMap((d) => {
    const c = driftAlertCondition({ nodeId: d.nodeId, clusterId: d.clusterId, hostname: d.hostname }, d.verdict);
    return c ? [c] : [];
  });
}

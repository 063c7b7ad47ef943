// Staging nodes a validate step could not put back (lease phase "restore_failed"): the alerts the health pass
// reconciles for them, and what the lease sweep needs to release a lease once its node is back.
import type { Db } from '@fleetplane/db';
import { stagingRestoreAlertCondition, type AlertCondition, type StagingRestoreTarget } from '@fleetplane/domain';
import { ARTIFACT_LABEL_SELECT, artifactLabel } from '../engine/artifact-label';

/** The lease phase of a node whose restore failed: the lease stays until the node is back. */
export const RESTORE_FAILED_PHASE = 'restore_failed';

export interface FailedRestore {
  nodeId: string;
  clusterId: string;
  holderStepId: string;
  hostname: string;
  target: StagingRestoreTarget;
  error: string;
  runtime: { engineState: string; servedArtifactDigest: string | null } | null;
}

/** Every lease whose restore failed, with what its node should serve and what its agent last reported. */
export async function failedStagingRestores(db: Db): Promise<FailedRestore[]> {
  const leases = await db.stagingNodeLease.findMany({
    where: { phase: RESTORE_FAILED_PHASE },
    select: {
      nodeId: true,
      clusterId: true,
      holderStepId: true,
      restoreKind: true,
      restoreArtifactId: true,
      restoreError: true,
      node: { select: { hostname: true, runtimeState: { select: { engineState: true, servedArtifactDigest: true } } } },
    },
  });
  if (leases.length === 0) return [];
  const artifactIds = leases.flatMap((l) => (l.restoreArtifactId ? [l.restoreArtifactId] : []));
  const artifacts = new Map(
    (await db.artifact.findMany({ where: { id: { in: artifactIds } }, select: ARTIFACT_LABEL_SELECT })).map((a) => [a.id, a]),
  );
  return leases.map((l) => {
    const a = l.restoreArtifactId ? artifacts.get(l.restoreArtifactId) : undefined;
    const target: StagingRestoreTarget =
      l.restoreKind === 'load'
        ? { kind: 'load', digest: a?.digest ?? '(artifact deleted)', label: a ? artifactLabel(a) : `artifact ${l.restoreArtifactId}` }
        : { kind: 'stop' };
    return {
      nodeId: l.nodeId,
      clusterId: l.clusterId,
      holderStepId: l.holderStepId,
      hostname: l.node.hostname,
      target,
      error: l.restoreError ?? 'the restore command did not succeed',
      runtime: l.node.runtimeState,
    };
  });
}

/** The failed-restore alerts the health pass reconciles with the rest (one per node not put back). */
export async function stagingRestoreAlertConditions(db: Db): Promise<AlertCondition[]> {
  return (await failedStagingRestores(db)).flatMap((r) => {
    const c = stagingRestoreAlertCondition(r, r.runtime);
    return c ? [c] : [];
  });
}

/** Nodes with a staging_restore_failed alert still open (or acknowledged): drift stands down on them. */
export async function openStagingRestoreAlertNodeIds(db: Db): Promise<(string | null)[]> {
  const open = await db.alert.findMany({
    where: { rule: 'staging_restore_failed', state: { in: ['open', 'acknowledged'] } },
    select: { nodeId: true },
  });
  return open.map((a) => a.nodeId);
}

import { alertNotificationJob, alertNotificationJobId, type TAlertTransition } from '@fleetplane/contracts';
import { AuditRepository, type AuditActor, type Db, type PrismaClient } from '@fleetplane/db';
import {
  alertConditionsFromHealth,
  DEFAULT_HEALTH_THRESHOLDS,
  driftAlertsNotCoveredByStagingRestore,
  evaluateGpuHealth,
  evaluateNodeHealth,
  reconcileAlerts,
  resolveHealthThresholds,
  rollUpClusterHealth,
  sameHealthReasons,
  type AlertCondition,
  type GpuAlertInput,
  type HealthReason,
  type HealthStatus,
  type THealthThresholds,
} from '@fleetplane/domain';
import type { JobProducer } from '@fleetplane/queue';
import { newRowId } from '../shared/ids';
import { addToOutbox, dispatchOutbox } from '../outbox/outbox.service';
import { loadGpuInputs } from './health-inputs';
import { openAlertOnce, updateLiveAlerts, writeClusterHealth, writeVerdicts } from './evaluate-health.sql';
import { tryLockKey } from '../shared/locks.sql';
import { driftAlertConditions } from '../engine/drift.service';
import { openStagingRestoreAlertNodeIds, stagingRestoreAlertConditions } from '../pipelines/staging-restore-alerts.service';

/** Admin-editable thresholds (JSON, validated strictly); defaults when unset. */
export const HEALTH_THRESHOLDS_KEY = 'health.thresholds';

export const HEALTH_EVALUATOR: AuditActor = { type: 'system', id: null, label: 'health-evaluator' };

export interface EvaluateHealthOptions {
  now?: Date;
  /** Queue a webhook notification (through the outbox) for each alert transition. */
  notify?: boolean;
  /** Dispatches the outbox right after commit; without it the outbox sweeper does within seconds. */
  producer?: JobProducer;
  holdDownSeconds?: number;
  log?: { warn(obj: object, msg: string): void };
}

export interface EvaluateHealthResult {
  skipped: boolean;
  gpus: number;
  nodes: number;
  clusters: number;
  changed: { gpus: number; nodes: number; clusters: number };
  alerts: { opened: number; resolved: number; updated: number; escalated: number };
}

async function loadThresholds(prisma: PrismaClient, log?: EvaluateHealthOptions['log']): Promise<THealthThresholds> {
  const setting = await prisma.setting.findUnique({ where: { key: HEALTH_THRESHOLDS_KEY } });
  if (!setting) return DEFAULT_HEALTH_THRESHOLDS;
  try {
    return resolveHealthThresholds(setting.value);
  } catch (e) {
    // A bad setting must not stop health evaluation: say so loudly and keep judging with the defaults.
    log?.warn({ key: HEALTH_THRESHOLDS_KEY }, `${(e as Error).message}; using the default thresholds`);
    return DEFAULT_HEALTH_THRESHOLDS;
  }
}

/**
 * One health pass over the fleet: every GPU from its newest sample, its corrected-ECC history and its
 * XIDs; every node from its liveness and GPUs; every cluster from its nodes. Changed verdicts are
 * written, alerts are reconciled (one live alert per fingerprint, enforced by alert.active_key), and
 * each alert transition is audited and, with `notify`, queued for the webhook in the same transaction.
 * Runs are serialised by an advisory lock: an overlapping run returns `skipped`.
 */
export async function evaluateFleetHealth(prisma: PrismaClient, opts: EvaluateHealthOptions = {}): Promise<EvaluateHealthResult> {
  const now = opts.now ?? new Date();
  const thresholds = await loadThresholds(prisma, opts.log);
  const inputs = await loadGpuInputs(prisma, now, thresholds);

  const gpuVerdicts = inputs.gpus.map((g) => ({
    gpu: g,
    health: evaluateGpuHealth({ latest: g.latest, recent: g.recent, xids: g.xids, thresholds, now }),
  }));
  const gpuStatusesByNode = new Map<string, HealthStatus[]>();
  for (const v of gpuVerdicts) {
    const list = gpuStatusesByNode.get(v.gpu.nodeId) ?? [];
    list.push(v.health.status);
    gpuStatusesByNode.set(v.gpu.nodeId, list);
  }
  const nodeVerdicts = inputs.nodes.map((n) => ({
    node: n,
    health: evaluateNodeHealth({
      lastSeenAt: n.lastSeenAt,
      reportIntervalSeconds: n.reportIntervalSeconds,
      now,
      gpuStatuses: (gpuStatusesByNode.get(n.id) ?? []) as Exclude<HealthStatus, 'offline'>[],
      clockOffsetMs: n.clockOffsetMs,
    }),
  }));
  const nodeStatusesByCluster = new Map<string, HealthStatus[]>();
  for (const v of nodeVerdicts) {
    const list = nodeStatusesByCluster.get(v.node.clusterId) ?? [];
    list.push(v.health.status);
    nodeStatusesByCluster.set(v.node.clusterId, list);
  }
  const clusterVerdicts = inputs.clusters.map((c) => ({ cluster: c, status: rollUpClusterHealth(nodeStatusesByCluster.get(c.id) ?? []) }));

  const conditions = alertConditionsFromHealth({
    gpus: gpuVerdicts.map((v): GpuAlertInput => ({
      gpuId: v.gpu.id,
      uuid: v.gpu.uuid,
      nodeId: v.gpu.nodeId,
      clusterId: v.gpu.clusterId,
      hostname: v.gpu.hostname,
      index: v.gpu.index,
      reasons: v.health.reasons,
    })),
    nodes: nodeVerdicts.map((v) => ({
      nodeId: v.node.id,
      clusterId: v.node.clusterId,
      hostname: v.node.hostname,
      status: v.health.status,
      reasons: v.health.reasons,
    })),
  });

  // Engine drift (what a node really serves against its desired artifact) raises its alerts through the same reconciliation.
  // So does a staging node a validate step could not put back, until it serves what it served before; drift stands
  // down on such a node while that alert is open or opening (one problem, one alert).
  const restoreConditions = await stagingRestoreAlertConditions(prisma);
  const restoreNodeIds = [...restoreConditions.map((c) => c.nodeId ?? null), ...(await openStagingRestoreAlertNodeIds(prisma))];
  conditions.push(...driftAlertsNotCoveredByStagingRestore(await driftAlertConditions(prisma, now), restoreNodeIds));
  conditions.push(...restoreConditions);

  const changedGpus = gpuVerdicts.filter(
    (v) => v.gpu.health !== v.health.status || !sameHealthReasons(v.gpu.healthReasons, v.health.reasons),
  );
  const changedNodes = nodeVerdicts.filter(
    (v) => v.node.health !== v.health.status || !sameHealthReasons(v.node.healthReasons, v.health.reasons),
  );
  const changedClusters = clusterVerdicts.filter((v) => v.cluster.health !== v.status);

  const result = await prisma.$transaction(
    async (tx) => {
      if (!(await tryLockKey(tx, 'fleetplane.evaluate-health'))) return null;
      const reconciled = await reconcile(tx, conditions, now, opts);
      // Verdicts last: every ingest batch updates its node's and GPUs' rows too, so the row locks these
      // updates take are held from here to the commit only, not through the alert reconciliation.
      const written = await writeHealth(tx, changedGpus, changedNodes, changedClusters);
      return { ...reconciled, written };
    },
    { timeout: 60_000, maxWait: 10_000 },
  );
  if (!result) {
    return {
      skipped: true,
      gpus: 0,
      nodes: 0,
      clusters: 0,
      changed: { gpus: 0, nodes: 0, clusters: 0 },
      alerts: { opened: 0, resolved: 0, updated: 0, escalated: 0 },
    };
  }
  if (opts.producer && result.transitions > 0) await dispatchOutbox(prisma, opts.producer);
  return {
    skipped: false,
    gpus: gpuVerdicts.length,
    nodes: nodeVerdicts.length,
    clusters: clusterVerdicts.length,
    changed: result.written,
    alerts: result.alerts,
  };
}

/**
 * Nodes before GPUs: the order ingest's write statement locks a node's rows in (its node, then its GPUs), so a
 * batch and the pass never wait on each other in a cycle (a deadlock Postgres would break after a second by
 * aborting one of them).
 */
async function writeHealth(
  tx: Db,
  gpus: { gpu: { id: string }; health: { status: HealthStatus; reasons: HealthReason[] } }[],
  nodes: { node: { id: string }; health: { status: HealthStatus; reasons: HealthReason[] } }[],
  clusters: { cluster: { id: string }; status: HealthStatus }[],
): Promise<EvaluateHealthResult['changed']> {
  const written = { gpus: 0, nodes: 0, clusters: 0 };
  written.nodes = await writeVerdicts(
    tx,
    'node',
    nodes.map((v) => ({ id: v.node.id, status: v.health.status, reasons: v.health.reasons })),
  );
  written.gpus = await writeVerdicts(
    tx,
    'gpu',
    gpus.map((v) => ({ id: v.gpu.id, status: v.health.status, reasons: v.health.reasons })),
  );
  written.clusters = await writeClusterHealth(
    tx,
    clusters.map((v) => ({ id: v.cluster.id, status: v.status })),
  );
  return written;
}

async function reconcile(tx: Db, conditions: AlertCondition[], now: Date, opts: EvaluateHealthOptions) {
  const active = await tx.alert.findMany({
    where: { state: { in: ['open', 'acknowledged'] } },
    select: { id: true, fingerprint: true, severity: true, state: true, lastSeenAt: true, title: true },
  });
  const plan = reconcileAlerts({
    conditions,
    active: active.map((a) => ({
      id: a.id,
      fingerprint: a.fingerprint,
      severity: a.severity,
      state: a.state as 'open' | 'acknowledged',
      lastSeenAt: a.lastSeenAt,
    })),
    now,
    holdDownSeconds: opts.holdDownSeconds,
  });
  const audit = new AuditRepository(tx);
  const transitions: { alertId: string; transition: TAlertTransition }[] = [];
  let opened = 0;

  for (const c of plan.open) {
    const id = newRowId();
    if (!(await openAlertOnce(tx, id, c, now))) continue;
    opened += 1;
    transitions.push({ alertId: id, transition: 'opened' });
    await audit.record(HEALTH_EVALUATOR, {
      action: 'alert.open',
      targetType: 'alert',
      targetId: id,
      after: { fingerprint: c.fingerprint, rule: c.rule, severity: c.severity, title: c.title, details: c.details },
    });
  }

  if (plan.resolve.length > 0) {
    await tx.alert.updateMany({ where: { id: { in: plan.resolve } }, data: { state: 'resolved', resolvedAt: now, activeKey: null } });
    const byId = new Map(active.map((a) => [a.id, a]));
    for (const id of plan.resolve) {
      transitions.push({ alertId: id, transition: 'resolved' });
      const a = byId.get(id);
      await audit.record(HEALTH_EVALUATOR, {
        action: 'alert.resolve',
        targetType: 'alert',
        targetId: id,
        before: { state: a?.state, fingerprint: a?.fingerprint },
        after: { state: 'resolved', title: a?.title },
      });
    }
  }

  const details = new Map(conditions.map((c) => [c.fingerprint, c.details]));
  const activeById = new Map(active.map((a) => [a.id, a]));
  await updateLiveAlerts(
    tx,
    plan.update.map((u) => ({
      id: u.id,
      severity: u.severity,
      seen: u.lastSeenAt,
      details: details.get(activeById.get(u.id)?.fingerprint ?? '') ?? null,
    })),
  );
  const escalated = plan.update.filter((u) => u.escalated);
  for (const u of escalated) {
    transitions.push({ alertId: u.id, transition: 'escalated' });
    await audit.record(HEALTH_EVALUATOR, {
      action: 'alert.escalate',
      targetType: 'alert',
      targetId: u.id,
      after: { severity: u.severity },
    });
  }

  if (opts.notify) {
    for (const t of transitions) await addToOutbox(tx, alertNotificationJob, t, alertNotificationJobId(t.alertId, t.transition));
  }
  return {
    transitions: opts.notify ? transitions.length : 0,
    alerts: { opened, resolved: plan.resolve.length, updated: plan.update.length, escalated: escalated.length },
  };
}

import type { TEngineState } from '@fleetplane/contracts';
import type { AlertCondition } from '../health/alert-reconcile';

/**
 * Drift: what a node's engine really serves (the agent's report, read from the engine itself) against
 * what it should serve. "Should" is the latest intent for the node: its newest active deployment
 * (node-specific before cluster-wide), unless a load or stop command issued after that deployment says
 * otherwise (an operator's load, a pipeline's staging load, a rollout step), as long as that command
 * has not failed, been cancelled or expired.
 */

export interface TDesiredArtifact {
  artifactId: string;
  digest: string;
  label: string;
}

export type TDesiredEngine =
  | { kind: 'artifact'; artifact: TDesiredArtifact; source: 'deployment' | 'command' }
  | { kind: 'stopped'; source: 'command' }
  | { kind: 'none' };

export interface TDeploymentForNode {
  nodeId: string | null;
  state: 'pending' | 'rolling_out' | 'active' | 'rolled_back' | 'retired' | 'failed';
  startedAt: Date;
  artifact: TDesiredArtifact;
}

export interface TEngineCommandForNode {
  kind: 'load_artifact' | 'stop_engine';
  state: 'queued' | 'delivered' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'expired';
  issuedAt: Date;
  /** Set for load_artifact. */
  artifact: TDesiredArtifact | null;
}

const DEPLOYED_STATES = new Set<TDeploymentForNode['state']>(['active', 'rolling_out']);
const ABANDONED_COMMAND_STATES = new Set<TEngineCommandForNode['state']>(['failed', 'cancelled', 'expired']);

export function desiredArtifactForNode(input: {
  nodeId: string;
  /** The cluster's deployments (cluster-wide ones have nodeId null). */
  deployments: readonly TDeploymentForNode[];
  /** The node's load_artifact / stop_engine commands, any order. */
  commands: readonly TEngineCommandForNode[];
}): TDesiredEngine {
  const live = input.deployments.filter((d) => DEPLOYED_STATES.has(d.state));
  const newest = (list: TDeploymentForNode[]) => list.sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime())[0] ?? null;
  const deployment = newest(live.filter((d) => d.nodeId === input.nodeId)) ?? newest(live.filter((d) => d.nodeId === null));
  const command =
    input.commands
      .filter((c) => !ABANDONED_COMMAND_STATES.has(c.state) && (c.kind === 'stop_engine' || c.artifact))
      .sort((a, b) => b.issuedAt.getTime() - a.issuedAt.getTime())[0] ?? null;
  if (command && (!deployment || command.issuedAt.getTime() > deployment.startedAt.getTime())) {
    return command.kind === 'stop_engine'
      ? { kind: 'stopped', source: 'command' }
      : { kind: 'artifact', artifact: command.artifact!, source: 'command' };
  }
  if (deployment) return { kind: 'artifact', artifact: deployment.artifact, source: 'deployment' };
  return { kind: 'none' };
}

export interface TReportedEngine {
  observedAt: Date;
  state: TEngineState;
  servedDigest: string | null;
  servedModelIds: readonly string[];
  servedRoot: string | null;
  lastError: string | null;
  /** The served digest's artifact label when the control plane knows that artifact. */
  servedLabel?: string | null;
}

export type TDriftStatus =
  /** Serves what it should. */
  | 'in_sync'
  /** Serves something else, or nothing while it should serve something: alert. */
  | 'drift'
  /** Starting, draining or stopping: no verdict until it settles. */
  | 'changing'
  /** No report, or the report is too old to judge (an offline node raises its own alert). */
  | 'unknown'
  /** Nothing is desired for this node. */
  | 'no_desired';

export interface TDriftVerdict {
  status: TDriftStatus;
  /** Plain sentence for people: "serving X, expected Y". */
  message: string | null;
  /** A stopped, crashed or failed engine that should serve is critical; serving the wrong artifact is a warning. */
  severity: 'warning' | 'critical' | null;
}

const short = (digest: string) => digest.slice(0, 12);

function describeServed(r: TReportedEngine): string {
  if (r.servedDigest) return r.servedLabel ? `${r.servedLabel} (${short(r.servedDigest)})` : `an unknown artifact ${short(r.servedDigest)}`;
  const what = r.servedModelIds[0] ?? r.servedRoot;
  return what ? `${what} with no artifact identity${r.servedRoot ? ` at ${r.servedRoot}` : ''}` : 'nothing it could identify';
}

export function evaluateDrift(
  desired: TDesiredEngine,
  reported: TReportedEngine | null,
  opts: { now: Date; staleAfterSeconds: number },
): TDriftVerdict {
  if (desired.kind === 'none') return { status: 'no_desired', message: null, severity: null };
  if (!reported) return { status: 'unknown', message: 'The agent has not reported its engine yet', severity: null };
  const ageS = (opts.now.getTime() - reported.observedAt.getTime()) / 1000;
  if (ageS > opts.staleAfterSeconds)
    return { status: 'unknown', message: `The last engine report is ${Math.round(ageS)} s old`, severity: null };
  if (reported.state === 'starting' || reported.state === 'draining' || reported.state === 'stopping')
    return { status: 'changing', message: `The engine is ${reported.state}`, severity: null };

  if (desired.kind === 'stopped') {
    if (reported.state === 'ready')
      return { status: 'drift', message: `serving ${describeServed(reported)}, expected the engine stopped`, severity: 'warning' };
    return { status: 'in_sync', message: null, severity: null };
  }
  const expected = `${desired.artifact.label} (${short(desired.artifact.digest)})`;
  if (reported.state !== 'ready') {
    const why = reported.lastError ? `: ${reported.lastError.split('\n')[0]!.slice(0, 200)}` : '';
    return { status: 'drift', message: `engine ${reported.state}${why}, expected ${expected}`, severity: 'critical' };
  }
  if (reported.servedDigest === desired.artifact.digest) return { status: 'in_sync', message: null, severity: null };
  return { status: 'drift', message: `serving ${describeServed(reported)}, expected ${expected}`, severity: 'warning' };
}

export function engineDriftFingerprint(nodeId: string): string {
  return `node:${nodeId}:engine_drift`;
}

/** The alert a drifting node raises through the health pass's reconciliation; null when not drifting. */
export function driftAlertCondition(
  node: { nodeId: string; clusterId: string; hostname: string },
  verdict: TDriftVerdict,
): AlertCondition | null {
  if (verdict.status !== 'drift') return null;
  return {
    fingerprint: engineDriftFingerprint(node.nodeId),
    rule: 'engine_drift',
    severity: verdict.severity ?? 'warning',
    // No live details in the title (alert-conditions.ts): the message carries them.
    title: `${node.hostname} engine does not serve its desired artifact`,
    details: { message: verdict.message, hostname: node.hostname },
    clusterId: node.clusterId,
    nodeId: node.nodeId,
  };
}

/**
 * One problem, one alert. A staging node whose restore failed after a validation does not serve what it should,
 * and `staging_restore_failed` already says so (critical, naming the artifact it expected and why the restore
 * failed); drift on the same node would be a second alert for that one problem. So drift stands down on a node
 * while a staging_restore_failed alert is open for it (or opens in this same health pass), and speaks again
 * once that alert is gone. Other nodes' drift is untouched.
 */
export function driftAlertsNotCoveredByStagingRestore(
  drift: readonly AlertCondition[],
  stagingRestoreFailedNodeIds: Iterable<string | null>,
): AlertCondition[] {
  const covered = new Set(stagingRestoreFailedNodeIds);
  return drift.filter((c) => c.nodeId == null || !covered.has(c.nodeId));
}

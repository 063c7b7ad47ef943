// The pipeline's validate stage borrows one node of a cluster (its staging node) to load a candidate
// artifact on, then puts the node back. The decisions around that borrowing are pure and live here:
// whether the node may be used, whether this step may take it now, what to put back afterwards and
// which earlier run the candidate is compared with. The services feed them facts from Postgres.

import type { AlertCondition } from '../health/alert-reconcile';
import { MISSED_INTERVALS_BEFORE_OFFLINE } from '../health/node-health';

/** The suite a cluster's validate stage runs when the cluster names none (cluster.gating_suite_name). */
export const DEFAULT_GATING_SUITE_NAME = 'release-gate';

/** How long a lease lives without being renewed; the step renews it every few seconds while it works. */
export const STAGING_LEASE_TTL_MS = 90_000;
/** How often the step holding a lease renews it (well inside the TTL, so one slow write never loses it). */
export const STAGING_LEASE_RENEW_MS = 10_000;

export type NodeHealthStatus = 'unknown' | 'healthy' | 'warning' | 'critical' | 'offline';

export interface StagingNodeFacts {
  clusterName: string;
  /** The cluster's staging node setting, resolved; null when none is set. */
  node: {
    id: string;
    hostname: string;
    /** The node's clusterId must be the cluster's (a moved node is refused). */
    inCluster: boolean;
    health: NodeHealthStatus;
    /** The health evaluator's reasons (messages), shown when the node is refused. */
    healthReasons: readonly string[];
    lastSeenAt: Date | null;
    reportIntervalSeconds: number;
  } | null;
  now: Date;
}

export type StagingNodeRefusal = 'no_staging_node' | 'not_in_cluster' | 'never_seen' | 'offline' | 'unhealthy';

export type StagingNodeChoice = { ok: true; nodeId: string; hostname: string } | { ok: false; code: StagingNodeRefusal; reason: string };

/**
 * May the validate stage use the cluster's staging node? A warning (a clock a little off, one GPU with a
 * warning) does not stop it: the suite itself judges the serving quality. Critical, offline and a node
 * that never reported do, with the reason in words an operator can act on.
 */
export function chooseStagingNode(f: StagingNodeFacts): StagingNodeChoice {
  const n = f.node;
  if (!n)
    return {
      ok: false,
      code: 'no_staging_node',
      reason: `No staging node configured for cluster "${f.clusterName}": choose one in the cluster's settings so candidates can be validated on real hardware.`,
    };
  const name = `Staging node "${n.hostname}" of cluster "${f.clusterName}"`;
  if (!n.inCluster)
    return { ok: false, code: 'not_in_cluster', reason: `${name} no longer belongs to that cluster; choose another staging node.` };
  if (n.lastSeenAt === null)
    return { ok: false, code: 'never_seen', reason: `${name} has never reported: its agent is not running or not enrolled.` };
  const silentMs = f.now.getTime() - n.lastSeenAt.getTime();
  const limitMs = MISSED_INTERVALS_BEFORE_OFFLINE * n.reportIntervalSeconds * 1000;
  // The stored health is judged by a periodic pass; a node silent past the offline limit is offline now.
  if (n.health === 'offline' || silentMs > limitMs)
    return {
      ok: false,
      code: 'offline',
      reason: `${name} is offline: no report for ${Math.round(silentMs / 1000)} s (limit ${Math.round(limitMs / 1000)} s).`,
    };
  if (n.health === 'critical')
    return {
      ok: false,
      code: 'unhealthy',
      reason: `${name} is unhealthy (critical)${n.healthReasons.length ? `: ${n.healthReasons.join('; ')}` : ''}. Fix it or choose another staging node.`,
    };
  return { ok: true, nodeId: n.id, hostname: n.hostname };
}

export interface StagingLeaseFacts {
  lease: { holderStepId: string; expiresAt: Date } | null;
  stepId: string;
  now: Date;
}

export type StagingLeaseDecision =
  /** Nobody holds the node: take it and record what to restore. */
  | { action: 'acquire' }
  /** This step already holds it (its job was delivered again after a crash): keep the recorded restore plan. */
  | { action: 'resume' }
  /** Another step's live lease: wait for it to finish and put the node back. */
  | { action: 'wait'; holderStepId: string; expiresAt: Date }
  /** Another step's lease expired (its worker died): restore the node from that lease, then take it. */
  | { action: 'recover'; holderStepId: string };

export function decideStagingLease(f: StagingLeaseFacts): StagingLeaseDecision {
  if (!f.lease) return { action: 'acquire' };
  if (f.lease.holderStepId === f.stepId) return { action: 'resume' };
  if (f.lease.expiresAt.getTime() > f.now.getTime())
    return { action: 'wait', holderStepId: f.lease.holderStepId, expiresAt: f.lease.expiresAt };
  return { action: 'recover', holderStepId: f.lease.holderStepId };
}

export interface RestoreFacts {
  /** What the agent last reported its engine serving; null when it never reported node state. */
  runtime: { engineState: string; servedArtifactDigest: string | null } | null;
  /** The artifact the runtime's digest belongs to, when Fleetplane knows it. */
  servedArtifact: { id: string; label: string } | null;
  /** The node's desired deployment (its own, else the cluster-wide active one). */
  desired: { id: string; label: string; digest: string } | null;
  candidate: { id: string; digest: string };
}

export type RestorePlan =
  | { kind: 'load'; artifactId: string; label: string; reason: string }
  | { kind: 'stop'; reason: string }
  | { kind: 'refuse'; reason: string };

const SERVING_STATES = new Set(['ready', 'starting', 'draining']);

/**
 * What to put back on the staging node after the candidate ran there: the artifact it served before, or a
 * stopped engine if it served nothing. When the agent's report cannot say (no report, or it already
 * serves the candidate because an earlier attempt never restored it), the node's desired deployment is
 * what it should serve. A node serving bytes Fleetplane does not know cannot be put back: refuse rather
 * than leave it different from how it was found.
 */
export function planStagingRestore(f: RestoreFacts): RestorePlan {
  const fromDesired = (why: string): RestorePlan =>
    f.desired && f.desired.id !== f.candidate.id
      ? { kind: 'load', artifactId: f.desired.id, label: f.desired.label, reason: `${why}; its deployment says ${f.desired.label}` }
      : { kind: 'stop', reason: `${why} and it has no deployment; the engine will be stopped afterwards` };
  if (!f.runtime) return fromDesired('The agent has not reported what the node serves');
  const serving = SERVING_STATES.has(f.runtime.engineState);
  const digest = f.runtime.servedArtifactDigest;
  if (!serving || !digest) {
    if (!serving) return { kind: 'stop', reason: `The node's engine was ${f.runtime.engineState}; it will be stopped afterwards` };
    return fromDesired('The engine serves a model without an artifact digest');
  }
  if (digest === f.candidate.digest) return fromDesired('The node already serves the candidate (an earlier attempt did not put it back)');
  if (f.servedArtifact)
    return {
      kind: 'load',
      artifactId: f.servedArtifact.id,
      label: f.servedArtifact.label,
      reason: `The node served ${f.servedArtifact.label}; it will be loaded again afterwards`,
    };
  if (f.desired && f.desired.digest !== f.candidate.digest)
    return fromDesired(`The node serves an artifact Fleetplane does not know (digest ${digest.slice(0, 12)}…)`);
  return {
    kind: 'refuse',
    reason: `The staging node serves an artifact Fleetplane does not know (digest ${digest.slice(0, 12)}…) and has no deployment to go back to, so it could not be put back after validation.`,
  };
}

export interface BaselineCandidateRun {
  id: string;
  clusterId: string;
  artifactId: string | null;
  suiteName: string;
  state: string;
  verdict: string | null;
  finishedAt: Date | null;
}

/**
 * The baseline of a staging validation: the latest passing run of the artifact the cluster serves now, on
 * the same suite, preferring runs on this cluster (same hardware) over runs elsewhere. No serving artifact
 * (a cluster not deployed yet) or no such run: no baseline, and the verdict rests on the checks alone.
 */
export function chooseStagingBaseline(
  runs: readonly BaselineCandidateRun[],
  want: { servingArtifactId: string | null; clusterId: string; suiteName: string; excludeRunId?: string },
): string | null {
  if (!want.servingArtifactId) return null;
  const passing = runs.filter(
    (r) =>
      r.id !== want.excludeRunId &&
      r.artifactId === want.servingArtifactId &&
      r.suiteName === want.suiteName &&
      r.state === 'succeeded' &&
      r.verdict === 'pass' &&
      r.finishedAt !== null,
  );
  const newest = (xs: BaselineCandidateRun[]) => xs.sort((a, b) => b.finishedAt!.getTime() - a.finishedAt!.getTime())[0] ?? null;
  return (newest(passing.filter((r) => r.clusterId === want.clusterId)) ?? newest(passing))?.id ?? null;
}

/**
 * The dedupe key of a command a validate step sends to its staging node. One key per (pipeline run, step,
 * lease, purpose): a job delivered again after a crash resumes the same lease and gets the command it
 * already issued back instead of a second one, while an operator's retry of a failed step (whose lease
 * was released after the node was put back) takes a new lease and so loads the candidate afresh.
 */
export function stagingCommandKey(input: { runId: string; stepId: string; leaseAcquiredAt: Date; purpose: 'load' | 'restore' }): string {
  return `pipeline:${input.runId}:${input.stepId}:${input.leaseAcquiredAt.getTime()}:${input.purpose}`;
}

export interface StagingCommandOutcome {
  state: string;
  error: string | null;
  /** The agent's result for a finished load (ZEngineReadyResult), parsed by the caller; null when absent or malformed. */
  ready: { endpointUrl: string; servedModelIds: readonly string[]; artifactDigest: string | null } | null;
}

/**
 * Whether a finished load leaves the candidate serving on the staging node, and if not, why in words an
 * operator can act on. A load the agent calls a success but whose engine serves other bytes (or names no
 * endpoint) is not a success: the suite would measure something other than the candidate.
 */
export function judgeStagingLoad(
  o: StagingCommandOutcome,
  want: { hostname: string; candidateDigest: string; servedModelName: string },
): { ok: true; endpointUrl: string } | { ok: false; reason: string } {
  const on = `on staging node "${want.hostname}"`;
  if (o.state === 'cancelled') return { ok: false, reason: `Loading the candidate ${on} was cancelled${o.error ? `: ${o.error}` : ''}.` };
  if (o.state === 'expired')
    return { ok: false, reason: `Loading the candidate ${on} expired before the agent finished it${o.error ? `: ${o.error}` : ''}.` };
  if (o.state !== 'succeeded')
    return { ok: false, reason: `Loading the candidate ${on} failed: ${o.error ?? `the command ended ${o.state}`}.` };
  if (!o.ready) return { ok: false, reason: `The agent ${on} reported the load finished but not which endpoint serves it.` };
  if (o.ready.artifactDigest !== null && o.ready.artifactDigest !== want.candidateDigest)
    return {
      ok: false,
      reason: `The engine ${on} serves artifact ${o.ready.artifactDigest.slice(0, 12)}…, not the candidate ${want.candidateDigest.slice(0, 12)}….`,
    };
  if (o.ready.servedModelIds.length > 0 && !o.ready.servedModelIds.includes(want.servedModelName))
    return {
      ok: false,
      reason: `The engine ${on} lists ${o.ready.servedModelIds.join(', ')} but not the model "${want.servedModelName}" the suite would ask for.`,
    };
  return { ok: true, endpointUrl: o.ready.endpointUrl };
}

/** What a staging node must be brought back to: the artifact it served before, or a stopped engine. */
export type StagingRestoreTarget = { kind: 'load'; digest: string; label: string } | { kind: 'stop' };

/** Whether the node is as its lease found it, by its agent's last report: serving the expected artifact, or stopped. */
export function isStagingNodePutBack(
  target: StagingRestoreTarget,
  runtime: { engineState: string; servedArtifactDigest: string | null } | null,
): boolean {
  if (!runtime) return false;
  if (target.kind === 'stop') return runtime.engineState === 'stopped';
  return runtime.engineState === 'ready' && runtime.servedArtifactDigest === target.digest;
}

export function stagingRestoreFingerprint(nodeId: string): string {
  return `node:${nodeId}:staging_restore_failed`;
}

/**
 * The alert of a staging node whose restore failed after a validation, through the health pass's
 * reconciliation like drift: live while the node is not put back, gone (so the alert resolves) once its
 * agent reports it serving the expected artifact again (or stopped, when it served nothing before).
 * Critical: the node may still serve the unapproved candidate, or nothing.
 */
export function stagingRestoreAlertCondition(
  f: { nodeId: string; clusterId: string; hostname: string; target: StagingRestoreTarget; error: string },
  runtime: { engineState: string; servedArtifactDigest: string | null } | null,
): AlertCondition | null {
  if (isStagingNodePutBack(f.target, runtime)) return null;
  const expected = f.target.kind === 'load' ? `${f.target.label} (${f.target.digest.slice(0, 12)})` : 'its engine stopped';
  return {
    fingerprint: stagingRestoreFingerprint(f.nodeId),
    rule: 'staging_restore_failed',
    severity: 'critical',
    title: `${f.hostname} was not put back after a staging validation`,
    details: {
      message: `Expected ${expected}; the restore failed: ${f.error}`,
      hostname: f.hostname,
      expectedArtifact: f.target.kind === 'load' ? f.target.label : null,
      expectedDigest: f.target.kind === 'load' ? f.target.digest : null,
      reason: f.error,
    },
    clusterId: f.clusterId,
    nodeId: f.nodeId,
  };
}

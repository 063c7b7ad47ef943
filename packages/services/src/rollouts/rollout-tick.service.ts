import {
  readRolloutPolicy,
  TERMINAL_NODE_COMMAND_STATES,
  type TAgentCommandBody,
  type TRolloutPolicy,
  type TRolloutState,
} from '@fleetplane/contracts';
import type { Db, PrismaClient } from '@fleetplane/db';
import {
  evaluateCheck,
  measureCheck,
  MISSED_INTERVALS_BEFORE_OFFLINE,
  windowOutcome,
  type EngineScrape,
  type HistogramBucket,
  type NodeWindow,
  countOf,
} from '@fleetplane/domain';
import { ZodError } from 'zod';
import { ServiceError } from '../errors';
import { markProposalRolledOut } from '../proposals/decisions.service';
import { artifactRefFor } from '../artifacts/artifact-ref';
import { engineLaunchSpecFor } from '../engine/launch-spec.service';
import { issueNodeCommand, nodeCommandStates } from '../node-commands/node-commands.service';
import { lockRow } from '../shared/locks.sql';

/**
 * The rollout engine: one pass over every live rollout, each advanced from its stored state in its own
 * transaction under a row lock (SKIP LOCKED: a second worker leaves it alone). Commands are issued in the
 * same transaction that records their ids, so a pass that dies half-way issues nothing twice; agents
 * execute them with "ensure" semantics. Nothing is held in memory between passes.
 */

export interface RolloutTickOptions {
  now?: Date;
  log?: { info: (o: object, msg: string) => void; warn: (o: object, msg: string) => void };
}

type Tx = Db;
type RolloutRow = NonNullable<Awaited<ReturnType<typeof loadRollout>>>;

const LIVE_STATES: TRolloutState[] = ['pending', 'prefetching', 'canary', 'analysing', 'waves', 'rolling_back'];
const FAILED_COMMAND = ['failed', 'cancelled', 'expired'];
const origin = (rolloutId: string) => `rollout:${rolloutId}`;
/**
 * The command service dedupes per (node, key) across every issuer, so the key carries the rollout: a later
 * rollout of the same artifact to the same node (a re-try, a rollback to it) must get a command of its own.
 */
const dedupeKey = (rolloutId: string, what: string) => `rollout:${rolloutId}:${what}`;

export async function advanceRollouts(prisma: PrismaClient, opts: RolloutTickOptions = {}): Promise<{ advanced: number }> {
  const now = opts.now ?? new Date();
  const live = await prisma.rollout.findMany({
    where: { state: { in: LIVE_STATES } },
    select: { id: true },
    orderBy: { createdAt: 'asc' },
  });
  let advanced = 0;
  for (const { id } of live) {
    try {
      if (await advanceRollout(prisma, id, now)) advanced++;
    } catch (err) {
      // One broken rollout must not stop the others; it is tried again on the next pass.
      opts.log?.warn({ rolloutId: id, err: (err as Error).message }, 'rollout pass failed');
    }
  }
  return { advanced };
}

async function loadRollout(tx: Tx, id: string) {
  return tx.rollout.findUnique({
    where: { id },
    include: {
      nodes: { include: { node: { select: { id: true, hostname: true, lastSeenAt: true, reportIntervalSeconds: true } } } },
      cluster: { select: { id: true, name: true } },
    },
  });
}

/**
 * An error no later pass can get past: stored data the command contract refuses (a ZodError), an artifact
 * no longer deliverable, a row gone. Anything else (a lost connection, a lock timeout) is retried.
 */
function isPermanent(err: unknown): boolean {
  if (err instanceof ZodError) return true;
  return err instanceof ServiceError && ['precondition', 'not_found', 'invalid'].includes(err.kind);
}

/** Advances one rollout if nobody else is; true when it was looked at. */
export async function advanceRollout(prisma: PrismaClient, id: string, now = new Date()): Promise<boolean> {
  try {
    return await advanceRolloutOnce(prisma, id, now);
  } catch (err) {
    if (!isPermanent(err)) throw err;
    // The failed pass wrote nothing (its transaction rolled back); end the rollout from its stored state,
    // saying why, instead of retrying the same pass forever.
    await giveUp(prisma, id, now, err instanceof ZodError ? (err.issues[0]?.message ?? err.message) : (err as Error).message);
    return true;
  }
}

async function giveUp(prisma: PrismaClient, id: string, now: Date, why: string) {
  await prisma.$transaction(async (tx) => {
    if (!(await lockRow(tx, 'rollout', id))) return;
    const r = await loadRollout(tx, id);
    if (!r || !LIVE_STATES.includes(r.state)) return;
    if (r.state === 'rolling_back') {
      // The rollback itself cannot go on: a person has to look at the nodes.
      await finish(tx, r.id, 'failed', now, `${r.reason}. Rollback cannot go on: ${why}`);
      await settleClusterDeployment(tx, r.id, 'failed', now);
      return;
    }
    await beginRollback(tx, r, `the rollout cannot go on: ${why}`);
  });
}

async function advanceRolloutOnce(prisma: PrismaClient, id: string, now: Date): Promise<boolean> {
  return prisma.$transaction(
    async (tx) => {
      if (!(await lockRow(tx, 'rollout', id, { skipLocked: true }))) return false;
      const r = await loadRollout(tx, id);
      if (!r || !LIVE_STATES.includes(r.state)) return false;
      await step(tx, r, now);
      return true;
    },
    { timeout: 30_000 },
  );
}

function isOffline(node: { lastSeenAt: Date | null; reportIntervalSeconds: number }, now: Date): boolean {
  if (!node.lastSeenAt) return true;
  return now.getTime() - node.lastSeenAt.getTime() > MISSED_INTERVALS_BEFORE_OFFLINE * node.reportIntervalSeconds * 1000;
}

async function step(tx: Tx, r: RolloutRow, now: Date): Promise<void> {
  const policy = readRolloutPolicy(r.policy);
  switch (r.state) {
    case 'pending':
      return startPrefetch(tx, r);
    case 'prefetching':
      return checkPrefetch(tx, r, now);
    case 'canary':
    case 'waves':
      return loadStep(tx, r, now);
    case 'analysing':
      return analyse(tx, r, policy, now);
    case 'rolling_back':
      return rollBack(tx, r, now);
    default:
      return;
  }
}

async function startPrefetch(tx: Tx, r: RolloutRow) {
  const artifact = await artifactRefFor(tx, r.artifactId);
  for (const n of r.nodes) {
    if (n.prefetchCommandId) continue;
    const cmd = await issueNodeCommand(tx, {
      nodeId: n.nodeId,
      command: { kind: 'prefetch_artifact', payload: { artifact, bandwidthMbps: null } },
      origin: origin(r.id),
      issuedByUserId: r.requestedById,
      artifactId: r.artifactId,
      dedupeKey: dedupeKey(r.id, `prefetch:${r.artifactId}`),
    });
    await tx.rolloutNode.update({
      where: { rolloutId_nodeId: { rolloutId: r.id, nodeId: n.nodeId } },
      data: { prefetchCommandId: cmd.id, state: 'prefetching' },
    });
  }
  await tx.rollout.update({
    where: { id: r.id },
    data: { state: 'prefetching', reason: `prefetching on ${countOf(r.nodes.length, 'node')}` },
  });
}

/** Fails the current step: every touched node goes back to what it served before. */
async function beginRollback(tx: Tx, r: RolloutRow, reason: string, outcome: 'rolled_back' | 'aborted' = 'rolled_back') {
  await tx.rollout.update({ where: { id: r.id }, data: { state: 'rolling_back', rollbackOutcome: outcome, pausedFrom: null, reason } });
}

async function checkPrefetch(tx: Tx, r: RolloutRow, now: Date) {
  const states = await nodeCommandStates(tx, r.nodes.map((n) => n.prefetchCommandId!).filter(Boolean));
  const problems: string[] = [];
  let done = 0;
  for (const n of r.nodes) {
    const c = n.prefetchCommandId ? states.get(n.prefetchCommandId) : undefined;
    if (c?.state === 'succeeded') {
      done++;
      if (n.state !== 'prefetched')
        await tx.rolloutNode.update({ where: { rolloutId_nodeId: { rolloutId: r.id, nodeId: n.nodeId } }, data: { state: 'prefetched' } });
    } else if (c && FAILED_COMMAND.includes(c.state)) {
      problems.push(`${n.node.hostname}: prefetch ${c.state}${c.error ? `: ${c.error}` : ''}`);
    } else if (isOffline(n.node, now)) {
      problems.push(`${n.node.hostname} went offline during prefetch`);
    }
  }
  if (problems.length) {
    for (const n of r.nodes)
      if (n.state === 'prefetching')
        await tx.rolloutNode.update({
          where: { rolloutId_nodeId: { rolloutId: r.id, nodeId: n.nodeId } },
          data: { state: 'failed', error: 'prefetch did not finish' },
        });
    return beginRollback(tx, r, `prefetch failed, no engine was touched: ${problems.join('; ')}`);
  }
  if (done === r.nodes.length)
    await tx.rollout.update({ where: { id: r.id }, data: { state: 'canary', currentStep: 0, reason: 'loading the canary' } });
}

async function loadStep(tx: Tx, r: RolloutRow, now: Date) {
  const stepNodes = r.nodes.filter((n) => n.step === r.currentStep);
  const artifact = await artifactRefFor(tx, r.artifactId);
  for (const n of stepNodes) {
    if (n.loadCommandId) continue;
    const launch = await engineLaunchSpecFor(tx, { nodeId: n.nodeId, artifactId: r.artifactId });
    const cmd = await issueNodeCommand(tx, {
      nodeId: n.nodeId,
      command: { kind: 'load_artifact', payload: { artifact, launch, bandwidthMbps: null } },
      origin: origin(r.id),
      issuedByUserId: r.requestedById,
      artifactId: r.artifactId,
      dedupeKey: dedupeKey(r.id, `load:${r.artifactId}`),
    });
    await tx.rolloutNode.update({
      where: { rolloutId_nodeId: { rolloutId: r.id, nodeId: n.nodeId } },
      data: { loadCommandId: cmd.id, state: 'loading' },
    });
    n.loadCommandId = cmd.id;
  }
  const states = await nodeCommandStates(
    tx,
    stepNodes.map((n) => n.loadCommandId!),
  );
  const problems: string[] = [];
  let serving = 0;
  for (const n of stepNodes) {
    const c = states.get(n.loadCommandId!);
    if (c?.state === 'succeeded') {
      serving++;
      if (n.state !== 'serving') {
        await tx.rolloutNode.update({ where: { rolloutId_nodeId: { rolloutId: r.id, nodeId: n.nodeId } }, data: { state: 'serving' } });
        await recordNodeDeployment(tx, r, n.nodeId, now);
      }
    } else if (c && FAILED_COMMAND.includes(c.state)) {
      problems.push(`${n.node.hostname}: load ${c.state}${c.error ? `: ${c.error}` : ''}`);
    } else if (isOffline(n.node, now)) {
      problems.push(`${n.node.hostname} went offline while loading`);
    }
  }
  const label = r.currentStep === 0 ? 'canary' : `wave ${r.currentStep}`;
  if (problems.length) return beginRollback(tx, r, `${label} failed: ${problems.join('; ')}`);
  if (serving === stepNodes.length)
    await tx.rollout.update({
      where: { id: r.id },
      data: { state: 'analysing', windowStartedAt: now, reason: `${label} serving; analysis window started` },
    });
}

/** The node now serves the rollout's artifact: its new deployment is active, the one before it retired. */
async function recordNodeDeployment(tx: Tx, r: RolloutRow, nodeId: string, now: Date) {
  const previous = await tx.deployment.findFirst({ where: { nodeId, state: 'active' }, orderBy: { startedAt: 'desc' } });
  if (previous) await tx.deployment.update({ where: { id: previous.id }, data: { state: 'retired', endedAt: now } });
  await tx.deployment.create({
    data: {
      clusterId: r.clusterId,
      nodeId,
      artifactId: r.artifactId,
      proposalId: r.proposalId,
      previousDeploymentId: previous?.id ?? null,
      state: 'active',
      startedById: r.requestedById,
      startedAt: now,
      rolloutId: r.id,
    },
  });
}

type SampleRow = {
  nodeId: string;
  sampledAt: Date;
  ttftBuckets: unknown;
  ttftSecondsCount: number | null;
  requestsFinishedTotal: number | null;
  requestsFailedTotal: number | null;
  generationTokensTotal: number | null;
};

function toWindows(nodeIds: readonly string[], rows: readonly SampleRow[]): NodeWindow[] {
  return nodeIds.map((nodeId) => ({
    nodeId,
    scrapes: rows
      .filter((s) => s.nodeId === nodeId)
      .map((s): EngineScrape => ({
        at: s.sampledAt,
        ttftBuckets: Array.isArray(s.ttftBuckets) ? (s.ttftBuckets as HistogramBucket[]) : null,
        ttftCount: s.ttftSecondsCount,
        requestsFinished: s.requestsFinishedTotal,
        requestsFailed: s.requestsFailedTotal,
        generationTokens: s.generationTokensTotal,
      })),
  }));
}

async function analyse(tx: Tx, r: RolloutRow, policy: TRolloutPolicy, now: Date) {
  const stepNodes = r.nodes.filter((n) => n.step === r.currentStep);
  const label = r.currentStep === 0 ? 'canary' : `wave ${r.currentStep}`;
  const offline = stepNodes.filter((n) => isOffline(n.node, now));
  if (offline.length)
    return beginRollback(tx, r, `${label}: ${offline.map((n) => n.node.hostname).join(', ')} went offline during analysis`);
  const windowStart = r.windowStartedAt ?? now;
  // The window's checks are those since it (re)started: a resume after a pause starts the window over.
  const inWindow = { rolloutId: r.id, step: r.currentStep, measuredAt: { gte: windowStart } };
  const done = await tx.rolloutAnalysisResult.count({ where: inWindow });
  const checkNo = (await tx.rolloutAnalysisResult.count({ where: { rolloutId: r.id, step: r.currentStep } })) + 1;
  const intervalMs = policy.analysisIntervalSeconds * 1000;
  const due = new Date(windowStart.getTime() + (done + 1) * intervalMs);
  if (now < due) return;
  // Each check reads the last interval of scrapes: the step's nodes against those still on the previous artifact.
  const since = new Date(now.getTime() - intervalMs);
  const baselineNodes = r.nodes.filter((n) => n.step > r.currentStep && n.state === 'prefetched');
  const ids = [...stepNodes, ...baselineNodes].map((n) => n.nodeId);
  const rows = await tx.engineSample.findMany({
    where: { nodeId: { in: ids }, sampledAt: { gte: since, lte: now } },
    orderBy: { sampledAt: 'asc' },
    select: {
      nodeId: true,
      sampledAt: true,
      ttftBuckets: true,
      ttftSecondsCount: true,
      requestsFinishedTotal: true,
      requestsFailedTotal: true,
      generationTokensTotal: true,
    },
  });
  const critical = await tx.alert.findMany({
    where: {
      nodeId: { in: stepNodes.map((n) => n.nodeId) },
      severity: 'critical',
      resolvedAt: null,
      openedAt: { gte: r.createdAt },
    },
    select: { title: true },
  });
  const metrics = measureCheck(
    toWindows(
      stepNodes.map((n) => n.nodeId),
      rows,
    ),
    toWindows(
      baselineNodes.map((n) => n.nodeId),
      rows,
    ),
    critical.map((a) => a.title),
  );
  const verdict = evaluateCheck(metrics, policy);
  await tx.rolloutAnalysisResult.create({
    data: {
      rolloutId: r.id,
      step: r.currentStep,
      checkNo,
      passed: verdict.outcome === 'inconclusive' ? null : verdict.outcome === 'passed',
      metrics,
      failures: verdict.failures,
      notes: verdict.notes,
      thresholds: {
        maxTtftP99Ratio: policy.maxTtftP99Ratio,
        maxTtftP99Seconds: policy.maxTtftP99Seconds,
        maxErrorRatePct: policy.maxErrorRatePct,
        minTokensPerSecondRatio: policy.minTokensPerSecondRatio,
      },
      measuredAt: now,
    },
  });
  const results = await tx.rolloutAnalysisResult.findMany({
    where: inWindow,
    orderBy: { checkNo: 'asc' },
    select: { passed: true, failures: true, checkNo: true },
  });
  const outcome = windowOutcome(
    results.map((x) => (x.passed === null ? 'inconclusive' : x.passed ? 'passed' : 'failed')),
    policy,
  );
  if (outcome === 'inconclusive') {
    // Argo Rollouts: an inconclusive analysis pauses. No traffic proves nothing either way, so neither a
    // rollback (a slow reload of a possibly good artifact) nor a promotion without evidence; a person decides.
    const quiet = results.filter((x) => x.passed === null).length;
    await tx.rollout.update({
      where: { id: r.id },
      data: {
        state: 'paused',
        pausedFrom: 'analysing',
        reason: `${label} analysis inconclusive: no traffic on the ${label} in ${quiet} of ${results.length} checks; promote to go on without evidence, resume to analyse again, or abort to roll back`,
      },
    });
    return;
  }
  if (outcome === 'failed') {
    const failed = results.filter((x) => x.passed === false);
    const detail = failed.map((x) => `check ${x.checkNo}: ${x.failures.join('; ')}`).join(' | ');
    return beginRollback(
      tx,
      r,
      `${label} analysis failed (${countOf(failed.length, 'failed check')}, limit ${policy.failureLimit}): ${detail}`,
    );
  }
  if (outcome === 'passed') await stepPassed(tx, r, now, `${label} analysis passed (${results.length} checks)`);
}

/** The current step's window passed (or was promoted): the next wave, or done. */
export async function stepPassed(
  tx: Tx,
  r: { id: string; kind: string; currentStep: number; stepCount: number; clusterId: string; proposalId: string | null },
  now: Date,
  reason: string,
) {
  if (r.currentStep + 1 < r.stepCount) {
    await tx.rollout.update({
      where: { id: r.id },
      data: {
        state: 'waves',
        currentStep: r.currentStep + 1,
        windowStartedAt: null,
        pausedFrom: null,
        reason: `${reason}; loading wave ${r.currentStep + 1}`,
      },
    });
    return;
  }
  let note = '';
  // A rollback restores earlier evidence; only an upgrade moves its proposal to rolled_out.
  if (r.kind === 'upgrade' && r.proposalId) {
    try {
      await markProposalRolledOut(tx, r.proposalId, r.id, { now });
    } catch (err) {
      // The nodes serve the artifact either way (e.g. the proposal expired while the waves ran): say so, do not get stuck.
      note = `; the proposal was not marked rolled out: ${(err as Error).message}`;
    }
  }
  await finish(tx, r.id, 'succeeded', now, `${reason}; every node serves the new artifact${note}`);
  await settleClusterDeployment(tx, r.id, 'active', now);
}

async function finish(tx: Tx, id: string, state: TRolloutState, now: Date, reason: string) {
  await tx.rollout.update({ where: { id }, data: { state, activeClusterId: null, pausedFrom: null, finishedAt: now, reason } });
}

/** The cluster-wide deployment row of a rollout: active on success (the one before retired), else its outcome. */
async function settleClusterDeployment(tx: Tx, rolloutId: string, state: 'active' | 'rolled_back' | 'failed', now: Date) {
  const d = await tx.deployment.findFirst({ where: { rolloutId, nodeId: null } });
  if (!d) return;
  if (state === 'active' && d.previousDeploymentId)
    await tx.deployment.updateMany({ where: { id: d.previousDeploymentId, state: 'active' }, data: { state: 'retired', endedAt: now } });
  await tx.deployment.update({ where: { id: d.id }, data: { state, endedAt: state === 'active' ? null : now } });
}

async function rollBack(tx: Tx, r: RolloutRow, now: Date) {
  const touched = r.nodes.filter((n) => n.loadCommandId);
  for (const n of touched) {
    if (n.rollbackCommandId || n.state === 'rolled_back') continue;
    let command: TAgentCommandBody;
    if (n.previousArtifactId) {
      // One after the other: a transaction's connection runs one query at a time.
      const artifact = await artifactRefFor(tx, n.previousArtifactId);
      const launch = await engineLaunchSpecFor(tx, { nodeId: n.nodeId, artifactId: n.previousArtifactId });
      command = { kind: 'load_artifact', payload: { artifact, launch, bandwidthMbps: null } };
    } else {
      // Nothing was served before this rollout: stopping the engine is the previous state.
      const spec = await tx.cluster.findUnique({ where: { id: r.clusterId }, select: { engineDrainSeconds: true } });
      command = { kind: 'stop_engine', payload: { drainSeconds: spec?.engineDrainSeconds ?? 30 } };
    }
    const cmd = await issueNodeCommand(tx, {
      nodeId: n.nodeId,
      command,
      origin: origin(r.id),
      issuedByUserId: r.requestedById,
      artifactId: n.previousArtifactId,
      dedupeKey: dedupeKey(r.id, `rollback:${n.previousArtifactId ?? 'stop'}`),
    });
    await tx.rolloutNode.update({
      where: { rolloutId_nodeId: { rolloutId: r.id, nodeId: n.nodeId } },
      data: { rollbackCommandId: cmd.id, state: 'rolling_back' },
    });
    n.rollbackCommandId = cmd.id;
    n.state = 'rolling_back';
  }
  const states = await nodeCommandStates(
    tx,
    touched.map((n) => n.rollbackCommandId!),
  );
  let open = 0;
  const failures: string[] = [];
  for (const n of touched) {
    if (n.state === 'rolled_back' || n.state === 'failed') {
      if (n.state === 'failed') failures.push(`${n.node.hostname}: ${n.error ?? 'failed'}`);
      continue;
    }
    const c = states.get(n.rollbackCommandId!);
    if (c?.state === 'succeeded') {
      await tx.rolloutNode.update({ where: { rolloutId_nodeId: { rolloutId: r.id, nodeId: n.nodeId } }, data: { state: 'rolled_back' } });
      await restoreNodeDeployment(tx, r.id, n.nodeId, now);
    } else if (c && TERMINAL_NODE_COMMAND_STATES.includes(c.state)) {
      const error = `rollback ${c.state}${c.error ? `: ${c.error}` : ''}`;
      failures.push(`${n.node.hostname}: ${error}`);
      await tx.rolloutNode.update({ where: { rolloutId_nodeId: { rolloutId: r.id, nodeId: n.nodeId } }, data: { state: 'failed', error } });
    } else if (isOffline(n.node, now)) {
      // Its command stays queued and runs when the agent comes back; the rollout cannot say it is restored.
      const error = 'offline: the rollback command runs when its agent returns';
      failures.push(`${n.node.hostname}: ${error}`);
      await tx.rolloutNode.update({ where: { rolloutId_nodeId: { rolloutId: r.id, nodeId: n.nodeId } }, data: { state: 'failed', error } });
    } else open++;
  }
  if (open > 0) return;
  const outcome: TRolloutState = failures.length ? 'failed' : (r.rollbackOutcome ?? 'rolled_back');
  const tail = failures.length
    ? ` Rollback incomplete: ${failures.join('; ')}`
    : ` ${countOf(touched.length, 'node')} ${touched.length === 1 ? 'serves' : 'serve'} the previous artifact again.`;
  await finish(tx, r.id, outcome, now, `${r.reason}.${tail}`);
  await settleClusterDeployment(tx, r.id, failures.length ? 'failed' : 'rolled_back', now);
}

/** The rollout's deployment on a node is rolled back and the one it replaced is active again. */
async function restoreNodeDeployment(tx: Tx, rolloutId: string, nodeId: string, now: Date) {
  const d = await tx.deployment.findFirst({ where: { rolloutId, nodeId } });
  if (!d) return;
  await tx.deployment.update({ where: { id: d.id }, data: { state: 'rolled_back', endedAt: now } });
  if (d.previousDeploymentId)
    await tx.deployment.update({ where: { id: d.previousDeploymentId }, data: { state: 'active', endedAt: null } });
}

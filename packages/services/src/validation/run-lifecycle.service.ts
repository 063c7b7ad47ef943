import {
  type TCheckDefinition,
  type TCheckResult,
  type TProgress,
  type TValidationRunContext,
  type TValidationTargetInput,
  ZValidationRunContext,
} from '@fleetplane/contracts';
import type { Db, PrismaClient } from '@fleetplane/db';
import { compareToBaseline, runVerdict, summariseRun } from '@fleetplane/domain';
import type { NetworkPolicy } from '@fleetplane/net';
import { loadNetworkPolicy } from '../network/network-policy.service';
import { gatesForComparison } from './baseline-gates';
import { orderedResults, sealRunEvidence } from './evidence.service';
import { parseStoredSuite } from './suites.service';
import { lockRow } from '../shared/locks.sql';

/** Worker-side steps of a run. Every step is idempotent: jobs can be retried after a crash. */

async function buildContext(db: Db, runId: string): Promise<TValidationRunContext> {
  const run = await db.validationRun.findUniqueOrThrow({
    where: { id: runId },
    include: { suite: true, artifact: true, cluster: { include: { nodes: { include: { gpus: { select: { uuid: true } } } } } } },
  });
  const c = run.cluster;
  const req = (run.artifact?.requirements ?? {}) as Record<string, unknown>;
  const minVersion = req[c.servingEngine];
  // A staging run measures one node's engine: only that node's GPUs are behind its endpoint.
  const nodes = run.nodeId ? c.nodes.filter((n) => n.id === run.nodeId) : c.nodes;
  return {
    engine: c.servingEngine,
    engineVersion: c.engineVersion,
    servedModelName: run.servedModelName ?? c.servedModelName ?? '',
    endpointUrl: run.endpointUrl ?? c.endpointUrl ?? '',
    minEngineVersion: typeof minVersion === 'string' ? minVersion : null,
    maxContextTokens: c.maxContextTokens,
    concurrencyCap: c.validationConcurrencyCap,
    artifactDigest: run.artifact?.digest ?? null,
    gpuUuids: nodes.flatMap((n) => n.gpus.map((g) => g.uuid)).sort(),
    suite: { name: run.suite.name, version: run.suite.version },
    startedAt: (run.startedAt ?? new Date()).toISOString(),
  };
}

/**
 * Marks a run running and records what it runs against. Returns the checks to schedule, or null when
 * the run is already finished or was cancelled before it started (then it is finalised here).
 */
export async function beginRun(prisma: PrismaClient, runId: string): Promise<{ checkKeys: string[] } | null> {
  const run = await prisma.validationRun.findUnique({
    where: { id: runId },
    include: { suite: true, checks: { select: { checkKey: true, state: true } } },
  });
  if (!run || run.finishedAt) return null;
  if (run.cancelRequestedAt) {
    await finaliseRun(prisma, runId);
    return null;
  }
  // Started again by the reconciler (its jobs were lost): keep the context recorded at the start.
  if (run.state !== 'running') {
    const startedAt = run.startedAt ?? new Date();
    if (!run.startedAt) await prisma.validationRun.update({ where: { id: runId }, data: { startedAt } });
    const context = await buildContext(prisma, runId);
    await prisma.validationRun.update({ where: { id: runId }, data: { state: 'running', context: context as object } });
  }
  // Checks that already have a result are not run again.
  const done = new Set(
    run.checks.filter((c) => c.state === 'succeeded' || c.state === 'failed' || c.state === 'skipped').map((c) => c.checkKey),
  );
  return {
    checkKeys: parseStoredSuite(run.suite)
      .checks.map((c) => c.key)
      .filter((key) => !done.has(key)),
  };
}

export type TCheckTarget =
  | {
      ok: true;
      check: TCheckDefinition;
      target: TValidationTargetInput & { network: NetworkPolicy };
      cancelRequested: boolean;
      finished: boolean;
    }
  | { ok: false; check: TCheckDefinition | null; explanation: string; finished: boolean };

/** The check definition and endpoint for one check job; the API key is read from the named env var. */
export async function loadCheckTarget(
  prisma: PrismaClient,
  runId: string,
  checkKey: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<TCheckTarget> {
  const run = await prisma.validationRun.findUnique({ where: { id: runId }, include: { suite: true, cluster: true } });
  if (!run) return { ok: false, check: null, explanation: `Run ${runId} no longer exists.`, finished: true };
  const check = parseStoredSuite(run.suite).checks.find((c) => c.key === checkKey) ?? null;
  const finished = run.finishedAt !== null;
  if (!check)
    return { ok: false, check, explanation: `Suite ${run.suite.name} v${run.suite.version} has no check "${checkKey}".`, finished };
  const c = run.cluster;
  // A staging run (pipeline validate stage) targets the staging node's engine, not the cluster's endpoint.
  const endpointUrl = run.endpointUrl ?? c.endpointUrl;
  const servedModelName = run.servedModelName ?? c.servedModelName;
  if (!endpointUrl)
    return { ok: false, check, explanation: `Cluster "${c.name}" has no endpoint URL; set one on the cluster page.`, finished };
  if (!servedModelName)
    return { ok: false, check, explanation: `Cluster "${c.name}" has no served model name; set one on the cluster page.`, finished };
  let apiKey: string | undefined;
  if (c.endpointApiKeyRef) {
    apiKey = env[c.endpointApiKeyRef];
    if (!apiKey)
      return {
        ok: false,
        check,
        explanation: `The endpoint API key variable ${c.endpointApiKeyRef} is not set in the worker's environment.`,
        finished,
      };
  }
  const ctx = ZValidationRunContext.safeParse(run.context);
  return {
    ok: true,
    check,
    finished,
    cancelRequested: run.cancelRequestedAt !== null,
    target: {
      baseUrl: endpointUrl,
      ...(apiKey ? { apiKey } : {}),
      servedModelName,
      engine: c.servingEngine,
      engineVersion: c.engineVersion,
      ...(ctx.success && ctx.data.minEngineVersion ? { minEngineVersion: ctx.data.minEngineVersion } : {}),
      maxContextTokens: c.maxContextTokens,
      concurrencyCap: c.validationConcurrencyCap,
      requestTimeoutMs: VALIDATION_REQUEST_TIMEOUT_MS,
      // Every request of the check connects under the policy in force when the check starts.
      network: await loadNetworkPolicy(prisma, { env }),
    },
  };
}

/** Per-request timeout: long enough for a 1M-token prefill on real hardware, short enough to never hang. */
export const VALIDATION_REQUEST_TIMEOUT_MS = 600_000;

export async function isCancelRequested(prisma: PrismaClient, runId: string): Promise<boolean> {
  const run = await prisma.validationRun.findUnique({ where: { id: runId }, select: { cancelRequestedAt: true, finishedAt: true } });
  return !run || run.cancelRequestedAt !== null || run.finishedAt !== null;
}

export async function markCheckRunning(prisma: PrismaClient, runId: string, checkKey: string) {
  await prisma.validationCheckResult.update({
    where: { runId_checkKey: { runId, checkKey } },
    data: {
      state: 'running',
      verdict: null,
      score: null,
      metrics: {},
      samples: [],
      explanation: '',
      startedAt: new Date(),
      finishedAt: null,
      heartbeatAt: new Date(),
    },
  });
}

/** "A worker is still on this check" (see the reconciler): written every few seconds while it runs. */
export async function touchCheckHeartbeat(prisma: PrismaClient, runId: string, checkKey: string) {
  await prisma.validationCheckResult.updateMany({ where: { runId, checkKey, state: 'running' }, data: { heartbeatAt: new Date() } });
}

/** Live progress for the dashboard, kept in metrics until the result replaces them. */
export async function saveCheckProgress(prisma: PrismaClient, runId: string, checkKey: string, progress: TProgress) {
  await prisma.validationCheckResult.updateMany({ where: { runId, checkKey, state: 'running' }, data: { metrics: { progress } } });
}

/** Writes a check's result over its row (a retried check overwrites, never duplicates); false once the run is sealed. */
export async function saveCheckResult(prisma: PrismaClient, runId: string, result: TCheckResult) {
  const data = {
    kind: result.kind,
    required: result.required,
    state: result.verdict === 'error' ? ('failed' as const) : result.verdict === 'skipped' ? ('skipped' as const) : ('succeeded' as const),
    verdict: result.verdict,
    score: result.score,
    thresholds: result.thresholds as object,
    metrics: result.metrics as object,
    samples: result.samples as object[],
    explanation: result.explanation,
    startedAt: new Date(result.startedAt),
    finishedAt: new Date(result.finishedAt),
  };
  // A sealed run is never changed afterwards: a late or retried check must not alter its evidence.
  const { count } = await prisma.validationCheckResult.updateMany({
    where: { runId, checkKey: result.key, run: { finishedAt: null } },
    data,
  });
  return count === 1;
}

const firstSentences = (s: string, max = 280) => {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

/**
 * Seals a run: verdict (every required check passes and the baseline gates hold), a plain-English
 * summary, the evidence digest. Safe to call twice; the second call changes nothing.
 */
export async function finaliseRun(prisma: PrismaClient, runId: string, opts: { lostReason?: string } = {}) {
  const now = new Date();
  const head = await prisma.validationRun.findUnique({ where: { id: runId }, select: { finishedAt: true, cancelRequestedAt: true } });
  if (!head || head.finishedAt) return null;
  const unfinished = { runId, state: { in: ['pending' as const, 'queued' as const, 'running' as const] } };
  if (head.cancelRequestedAt && !opts.lostReason) {
    await prisma.validationCheckResult.updateMany({
      where: unfinished,
      data: { state: 'skipped', verdict: 'skipped', explanation: 'Cancelled before this check finished; no verdict.', finishedAt: now },
    });
  } else {
    const reason =
      opts.lostReason ??
      "The check's job ended without a result: it failed after its retries (for example the worker crashed repeatedly while running it).";
    await prisma.validationCheckResult.updateMany({
      where: unfinished,
      data: { state: 'failed', verdict: 'error', explanation: reason, finishedAt: now },
    });
  }
  return prisma.$transaction(async (tx) => {
    // Row lock: a finalise job and the sweeper never seal the same run twice.
    await lockRow(tx, 'validation_run', runId);
    const run = await tx.validationRun.findUnique({ where: { id: runId }, include: { suite: true, checks: true } });
    if (!run || run.finishedAt) return run;
    const suite = parseStoredSuite(run.suite);
    const parsedCtx = ZValidationRunContext.safeParse(run.context);
    const context = parsedCtx.success ? parsedCtx.data : await buildContext(tx, runId);
    const startedAt = run.startedAt ?? now;
    const results = orderedResults(run.checks, suite, startedAt);
    const cancelled = run.cancelRequestedAt !== null;
    const checksVerdict = runVerdict(results);

    let baseline = null;
    if (run.baselineRunId && !cancelled && !opts.lostReason) {
      const base = await tx.validationRun.findUnique({ where: { id: run.baselineRunId }, include: { checks: true, suite: true } });
      if (base) {
        const baseResults = orderedResults(base.checks, parseStoredSuite(base.suite), base.startedAt ?? base.createdAt);
        baseline = compareToBaseline({
          candidate: results,
          baseline: baseResults,
          gates: gatesForComparison(
            suite.checks.map((c) => c.key),
            results,
            baseResults,
          ),
          baselineRunId: base.id,
        });
      }
    }
    const verdict = checksVerdict === 'pass' && baseline?.verdict === 'fail' ? 'fail' : checksVerdict;
    const state = cancelled ? 'cancelled' : verdict === 'pass' ? 'succeeded' : 'failed';

    const parts: string[] = [];
    if (opts.lostReason) parts.push(opts.lostReason);
    if (cancelled)
      parts.push(
        `Cancelled on request; ${results.filter((r) => r.verdict !== 'skipped').length} of ${results.length} checks had finished.`,
      );
    if (checksVerdict === 'pass' && verdict === 'fail')
      parts.push(
        `Fail: all ${results.filter((r) => r.required).length} required checks passed on their own, but the run is worse than its baseline.`,
      );
    else parts.push(summariseRun(results));
    const passed = results.filter((r) => r.verdict === 'pass').map((r) => r.key);
    if (passed.length) parts.push(`Passed: ${passed.join(', ')}.`);
    for (const r of results.filter((x) => x.verdict === 'fail' || x.verdict === 'error'))
      parts.push(`${r.key} (${r.verdict}): ${firstSentences(r.explanation)}`);
    if (baseline) {
      parts.push(`Baseline run ${baseline.baselineRunId}: ${baseline.summary}`);
      const failedGates = baseline.gates.filter((g) => g.verdict === 'fail');
      for (const g of failedGates) parts.push(g.explanation + '.');
      if (!failedGates.length) {
        // The largest moves are what a reviewer wants to see even when every gate holds.
        const moves = baseline.gates
          .filter((g) => g.verdict === 'pass' && g.deltaPct !== null)
          .sort((a, b) => Math.abs(b.deltaPct!) - Math.abs(a.deltaPct!))
          .slice(0, 3);
        for (const g of moves) parts.push(g.explanation + '.');
      }
    } else if (run.baselineRunId === null && !cancelled) {
      parts.push('No baseline: nothing to compare against.');
    }
    const summary = parts.join(' ');
    const fullContext = { ...context, finishedAt: now.toISOString(), ...(baseline ? { baseline } : {}) };
    const finishedRow = { ...run, verdict, summary, context: fullContext, startedAt, finishedAt: now };
    const sealed = sealRunEvidence({ run: finishedRow, suiteRow: run.suite, checks: run.checks });
    return tx.validationRun.update({
      where: { id: runId },
      data: { state, verdict, summary, context: fullContext as object, startedAt, finishedAt: now, evidenceDigest: sealed.digest },
    });
  });
}

/**
 * Fails runs that are still queued or running but whose jobs are gone (Redis flushed, flow removed,
 * parent job failed for good). `isAlive` asks the queue; runs younger than graceMs are left alone.
 */
export async function sweepLostRuns(
  prisma: PrismaClient,
  isAlive: (runId: string) => Promise<boolean>,
  opts: { graceMs?: number; now?: Date } = {},
) {
  const now = opts.now ?? new Date();
  const cutoff = new Date(now.getTime() - (opts.graceMs ?? 120_000));
  const candidates = await prisma.validationRun.findMany({
    // Staging runs have no jobs of their own: the pipeline step running them answers for them.
    where: { state: { in: ['queued', 'running'] }, finishedAt: null, createdAt: { lt: cutoff }, pipelineStepId: null },
    select: { id: true },
  });
  const failed: string[] = [];
  for (const { id } of candidates) {
    const pendingOutbox = await prisma.outboxMessage.count({ where: { dispatchedAt: null, payload: { path: ['runId'], equals: id } } });
    if (pendingOutbox > 0 || (await isAlive(id))) continue;
    await finaliseRun(prisma, id, {
      lostReason:
        'The runner lost this run: its queue jobs are gone (worker or Redis data lost), so it was stopped by the sweeper. Checks that had not finished are marked as errors; start a new run.',
    });
    failed.push(id);
  }
  return { checked: candidates.length, failed };
}

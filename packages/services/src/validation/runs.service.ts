import {
  startValidationRunJob,
  ZBaselineComparison,
  ZIdInput,
  ZStartValidationRunInput,
  ZValidationRunListInput,
  type TStartValidationRunInput,
  type TValidationRunListInput,
} from '@fleetplane/contracts';
import type { Prisma } from '@fleetplane/db';
import { compareToBaseline } from '@fleetplane/domain';
import { gatesForComparison } from './baseline-gates';
import { withAudit, type ServiceContext } from '../context';
import { invalid, notFound, precondition } from '../errors';
import { addToOutbox, dispatchOutbox } from '../outbox/outbox.service';
import { loadRunEvidence, orderedResults } from './evidence.service';
import { latestSuite, parseStoredSuite } from './suites.service';
import { lockKey } from '../shared/locks.sql';

type Read = Pick<ServiceContext, 'prisma'>;

export async function listValidationRuns(ctx: Read, input: TValidationRunListInput) {
  const q = ZValidationRunListInput.parse(input);
  const where: Prisma.ValidationRunWhereInput = {
    ...(q.clusterId ? { clusterId: q.clusterId } : {}),
    ...(q.suiteName ? { suite: { name: q.suiteName } } : {}),
    ...(q.state ? { state: q.state } : {}),
    ...(q.verdict ? { verdict: q.verdict } : {}),
    ...(q.search
      ? {
          OR: [
            { summary: { contains: q.search, mode: 'insensitive' } },
            { cluster: { name: { contains: q.search, mode: 'insensitive' } } },
          ],
        }
      : {}),
  };
  const orderBy: Prisma.ValidationRunOrderByWithRelationInput[] = [
    { [q.sortBy]: q.sortBy === 'finishedAt' || q.sortBy === 'verdict' ? { sort: q.sortDir, nulls: 'last' } : q.sortDir },
    { id: 'asc' },
  ];
  const [rows, total] = await Promise.all([
    ctx.prisma.validationRun.findMany({
      where,
      orderBy,
      skip: (q.page - 1) * q.pageSize,
      take: q.pageSize,
      include: {
        cluster: { select: { id: true, name: true } },
        suite: { select: { name: true, version: true } },
        requestedBy: { select: { name: true, email: true } },
        checks: { select: { state: true, verdict: true } },
      },
    }),
    ctx.prisma.validationRun.count({ where }),
  ]);
  const items = rows.map((r) => ({
    id: r.id,
    cluster: r.cluster,
    suite: r.suite,
    state: r.state,
    verdict: r.verdict,
    summary: r.summary,
    requestedBy: r.requestedBy?.name ?? null,
    createdAt: r.createdAt,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    progress: { done: r.checks.filter((c) => c.verdict !== null).length, total: r.checks.length },
    failedChecks: r.checks.filter((c) => c.verdict === 'fail' || c.verdict === 'error').length,
  }));
  return { items, total, page: q.page, pageSize: q.pageSize };
}

export async function getValidationRun(ctx: Read, id: string) {
  const run = await ctx.prisma.validationRun.findUnique({
    where: { id },
    include: {
      cluster: { select: { id: true, name: true, endpointUrl: true } },
      suite: true,
      artifact: { select: { id: true, digest: true, quantisation: true, format: true } },
      requestedBy: { select: { name: true, email: true } },
      baselineRun: { select: { id: true, verdict: true, finishedAt: true, suite: { select: { name: true, version: true } } } },
      node: { select: { id: true, hostname: true } },
      pipelineRun: { select: { id: true, state: true } },
      proposals: { select: { id: true, state: true }, orderBy: { createdAt: 'desc' }, take: 1 },
      checks: true,
    },
  });
  if (!run) throw notFound('Validation run', id);
  const suite = parseStoredSuite(run.suite);
  const titles = new Map(suite.checks.map((c) => [c.key, c.title ?? c.key]));
  const results = orderedResults(run.checks, suite, run.startedAt ?? run.createdAt);
  const stateByKey = new Map(run.checks.map((c) => [c.checkKey, c.state]));
  return {
    id: run.id,
    cluster: run.cluster,
    suite: { id: run.suite.id, name: run.suite.name, version: run.suite.version, description: run.suite.description },
    artifact: run.artifact,
    baselineRun: run.baselineRun,
    // Set for a pipeline's staging run: the node whose engine was measured, the run and step behind it.
    node: run.node,
    endpointUrl: run.endpointUrl ?? run.cluster.endpointUrl,
    servedModelName: run.servedModelName,
    pipelineRun: run.pipelineRun,
    pipelineStepId: run.pipelineStepId,
    proposal: run.proposals[0] ?? null,
    requestedBy: run.requestedBy?.name ?? null,
    state: run.state,
    verdict: run.verdict,
    summary: run.summary,
    context: run.context as Record<string, unknown>,
    evidenceDigest: run.evidenceDigest,
    createdAt: run.createdAt,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    cancelRequestedAt: run.cancelRequestedAt,
    checks: results.map((r) => ({
      ...r,
      title: titles.get(r.key) ?? r.key,
      state: stateByKey.get(r.key) ?? 'pending',
      // Unfinished checks have no verdict yet; the contract's "skipped" fallback is for sealed evidence only.
      verdict: stateByKey.get(r.key) === 'pending' || stateByKey.get(r.key) === 'running' ? null : r.verdict,
    })),
  };
}

/** Starts a run: the run, one pending row per check and the start job (via the outbox) commit together. */
export async function startValidationRun(ctx: ServiceContext, input: TStartValidationRunInput) {
  const data = ZStartValidationRunInput.parse(input);
  const created = await withAudit(ctx, async (tx, audit) => {
    // One run per cluster at a time, so the cluster's concurrency cap holds across runs too.
    await lockKey(tx, 'validation:' + data.clusterId);
    const cluster = await tx.cluster.findUnique({ where: { id: data.clusterId } });
    if (!cluster) throw invalid('Choose an existing cluster', 'clusterId');
    if (!cluster.endpointUrl) throw precondition(`Cluster "${cluster.name}" has no endpoint URL; set one before validating it.`);
    if (!cluster.servedModelName) throw precondition(`Cluster "${cluster.name}" has no served model name; set one before validating it.`);
    // Staging runs (nodeId set) load a staging node, not the cluster's endpoint, so they do not count here.
    const active = await tx.validationRun.findFirst({
      where: { clusterId: cluster.id, nodeId: null, state: { in: ['queued', 'running'] } },
      select: { id: true },
    });
    if (active)
      throw precondition(`A validation run (${active.id}) is already in progress on "${cluster.name}"; wait for it or cancel it first.`);
    const suiteRow = await latestSuite(tx, data.suiteName).catch(() => null);
    if (!suiteRow) throw invalid(`Unknown suite "${data.suiteName}"`, 'suiteName');
    const suite = parseStoredSuite(suiteRow);

    let artifactId = data.artifactId ?? null;
    if (artifactId) {
      if (!(await tx.artifact.findUnique({ where: { id: artifactId }, select: { id: true } })))
        throw invalid('Choose an existing artifact', 'artifactId');
    } else {
      const dep = await tx.deployment.findFirst({
        where: { clusterId: cluster.id, state: 'active' },
        orderBy: { startedAt: 'desc' },
        select: { artifactId: true },
      });
      artifactId = dep?.artifactId ?? null;
    }

    let baselineRunId: string | null;
    if (data.baselineRunId) {
      const base = await tx.validationRun.findUnique({
        where: { id: data.baselineRunId },
        select: { id: true, finishedAt: true, clusterId: true },
      });
      if (!base) throw invalid('Choose an existing baseline run', 'baselineRunId');
      if (!base.finishedAt) throw invalid('The baseline run has not finished', 'baselineRunId');
      baselineRunId = base.id;
    } else if (data.baselineRunId === null) {
      baselineRunId = null;
    } else {
      const base = await tx.validationRun.findFirst({
        // The cluster's own endpoint is compared with itself, not with a candidate measured on a staging node.
        where: { clusterId: cluster.id, nodeId: null, verdict: 'pass', state: 'succeeded', suite: { name: suite.name } },
        orderBy: { finishedAt: 'desc' },
        select: { id: true },
      });
      baselineRunId = base?.id ?? null;
    }

    const run = await tx.validationRun.create({
      data: {
        suiteId: suiteRow.id,
        clusterId: cluster.id,
        artifactId,
        baselineRunId,
        requestedById: ctx.actor.type === 'user' ? ctx.actor.id : null,
        state: 'queued',
        checks: {
          create: suite.checks.map((c) => ({ checkKey: c.key, kind: c.kind, required: c.required, thresholds: c.thresholds as object })),
        },
      },
    });
    await addToOutbox(tx, startValidationRunJob, { runId: run.id }, startValidationRunJob.jobId!({ runId: run.id }));
    await audit({
      action: 'validation.run.start',
      targetType: 'validation_run',
      targetId: run.id,
      after: { clusterId: cluster.id, suite: `${suite.name} v${suite.version}`, artifactId, baselineRunId },
    });
    return { id: run.id, baselineRunId, artifactId };
  });
  // Right after commit; if Redis is down the outbox sweeper dispatches it later.
  if (ctx.producer) await dispatchOutbox(ctx.prisma, ctx.producer).catch(() => undefined);
  return created;
}

/** Requests cancellation; the runner stops its in-flight requests and skips the remaining checks. */
export async function cancelValidationRun(ctx: ServiceContext, input: { id: string }) {
  const { id } = ZIdInput.parse(input);
  return withAudit(ctx, async (tx, audit) => {
    const run = await tx.validationRun.findUnique({ where: { id }, select: { id: true, state: true, cancelRequestedAt: true } });
    if (!run) throw notFound('Validation run', id);
    if (run.state !== 'queued' && run.state !== 'running')
      throw precondition(`The run has already finished (${run.state}); there is nothing to cancel.`);
    const cancelRequestedAt = run.cancelRequestedAt ?? new Date();
    await tx.validationRun.update({ where: { id }, data: { cancelRequestedAt } });
    await audit({ action: 'validation.run.cancel', targetType: 'validation_run', targetId: id, before: { state: run.state } });
    return { id, cancelRequestedAt };
  });
}

/** The sealed JSON evidence bundle; the digest is recomputed and must equal the stored one. */
export async function getValidationEvidence(ctx: Read, id: string) {
  const loaded = await loadRunEvidence(ctx.prisma, id);
  if (!loaded) throw notFound('Validation run', id);
  if (!loaded.sealed || !loaded.run.evidenceDigest)
    throw precondition('The run has not finished yet; its evidence bundle is sealed when it does.');
  const matches = loaded.sealed.digest === loaded.run.evidenceDigest;
  return { digest: loaded.run.evidenceDigest, recomputedDigest: loaded.sealed.digest, matches, bundle: loaded.sealed.bundle };
}

/** The run against its baseline: per-metric deltas and gate verdicts, plus both runs' check verdicts. */
export async function compareValidationRun(ctx: Read, id: string) {
  const run = await ctx.prisma.validationRun.findUnique({ where: { id }, include: { suite: true, checks: true } });
  if (!run) throw notFound('Validation run', id);
  if (!run.baselineRunId) return { runId: id, baselineRunId: null, comparison: null, checks: [] };
  const base = await ctx.prisma.validationRun.findUnique({ where: { id: run.baselineRunId }, include: { suite: true, checks: true } });
  if (!base) return { runId: id, baselineRunId: null, comparison: null, checks: [] };
  const suite = parseStoredSuite(run.suite);
  const cand = orderedResults(run.checks, suite, run.startedAt ?? run.createdAt);
  const baseResults = orderedResults(base.checks, parseStoredSuite(base.suite), base.startedAt ?? base.createdAt);
  // A sealed run shows the comparison it was judged by; a live one is compared on the fly.
  const stored = ZBaselineComparison.safeParse((run.context as { baseline?: unknown } | null)?.baseline);
  const comparison = stored.success
    ? stored.data
    : compareToBaseline({
        candidate: cand,
        baseline: baseResults,
        gates: gatesForComparison(
          suite.checks.map((c) => c.key),
          cand,
          baseResults,
        ),
        baselineRunId: base.id,
      });
  return {
    runId: id,
    baselineRunId: base.id,
    comparison,
    checks: cand.map((c) => {
      const b = baseResults.find((x) => x.key === c.key);
      return { key: c.key, candidate: { verdict: c.verdict, score: c.score }, baseline: b ? { verdict: b.verdict, score: b.score } : null };
    }),
  };
}

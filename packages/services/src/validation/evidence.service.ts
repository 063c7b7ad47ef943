import {
  ZBaselineComparison,
  ZValidationRunContext,
  type TBaselineComparison,
  type TCheckResult,
  type TEvidenceBundle,
  type TServingEngine,
  type TValidationSuite,
  type TVerdict,
} from '@fleetplane/contracts';
import type { Db } from '@fleetplane/db';
import { sealEvidence } from '@fleetplane/domain';
import { EVIDENCE_GENERATOR } from '@fleetplane/validation';
import { parseStoredSuite } from './suites.service';

export interface TRunRow {
  id: string;
  clusterId: string;
  verdict: TVerdict | null;
  summary: string;
  context: unknown;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface TCheckRow {
  checkKey: string;
  kind: string;
  required: boolean;
  state: string;
  verdict: TVerdict | null;
  score: number | null;
  thresholds: unknown;
  metrics: unknown;
  samples: unknown;
  explanation: string;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/**
 * A stored check row as the contract's check result. Everything comes from the database (duration
 * from the stored timestamps), so the evidence rebuilt later hashes to the digest sealed at the end.
 */
export function checkResultFromRow(row: TCheckRow, suite: TValidationSuite, fallbackTime: Date): TCheckResult {
  const def = suite.checks.find((c) => c.key === row.checkKey);
  const startedAt = row.startedAt ?? fallbackTime;
  const finishedAt = row.finishedAt ?? startedAt;
  return {
    key: row.checkKey,
    kind: def?.kind ?? (row.kind as TCheckResult['kind']),
    required: row.required,
    // A check that never ran (cancelled or lost) has no verdict of its own.
    verdict: row.verdict ?? 'skipped',
    score: row.score,
    thresholds: (row.thresholds ?? {}) as Record<string, unknown>,
    metrics: (row.metrics ?? {}) as Record<string, unknown>,
    samples: (Array.isArray(row.samples) ? row.samples : []) as TCheckResult['samples'],
    explanation: row.explanation || (row.verdict ? '' : 'The check did not run.'),
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationMs: Math.max(0, finishedAt.getTime() - startedAt.getTime()),
  };
}

export function orderedResults(checks: readonly TCheckRow[], suite: TValidationSuite, fallbackTime: Date): TCheckResult[] {
  const order = new Map(suite.checks.map((c, i) => [c.key, i]));
  return [...checks]
    .sort((a, b) => (order.get(a.checkKey) ?? 1e9) - (order.get(b.checkKey) ?? 1e9))
    .map((r) => checkResultFromRow(r, suite, fallbackTime));
}

/** The evidence bundle of a finished run, sealed (sha256 over canonical JSON). */
export function sealRunEvidence(input: {
  run: TRunRow & { finishedAt: Date };
  suiteRow: { name: string; version: number; description: string; checks: unknown };
  checks: readonly TCheckRow[];
}) {
  const { run } = input;
  const suite = parseStoredSuite(input.suiteRow);
  const ctx = ZValidationRunContext.parse(run.context);
  const startedAt = run.startedAt ?? run.createdAt;
  const baselineParsed = ZBaselineComparison.safeParse(ctx.baseline);
  const baseline: TBaselineComparison | null = baselineParsed.success ? baselineParsed.data : null;
  const bundle: TEvidenceBundle = {
    schemaVersion: 1,
    runId: run.id,
    suite,
    target: {
      baseUrl: ctx.endpointUrl,
      servedModelName: ctx.servedModelName,
      engine: ctx.engine as TServingEngine,
      engineVersion: ctx.engineVersion,
      minEngineVersion: ctx.minEngineVersion,
      maxContextTokens: ctx.maxContextTokens,
      concurrencyCap: ctx.concurrencyCap,
      clusterId: run.clusterId,
      artifactDigest: ctx.artifactDigest,
    },
    startedAt: startedAt.toISOString(),
    finishedAt: run.finishedAt.toISOString(),
    verdict: run.verdict ?? 'skipped',
    summary: run.summary,
    checks: orderedResults(input.checks, suite, startedAt),
    baseline,
    generator: { ...EVIDENCE_GENERATOR },
  };
  return sealEvidence(bundle);
}

export async function loadRunEvidence(db: Db, runId: string) {
  const run = await db.validationRun.findUnique({ where: { id: runId }, include: { suite: true, checks: true } });
  if (!run) return null;
  if (!run.finishedAt) return { run, sealed: null };
  return { run, sealed: sealRunEvidence({ run: { ...run, finishedAt: run.finishedAt }, suiteRow: run.suite, checks: run.checks }) };
}

import {
  ZValidationSuite,
  type TBaselineComparison,
  type TCheckDefinition,
  type TCheckResult,
  type TSealedEvidence,
  type TValidationSuite,
  type TValidationSuiteInput,
  type TVerdict,
} from '@fleetplane/contracts';
import { runVerdict, sealEvidence, summariseRun } from '@fleetplane/domain';
import { runCheck, type TRunContext } from './run-check';

export interface TSuiteHooks {
  onCheckStart?: (check: TCheckDefinition, index: number) => void;
  onCheckDone?: (result: TCheckResult, index: number) => void;
}

export interface TSuiteRun {
  suite: TValidationSuite;
  results: TCheckResult[];
  verdict: TVerdict;
  summary: string;
  startedAt: string;
  finishedAt: string;
}

/**
 * Runs a suite's checks in order (convenience for tools and tests; the worker runs one job per
 * check instead). After cancellation the remaining checks are reported as skipped.
 */
export async function runSuite(suiteInput: TValidationSuiteInput, ctx: TRunContext, hooks: TSuiteHooks = {}): Promise<TSuiteRun> {
  const suite = ZValidationSuite.parse(suiteInput);
  const startedAt = new Date().toISOString();
  const results: TCheckResult[] = [];
  for (const [i, check] of suite.checks.entries()) {
    hooks.onCheckStart?.(check, i);
    const r = await runCheck(check, ctx);
    results.push(r);
    hooks.onCheckDone?.(r, i);
  }
  return { suite, results, verdict: runVerdict(results), summary: summariseRun(results), startedAt, finishedAt: new Date().toISOString() };
}

export const EVIDENCE_GENERATOR = { name: '@fleetplane/validation', version: '0.0.0' } as const;

/** Builds and seals the evidence bundle of a finished run (the API key is never included). */
export function buildEvidence(input: {
  run: TSuiteRun | { suite: TValidationSuite; results: TCheckResult[]; startedAt: string; finishedAt: string };
  ctx: TRunContext;
  runId?: string | null;
  clusterId?: string | null;
  artifactDigest?: string | null;
  baseline?: TBaselineComparison | null;
}): TSealedEvidence & { canonical: string } {
  const { run, ctx } = input;
  const checksVerdict = runVerdict(run.results);
  // A failed baseline comparison fails the run even when every check passed on its own.
  const verdict: TVerdict = checksVerdict === 'pass' && input.baseline?.verdict === 'fail' ? 'fail' : checksVerdict;
  const summary = [summariseRun(run.results), input.baseline ? `Baseline: ${input.baseline.summary}` : ''].filter(Boolean).join(' ');
  return sealEvidence({
    schemaVersion: 1,
    runId: input.runId ?? null,
    suite: run.suite,
    target: {
      baseUrl: ctx.baseUrl,
      servedModelName: ctx.servedModelName,
      engine: ctx.engine,
      engineVersion: ctx.engineVersion,
      minEngineVersion: ctx.minEngineVersion ?? null,
      maxContextTokens: ctx.maxContextTokens,
      concurrencyCap: ctx.concurrencyCap,
      clusterId: input.clusterId ?? null,
      artifactDigest: input.artifactDigest ?? null,
    },
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    verdict,
    summary,
    checks: run.results,
    baseline: input.baseline ?? null,
    generator: { ...EVIDENCE_GENERATOR },
  });
}

import type { TPipelineStage, TPipelineStepSpec } from '@fleetplane/contracts';

/**
 * The plan of a pipeline run, decided once from the revision's change class and the target's build targets,
 * with no IO: which stages run, in order, and one step per unit of work in each (the flow fans out one child job
 * per step; a stage starts when the one before it ended). The services layer loads the inputs and writes the
 * steps; the step executors resolve at run time what a step's spec points at (a validate step's candidate
 * artifact is whatever the named quantise or download step produced or reused).
 */

export type TRevisionChangeClass = 'initial' | 'weights' | 'tokenizer_template' | 'docs';

export interface TPlanRecipe {
  id: string;
  name: string;
  version: number;
  digest: string;
  /** Whether the output keeps tokenizer files beside the weights (recipeCopiesTokenizerFiles). */
  copiesTokenizerFiles: boolean;
}

export interface TPipelinePlanInput {
  changeClass: TRevisionChangeClass;
  /** The run's target: the shared store ("default") or one cluster with the recipes it builds. */
  target: { kind: 'default' } | { kind: 'cluster'; clusterId: string; clusterName: string; recipes: TPlanRecipe[] };
  /**
   * The last artifact built with each recipe digest from an earlier revision of the same repo (for the
   * tokenizer-only rule); keyed by recipe digest.
   */
  previousBuilds?: Readonly<Record<string, string>>;
}

export interface TPlanStep {
  kind: TPipelineStage;
  /** Unique within (run, kind): the recipe name for quantise and validate steps, "default" for the download. */
  targetKey: string;
  spec: TPipelineStepSpec;
  /** Shown on the run page. */
  label: string;
}

export interface TPipelinePlan {
  stages: { stage: TPipelineStage; steps: TPlanStep[] }[];
  /** Plain-language notes on what was left out and why (shown in the run summary). */
  notes: string[];
}

/** The validate step's key for the upstream checkpoint itself (a cluster that builds nothing). */
export const UPSTREAM_CANDIDATE_KEY = 'upstream';

export function planPipelineRun(input: TPipelinePlanInput): TPipelinePlan {
  const notes: string[] = [];
  const download: TPlanStep = { kind: 'download', targetKey: 'default', spec: {}, label: 'Download and verify' };
  if (input.changeClass === 'docs') {
    notes.push('Docs-only revision: the weights did not change, so nothing is built or validated.');
    return { stages: [{ stage: 'download', steps: [download] }], notes };
  }
  if (input.target.kind === 'default') {
    notes.push('No cluster target: the run downloads into the shared store; quantise and validate need a cluster.');
    return { stages: [{ stage: 'download', steps: [download] }], notes };
  }
  const { clusterId, clusterName, recipes } = input.target;
  const quantise: TPlanStep[] = [];
  for (const r of recipes) {
    const base = { recipeId: r.id, recipeName: r.name, recipeVersion: r.version, recipeDigest: r.digest };
    const previous = input.previousBuilds?.[r.digest];
    if (input.changeClass === 'tokenizer_template' && r.copiesTokenizerFiles && previous) {
      quantise.push({
        kind: 'quantise',
        targetKey: r.name,
        spec: { ...base, mode: 'copy-tokenizer', baseArtifactId: previous },
        label: `${r.name} v${r.version}: new tokenizer over the last artifact`,
      });
    } else {
      quantise.push({ kind: 'quantise', targetKey: r.name, spec: { ...base, mode: 'convert' }, label: `${r.name} v${r.version}` });
    }
  }
  if (recipes.length === 0) notes.push(`${clusterName} builds no recipe: the upstream checkpoint itself is validated.`);
  const candidates = quantise.length
    ? quantise.map((q) => ({ kind: 'quantise' as const, targetKey: q.targetKey }))
    : [{ kind: 'download' as const, targetKey: 'default' }];
  const validate: TPlanStep[] = candidates.map((c) => ({
    kind: 'validate',
    targetKey: c.kind === 'quantise' ? c.targetKey : UPSTREAM_CANDIDATE_KEY,
    spec: { clusterId, candidate: c },
    label: `Validate ${c.kind === 'quantise' ? c.targetKey : 'upstream checkpoint'} on ${clusterName}`,
  }));
  const stages: TPipelinePlan['stages'] = [{ stage: 'download', steps: [download] }];
  if (quantise.length) stages.push({ stage: 'quantise', steps: quantise });
  stages.push({ stage: 'validate', steps: validate });
  return { stages, notes };
}

/** Flattened steps in stage order with their positions (what pipeline_step rows are created from). */
export function planSteps(plan: TPipelinePlan): (TPlanStep & { position: number })[] {
  let position = 0;
  return plan.stages.flatMap((s) => s.steps.map((step) => ({ ...step, position: position++ })));
}

export const STAGE_ORDER: readonly TPipelineStage[] = ['download', 'quantise', 'validate'];

export type TStepStateLite = 'pending' | 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'skipped';

export type TAdvanceDecision =
  | { action: 'wait' }
  | { action: 'start_stage'; stage: TPipelineStage; stepIds: string[] }
  | { action: 'finish'; state: 'succeeded' | 'failed' | 'cancelled'; failedStepId: string | null }
  | { action: 'cancel_pending'; stepIds: string[] };

/**
 * The stage barrier: given the run's steps, what happens next. A stage starts only when every step of the
 * stages before it ended; a failed or cancelled step stops the run after its stage settles (later stages'
 * steps are cancelled); skipped counts as done.
 */
export function decideAdvance(
  steps: readonly { id: string; kind: TPipelineStage; state: TStepStateLite }[],
  opts: { cancelRequested: boolean },
): TAdvanceDecision {
  const active = steps.filter((s) => s.state === 'running');
  const notStarted = steps.filter((s) => s.state === 'pending' || s.state === 'queued');
  if (opts.cancelRequested) {
    if (notStarted.length) return { action: 'cancel_pending', stepIds: notStarted.map((s) => s.id) };
    if (active.length) return { action: 'wait' };
    return { action: 'finish', state: 'cancelled', failedStepId: null };
  }
  for (const stage of STAGE_ORDER) {
    const inStage = steps.filter((s) => s.kind === stage);
    if (inStage.length === 0) continue;
    if (inStage.some((s) => s.state === 'running')) return { action: 'wait' };
    const waiting = inStage.filter((s) => s.state === 'pending' || s.state === 'queued');
    const failed = inStage.find((s) => s.state === 'failed');
    const cancelled = inStage.some((s) => s.state === 'cancelled');
    // Steps of one stage run side by side: waiting ones start even when a sibling already failed (a retry).
    if (waiting.length) return { action: 'start_stage', stage, stepIds: waiting.map((s) => s.id) };
    if (failed || cancelled) {
      // The rest of the run cannot go on without this stage's outputs.
      if (notStarted.length) return { action: 'cancel_pending', stepIds: notStarted.map((s) => s.id) };
      return { action: 'finish', state: failed ? 'failed' : 'cancelled', failedStepId: failed?.id ?? null };
    }
  }
  return { action: 'finish', state: 'succeeded', failedStepId: null };
}

export interface TSummaryStep {
  kind: TPipelineStage;
  targetKey: string;
  state: TStepStateLite;
  error: string | null;
  /** quantise: the artifact already existed (same source + recipe digest) and was reused. */
  reused?: boolean;
}

const STAGE_LABEL: Record<TPipelineStage, string> = { download: 'Download', quantise: 'Quantise', validate: 'Validate' };

/** The run's one-line summary once it ended, from its steps (plain language, shown on the runs list). */
export function summarisePipelineRun(input: {
  state: 'succeeded' | 'failed' | 'cancelled';
  changeClass: TRevisionChangeClass;
  targetIsCluster: boolean;
  steps: readonly TSummaryStep[];
  downloadOnlySummary: string;
}): string {
  const { steps } = input;
  if (input.state === 'failed') {
    const failed = steps.find((s) => s.state === 'failed');
    if (!failed) return 'Failed.';
    const what = failed.kind === 'download' ? 'Download' : `${STAGE_LABEL[failed.kind]} ${failed.targetKey}`;
    return `${what} failed: ${failed.error ?? 'unknown error'}`;
  }
  if (input.state === 'cancelled') return 'Cancelled.';
  if (input.changeClass === 'docs') return 'Download verified. Docs-only revision: nothing is built or validated.';
  if (!input.targetIsCluster) return input.downloadOnlySummary;
  const parts = ['Download verified'];
  const built = steps.filter((s) => s.kind === 'quantise');
  if (built.length)
    parts.push(`built ${built.map((s) => `${s.targetKey}${s.reused ? ' (reused: same source and recipe)' : ''}`).join(', ')}`);
  const validate = steps.filter((s) => s.kind === 'validate');
  const skipped = validate.filter((s) => s.state === 'skipped');
  if (skipped.length) parts.push(`validate skipped: ${skipped[0]!.error ?? 'not run'}`);
  const passed = validate.filter((s) => s.state === 'succeeded');
  if (passed.length) parts.push(`validated ${passed.map((s) => s.targetKey).join(', ')}`);
  return `${parts.join('; ')}.`;
}

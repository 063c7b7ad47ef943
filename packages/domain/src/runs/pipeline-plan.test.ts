import { describe, expect, it } from 'vitest';
import { decideAdvance, planPipelineRun, planSteps, summarisePipelineRun, type TPlanRecipe } from './pipeline-plan';

const fp8: TPlanRecipe = { id: 'r1', name: 'fp8-block128', version: 2, digest: 'd-fp8', copiesTokenizerFiles: true };
const q8: TPlanRecipe = { id: 'r2', name: 'gguf-q8_0', version: 1, digest: 'd-q8', copiesTokenizerFiles: false };
const cluster = (recipes: TPlanRecipe[]) => ({ kind: 'cluster' as const, clusterId: 'c1', clusterName: 'lab', recipes });

describe('planPipelineRun', () => {
  it('weights: download, one quantise step per recipe, one validate step per candidate artifact', () => {
    const plan = planPipelineRun({ changeClass: 'weights', target: cluster([fp8, q8]) });
    expect(plan.stages.map((s) => s.stage)).toEqual(['download', 'quantise', 'validate']);
    expect(plan.stages[1]!.steps.map((s) => [s.targetKey, s.spec.mode, s.spec.recipeDigest])).toEqual([
      ['fp8-block128', 'convert', 'd-fp8'],
      ['gguf-q8_0', 'convert', 'd-q8'],
    ]);
    expect(plan.stages[2]!.steps.map((s) => s.spec)).toEqual([
      { clusterId: 'c1', candidate: { kind: 'quantise', targetKey: 'fp8-block128' } },
      { clusterId: 'c1', candidate: { kind: 'quantise', targetKey: 'gguf-q8_0' } },
    ]);
    expect(planSteps(plan).map((s) => `${s.position}:${s.kind}:${s.targetKey}`)).toEqual([
      '0:download:default',
      '1:quantise:fp8-block128',
      '2:quantise:gguf-q8_0',
      '3:validate:fp8-block128',
      '4:validate:gguf-q8_0',
    ]);
  });

  it('docs-only builds nothing', () => {
    const plan = planPipelineRun({ changeClass: 'docs', target: cluster([fp8]) });
    expect(plan.stages.map((s) => s.stage)).toEqual(['download']);
    expect(plan.notes[0]).toMatch(/Docs-only/);
  });

  it('the default target only downloads', () => {
    const plan = planPipelineRun({ changeClass: 'initial', target: { kind: 'default' } });
    expect(planSteps(plan).map((s) => s.kind)).toEqual(['download']);
  });

  it('a cluster without recipes validates the upstream checkpoint', () => {
    const plan = planPipelineRun({ changeClass: 'weights', target: cluster([]) });
    expect(plan.stages.map((s) => s.stage)).toEqual(['download', 'validate']);
    expect(plan.stages[1]!.steps[0]).toMatchObject({
      targetKey: 'upstream',
      spec: { candidate: { kind: 'download', targetKey: 'default' } },
    });
  });

  it('tokenizer-only: copies over the last artifact where the format keeps tokenizer files apart, rebuilds GGUF', () => {
    const plan = planPipelineRun({
      changeClass: 'tokenizer_template',
      target: cluster([fp8, q8]),
      previousBuilds: { 'd-fp8': 'art-old-fp8', 'd-q8': 'art-old-q8' },
    });
    const q = plan.stages[1]!.steps;
    expect(q[0]!.spec).toMatchObject({ mode: 'copy-tokenizer', baseArtifactId: 'art-old-fp8' });
    expect(q[1]!.spec).toMatchObject({ mode: 'convert' });
    expect(q[1]!.spec.baseArtifactId).toBeUndefined();
  });

  it('tokenizer-only without an earlier build of that recipe converts', () => {
    const plan = planPipelineRun({ changeClass: 'tokenizer_template', target: cluster([fp8]), previousBuilds: {} });
    expect(plan.stages[1]!.steps[0]!.spec.mode).toBe('convert');
  });
});

describe('decideAdvance (stage barrier)', () => {
  const s = (id: string, kind: 'download' | 'quantise' | 'validate', state: Parameters<typeof decideAdvance>[0][number]['state']) => ({
    id,
    kind,
    state,
  });

  it('starts the first stage with waiting steps once the stages before it are done', () => {
    expect(decideAdvance([s('d', 'download', 'queued'), s('q1', 'quantise', 'pending')], { cancelRequested: false })).toEqual({
      action: 'start_stage',
      stage: 'download',
      stepIds: ['d'],
    });
    expect(
      decideAdvance(
        [s('d', 'download', 'succeeded'), s('q1', 'quantise', 'pending'), s('q2', 'quantise', 'pending'), s('v', 'validate', 'pending')],
        {
          cancelRequested: false,
        },
      ),
    ).toEqual({ action: 'start_stage', stage: 'quantise', stepIds: ['q1', 'q2'] });
  });

  it('waits while a step of the current stage runs', () => {
    expect(
      decideAdvance([s('d', 'download', 'succeeded'), s('q1', 'quantise', 'running'), s('q2', 'quantise', 'pending')], {
        cancelRequested: false,
      }),
    ).toEqual({
      action: 'wait',
    });
  });

  it('a failed stage cancels what comes after it, then fails the run', () => {
    const steps = [
      s('d', 'download', 'succeeded'),
      s('q1', 'quantise', 'failed'),
      s('q2', 'quantise', 'succeeded'),
      s('v1', 'validate', 'pending'),
    ];
    expect(decideAdvance(steps, { cancelRequested: false })).toEqual({ action: 'cancel_pending', stepIds: ['v1'] });
    steps[3] = s('v1', 'validate', 'cancelled');
    expect(decideAdvance(steps, { cancelRequested: false })).toEqual({ action: 'finish', state: 'failed', failedStepId: 'q1' });
  });

  it('skipped steps count as done', () => {
    expect(decideAdvance([s('d', 'download', 'succeeded'), s('v', 'validate', 'skipped')], { cancelRequested: false })).toEqual({
      action: 'finish',
      state: 'succeeded',
      failedStepId: null,
    });
  });

  it('cancel: waiting steps are cancelled, running ones are waited for', () => {
    expect(decideAdvance([s('d', 'download', 'running'), s('q', 'quantise', 'pending')], { cancelRequested: true })).toEqual({
      action: 'cancel_pending',
      stepIds: ['q'],
    });
    expect(decideAdvance([s('d', 'download', 'running'), s('q', 'quantise', 'cancelled')], { cancelRequested: true })).toEqual({
      action: 'wait',
    });
    expect(decideAdvance([s('d', 'download', 'cancelled'), s('q', 'quantise', 'cancelled')], { cancelRequested: true })).toMatchObject({
      action: 'finish',
      state: 'cancelled',
    });
  });
});

describe('summarisePipelineRun', () => {
  const base = { changeClass: 'weights' as const, targetIsCluster: true, downloadOnlySummary: 'DL' };
  it('names what was built, what was reused and why validate was skipped', () => {
    expect(
      summarisePipelineRun({
        ...base,
        state: 'succeeded',
        steps: [
          { kind: 'download', targetKey: 'default', state: 'succeeded', error: null },
          { kind: 'quantise', targetKey: 'fp8-block128', state: 'succeeded', error: null, reused: true },
          { kind: 'validate', targetKey: 'fp8-block128', state: 'skipped', error: 'validate stage not available' },
        ],
      }),
    ).toBe('Download verified; built fp8-block128 (reused: same source and recipe); validate skipped: validate stage not available.');
  });
  it('names the failed step', () => {
    expect(
      summarisePipelineRun({
        ...base,
        state: 'failed',
        steps: [{ kind: 'quantise', targetKey: 'gguf-q8_0', state: 'failed', error: 'quality' }],
      }),
    ).toBe('Quantise gguf-q8_0 failed: quality');
    expect(
      summarisePipelineRun({ ...base, state: 'failed', steps: [{ kind: 'download', targetKey: 'default', state: 'failed', error: 'x' }] }),
    ).toBe('Download failed: x');
  });
  it('download-only and docs runs', () => {
    expect(summarisePipelineRun({ ...base, targetIsCluster: false, state: 'succeeded', steps: [] })).toBe('DL');
    expect(summarisePipelineRun({ ...base, changeClass: 'docs', state: 'succeeded', steps: [] })).toMatch(/Docs-only/);
  });
});

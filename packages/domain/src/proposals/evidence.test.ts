import { describe, expect, it } from 'vitest';
import type { TProposalEvidence } from '@fleetplane/contracts';
import { compatibilityRefusal, compatibilitySnapshot, sealProposalEvidence, validationRefusal } from './evidence';

const compat = { compatible: true, fits: true, fitSummary: 'fits on 8 GPUs', problem: null, verdicts: [] };
const evidence: TProposalEvidence = {
  schemaVersion: 1,
  artifactDigest: 'sha256:art',
  clusterId: 'c1',
  validation: { runId: 'r1', verdict: 'pass', evidenceDigest: 'sha256:val1' },
  compatibility: compat,
};

describe('proposal evidence digest', () => {
  it('is stable and independent of key order', () => {
    const a = sealProposalEvidence(evidence).digest;
    const reordered = {
      compatibility: compat,
      validation: evidence.validation,
      clusterId: 'c1',
      artifactDigest: 'sha256:art',
      schemaVersion: 1 as const,
    };
    expect(sealProposalEvidence(reordered).digest).toBe(a);
    expect(a).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('changes with the validation evidence, the run or the compatibility result', () => {
    const a = sealProposalEvidence(evidence).digest;
    expect(sealProposalEvidence({ ...evidence, validation: { ...evidence.validation!, evidenceDigest: 'sha256:val2' } }).digest).not.toBe(
      a,
    );
    expect(sealProposalEvidence({ ...evidence, validation: { ...evidence.validation!, runId: 'r2' } }).digest).not.toBe(a);
    expect(sealProposalEvidence({ ...evidence, compatibility: { ...compat, fits: false } }).digest).not.toBe(a);
    expect(sealProposalEvidence({ ...evidence, validation: null }).digest).not.toBe(a);
  });
});

describe('refusals', () => {
  it('refuses an incompatible artifact with the failed rules', () => {
    const snap = compatibilitySnapshot({
      report: {
        compatible: false,
        verdicts: [
          { rule: 'gguf_engine', status: 'fail', reason: 'GGUF files run only on llama.cpp or Ollama, not vLLM', source: 's' },
          { rule: 'fp8_hardware', status: 'not_applicable', reason: 'no FP8', source: '' },
        ],
        failures: [],
      },
      fits: null,
      fitSummary: null,
      problem: null,
    });
    expect(snap.verdicts).toHaveLength(2);
    expect(compatibilityRefusal(snap, 'prod')).toBe(
      'The artifact is not compatible with cluster "prod": GGUF files run only on llama.cpp or Ollama, not vLLM',
    );
  });

  it('refuses an artifact that does not fit', () => {
    expect(compatibilityRefusal({ ...compat, fits: false, fitSummary: 'needs 900 GB, has 640 GB' }, 'prod')).toBe(
      'The artifact does not fit on cluster "prod": needs 900 GB, has 640 GB',
    );
  });

  it('does not refuse when the check could not run', () => {
    expect(compatibilityRefusal({ ...compat, compatible: null, fits: null, problem: 'GPU not in catalog' }, 'prod')).toBeNull();
    expect(compatibilityRefusal(compat, 'prod')).toBeNull();
  });

  it('accepts passed or still running validation runs only', () => {
    expect(validationRefusal({ state: 'succeeded', verdict: 'pass', summary: '' })).toBeNull();
    expect(validationRefusal({ state: 'running', verdict: null, summary: '' })).toBeNull();
    expect(validationRefusal({ state: 'succeeded', verdict: 'fail', summary: '2 checks failed' })).toBe(
      'The validation run did not pass (fail): 2 checks failed',
    );
    expect(validationRefusal({ state: 'cancelled', verdict: null, summary: '' })).toBe('The validation run did not pass (cancelled)');
  });
});

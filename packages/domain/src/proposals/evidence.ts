import { ZProposalEvidence, type TProposalCompatibility, type TProposalEvidence } from '@fleetplane/contracts';
import { canonicalJson, sha256Hex } from '../validation/evidence';
import type { TCompatReport } from '../capacity/compatibility';

/**
 * The proposal's evidence and its digest: "sha256:" + hex SHA-256 of the canonical JSON (the same
 * encoding as validation evidence bundles). It covers the validation run's own sealed digest, so a
 * changed check result, a different run or a changed compatibility / fit verdict gives a new digest
 * and the approvals bound to the old one stop counting.
 */
export function sealProposalEvidence(evidence: TProposalEvidence): { evidence: TProposalEvidence; digest: string } {
  const parsed = ZProposalEvidence.parse(evidence);
  return { evidence: parsed, digest: `sha256:${sha256Hex(canonicalJson(parsed))}` };
}

/** The compatibility snapshot stored with a proposal, from the capacity rules' report. */
export function compatibilitySnapshot(input: {
  report: TCompatReport | null;
  fits: boolean | null;
  fitSummary: string | null;
  problem: string | null;
}): TProposalCompatibility {
  return {
    compatible: input.report ? input.report.compatible : null,
    fits: input.fits,
    fitSummary: input.fitSummary,
    problem: input.problem,
    verdicts: (input.report?.verdicts ?? []).map((v) => ({ rule: v.rule, status: v.status, reason: v.reason })),
  };
}

/**
 * Why an artifact may not be proposed for (or rolled out to) a cluster, or null. A failed compatibility
 * rule or a failed fit check refuses; a check that could not run (unknown GPU, no architecture) does not.
 */
export function compatibilityRefusal(compat: TProposalCompatibility, clusterName: string): string | null {
  if (compat.compatible === false) {
    const failed = compat.verdicts.filter((v) => v.status === 'fail').map((v) => v.reason);
    return `The artifact is not compatible with cluster "${clusterName}": ${failed.join('; ')}`;
  }
  if (compat.fits === false)
    return `The artifact does not fit on cluster "${clusterName}"${compat.fitSummary ? `: ${compat.fitSummary}` : ''}`;
  return null;
}

/** Validation verdicts an upgrade may be proposed on. */
export function validationRefusal(run: { state: string; verdict: string | null; summary: string }): string | null {
  if (run.state === 'queued' || run.state === 'running') return null;
  if (run.verdict === 'pass') return null;
  return `The validation run did not pass (${run.verdict ?? run.state})${run.summary ? `: ${run.summary}` : ''}`;
}

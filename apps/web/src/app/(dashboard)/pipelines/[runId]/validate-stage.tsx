'use client';
import Link from 'next/link';
import type { RouterOutputs } from '@fleetplane/api';
import { Card, CardContent, CardHeader, CardTitle } from '~/components/ui/card';
import { RunStateBadge } from '~/components/upstream/upstream-badges';
import { StepLogLines } from './step-log';

type Step = RouterOutputs['pipelines']['get']['steps'][number];

/** What the validate step writes into its progress (ValidateStepProgress in services). */
interface ValidateProgress {
  phase?: 'choosing_node' | 'waiting_for_node' | 'loading' | 'validating' | 'restoring' | 'done';
  message?: string;
  clusterName?: string;
  nodeId?: string;
  nodeHostname?: string;
  validationRunId?: string;
  proposalId?: string;
  verdict?: string | null;
  /** Why the staging node could not be put back (its failed-restore alert stays open until it is). */
  restoreError?: string;
}

const PHASES: Record<NonNullable<ValidateProgress['phase']>, string> = {
  choosing_node: 'choosing the staging node',
  waiting_for_node: 'waiting for the staging node',
  loading: 'loading the candidate',
  validating: 'running the gating suite',
  restoring: 'putting the node back',
  done: 'done',
};

function Info({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div>
      <dt className="text-xs uppercase tracking-wide text-muted-foreground">{label}</dt>
      <dd className="mt-0.5 text-sm">{children}</dd>
    </div>
  );
}

function ValidateStep({ step }: { step: Step }) {
  const p = step.progress as ValidateProgress;
  return (
    <section className="space-y-3" data-testid="validate-step" aria-label={`Validate ${step.targetKey}`}>
      <div className="flex flex-wrap items-center gap-2">
        <h3 className="font-medium">
          {step.targetKey === 'upstream' ? 'Upstream checkpoint' : step.targetKey}
          {p.clusterName ? ` on ${p.clusterName}` : ''}
        </h3>
        <RunStateBadge state={step.state} />
        {step.state === 'running' && p.phase ? <span className="text-sm text-muted-foreground">{PHASES[p.phase]}</span> : null}
      </div>
      <dl className="grid grid-cols-2 gap-4 md:grid-cols-4">
        <Info label="Staging node">
          {p.nodeId ? (
            <Link className="text-primary hover:underline" href={`/nodes/${p.nodeId}`} data-testid="validate-node">
              {p.nodeHostname ?? p.nodeId}
            </Link>
          ) : (
            'not chosen yet'
          )}
        </Info>
        <Info label="Validation run">
          {p.validationRunId ? (
            <Link className="text-primary hover:underline" href={`/validation/${p.validationRunId}`} data-testid="validate-run-link">
              {p.validationRunId.slice(0, 10)}…{p.verdict ? ` (${p.verdict})` : ''}
            </Link>
          ) : (
            'not started'
          )}
        </Info>
        <Info label="Proposal">
          {p.proposalId ? (
            <Link className="text-primary hover:underline" href={`/proposals/${p.proposalId}`} data-testid="validate-proposal-link">
              {p.proposalId.slice(0, 10)}…
            </Link>
          ) : (
            'none'
          )}
        </Info>
        <Info label="Attempts">{step.attempts}</Info>
      </dl>
      {p.message ? (
        <p className="text-sm" data-testid="validate-message">
          {p.message}
        </p>
      ) : null}
      {step.error && step.error !== p.message ? <p className="text-sm text-destructive">{step.error}</p> : null}
      {p.restoreError ? (
        <p className="text-sm text-destructive" data-testid="validate-restore-failed">
          {p.nodeHostname ?? 'The staging node'} was not put back ({p.restoreError}). An alert stays open until it serves what it served
          before.
        </p>
      ) : null}
      <StepLogLines step={step} testId="validate-logs" className="max-h-60" />
    </section>
  );
}

/** The validate stage: one block per (candidate, cluster) with its staging node, run and proposal. */
export function ValidateStages({ steps }: { steps: Step[] }) {
  const validate = steps.filter((s) => s.kind === 'validate');
  if (!validate.length) return null;
  return (
    <Card>
      <CardHeader>
        <CardTitle>Validate on the staging node</CardTitle>
      </CardHeader>
      <CardContent className="space-y-6">
        {validate.map((step) => (
          <ValidateStep key={step.id} step={step} />
        ))}
      </CardContent>
    </Card>
  );
}

'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import { ArrowRight, RotateCcw, Square } from 'lucide-react';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { toast } from 'sonner';
import type { RouterOutputs } from '@fleetplane/api';
import { ConfirmDialog } from '~/components/confirm-dialog';
import { useCan } from '~/components/session-context';
import { ErrorState, PageHeader } from '~/components/states';
import { Button } from '~/components/ui/button';
import { Card, CardContent, CardHeader, CardTitle } from '~/components/ui/card';
import { Skeleton } from '~/components/ui/skeleton';
import { cn, formatBytes, formatDateTime } from '~/lib/utils';
import { useTRPC } from '~/trpc/react';
import { ChangeBadge, RunStateBadge, runTargetLabel } from '~/components/upstream/upstream-badges';
import { StepLogLines } from './step-log';
import { ValidateStages } from './validate-stage';

type Run = RouterOutputs['pipelines']['get'];
type Step = Run['steps'][number];

const STAGES = [
  { kind: 'download', label: 'Download' },
  { kind: 'quantise', label: 'Quantise' },
  { kind: 'validate', label: 'Validate' },
] as const;

interface Progress {
  bytesDone?: number;
  bytesTotal?: number;
  bytesPerSecond?: number;
  etaSeconds?: number | null;
  filesDone?: number;
  filesTotal?: number;
  currentFiles?: string[];
}

function formatEta(s: number | null | undefined): string {
  if (s === null || s === undefined) return '—';
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

function stepPercent(step: Step): number | null {
  const p = step.progress as Progress & QuantiseProgress;
  if (step.state === 'succeeded') return 100;
  if (step.state !== 'running') return null;
  const total = p.bytesTotal ?? 0;
  // Steps that move no bytes (validate: choosing a node, loading, running the suite) have a phase, not a percentage.
  return total > 0 ? Math.min(100, ((p.bytesDone ?? 0) / total) * 100) : null;
}

/** A running step's phase as words ("loading", "validating"), when it reports one instead of bytes. */
function stepPhase(step: Step): string | null {
  const phase = (step.progress as { phase?: unknown } | null)?.phase;
  return step.state === 'running' && typeof phase === 'string' && phase ? phase.replace(/_/g, ' ') : null;
}

function stepLabel(step: Step): string {
  return step.kind === 'download' ? 'verified download' : step.targetKey;
}

/** One column per stage, one node per step (a quantise step per recipe, a validate step per candidate artifact). */
function StageGraph({ steps }: { steps: Step[] }) {
  return (
    <ol className="flex flex-wrap items-start gap-2" data-testid="stage-graph" aria-label="Pipeline stages">
      {STAGES.map((stage, i) => {
        const inStage = steps.filter((s) => s.kind === stage.kind);
        return (
          <li key={stage.kind} className="flex items-start gap-2">
            <div
              className={cn(
                'min-w-44 rounded-lg border px-3 py-3',
                inStage.length ? 'bg-card' : 'border-dashed bg-muted/40 text-muted-foreground',
              )}
              data-testid={`stage-${stage.kind}`}
            >
              <p className="mb-2 font-medium">{stage.label}</p>
              {inStage.length ? (
                <ul className="space-y-2">
                  {inStage.map((step) => {
                    const pct = stepPercent(step);
                    return (
                      <li key={step.id} className="rounded-md border px-2 py-1.5" data-testid={`step-${step.kind}-${step.targetKey}`}>
                        <p className="truncate font-mono text-xs">{stepLabel(step)}</p>
                        <div className="mt-1 flex items-center gap-2">
                          <RunStateBadge state={step.state} />
                          {pct !== null && step.state === 'running' ? (
                            <span className="text-xs tabular-nums">{pct.toFixed(0)}%</span>
                          ) : (
                            stepPhase(step) && <span className="text-xs text-muted-foreground">{stepPhase(step)}</span>
                          )}
                        </div>
                      </li>
                    );
                  })}
                </ul>
              ) : (
                <p className="text-xs">not part of this run</p>
              )}
            </div>
            {i < STAGES.length - 1 ? <ArrowRight className="mt-4 size-4 text-muted-foreground" aria-hidden /> : null}
          </li>
        );
      })}
    </ol>
  );
}

interface QuantiseProgress {
  tensorsDone?: number;
  tensorsTotal?: number;
  phase?: string;
  tensor?: string;
  reused?: boolean;
  artifactId?: string;
}

function QuantiseProgressView({ step }: { step: Step }) {
  const p = step.progress as Progress & QuantiseProgress;
  if (p.reused)
    return (
      <p className="text-sm" data-testid="quantise-progress">
        Reused: an artifact built from the same source with the same recipe already exists.
      </p>
    );
  const pct = stepPercent(step) ?? 0;
  return (
    <div className="space-y-2" data-testid="quantise-progress">
      <div
        className="h-3 w-full overflow-hidden rounded-full bg-muted"
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(pct)}
        aria-label={`Quantise ${step.targetKey} progress`}
      >
        <div
          className={cn('h-full transition-all', step.state === 'failed' ? 'bg-destructive' : 'bg-primary')}
          style={{ width: `${pct}%` }}
        />
      </div>
      <div className="flex flex-wrap gap-x-6 gap-y-1 text-sm tabular-nums">
        <span>
          {p.tensorsDone ?? 0}/{p.tensorsTotal ?? 0} tensors
          {p.phase === 'tool' ? ' (external tool)' : p.phase === 'input' ? ' (preparing the tool input)' : ''}
        </span>
        {step.state === 'running' ? (
          <>
            <span>{p.phase === 'tool' ? '' : `${formatBytes(p.bytesPerSecond ?? 0)}/s`}</span>
            <span>ETA {formatEta(p.etaSeconds)}</span>
          </>
        ) : null}
        <span className="text-muted-foreground">attempt {step.attempts}</span>
      </div>
      {step.state === 'running' && p.tensor ? <p className="font-mono text-xs text-muted-foreground">{p.tensor}</p> : null}
    </div>
  );
}

function StepLog({ step }: { step: Step }) {
  return (
    <div>
      <h3 className="mb-2 text-sm font-medium">Log</h3>
      <StepLogLines step={step} testId="step-logs" className="max-h-80" />
    </div>
  );
}

function DownloadProgress({ step }: { step: Step }) {
  const p = step.progress as Progress;
  const total = p.bytesTotal ?? 0;
  const done = p.bytesDone ?? 0;
  const pct = total > 0 ? Math.min(100, (done / total) * 100) : step.state === 'succeeded' ? 100 : 0;
  return (
    <div className="space-y-2" data-testid="download-progress">
      <div
        className="h-3 w-full overflow-hidden rounded-full bg-muted"
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(pct)}
        aria-label="Download progress"
      >
        <div
          className={cn('h-full transition-all', step.state === 'failed' ? 'bg-destructive' : 'bg-primary')}
          style={{ width: `${pct}%` }}
        />
      </div>
      <div className="flex flex-wrap gap-x-6 gap-y-1 text-sm tabular-nums">
        <span data-testid="progress-bytes">
          {formatBytes(done)} / {formatBytes(total)} ({pct.toFixed(0)}%)
        </span>
        <span>
          {p.filesDone ?? 0}/{p.filesTotal ?? 0} files
        </span>
        {step.state === 'running' ? (
          <>
            <span>{formatBytes(p.bytesPerSecond ?? 0)}/s</span>
            <span>ETA {formatEta(p.etaSeconds)}</span>
          </>
        ) : null}
        <span className="text-muted-foreground">attempt {step.attempts}</span>
      </div>
      {step.state === 'running' && p.currentFiles?.length ? (
        <p className="font-mono text-xs text-muted-foreground">{p.currentFiles.join(', ')}</p>
      ) : null}
      {step.error ? <p className="text-sm text-destructive">{step.error}</p> : null}
    </div>
  );
}

export function RunDetail({ runId }: { runId: string }) {
  const trpc = useTRPC();
  const canOperate = useCan('operator');
  const run = useQuery({
    ...trpc.pipelines.get.queryOptions({ id: runId }),
    refetchInterval: (q) => (q.state.data && (q.state.data.state === 'queued' || q.state.data.state === 'running') ? 1000 : false),
  });
  const onError = (e: { message: string }) => toast.error(e.message);
  const cancel = useMutation(trpc.pipelines.cancel.mutationOptions({ onError }));
  const retry = useMutation(trpc.pipelines.retry.mutationOptions({ onError, onSuccess: () => void run.refetch() }));
  const retryStep = useMutation(trpc.pipelines.retryStep.mutationOptions({ onError, onSuccess: () => void run.refetch() }));

  if (run.isError && run.error.data?.code === 'NOT_FOUND') notFound();
  if (run.isPending) return <Skeleton className="h-40" />;
  if (run.isError) return <ErrorState error={run.error} onRetry={() => void run.refetch()} />;
  const r = run.data;
  const live = r.state === 'queued' || r.state === 'running';
  const download = r.steps.find((s) => s.kind === 'download');

  return (
    <div className="space-y-6">
      <PageHeader
        title={`${r.revision.trackedRepo.hubRepoId} @ ${r.revision.commitSha.slice(0, 12)}`}
        description={
          <span className="inline-flex flex-wrap items-center gap-2" data-testid="run-status">
            <RunStateBadge state={r.state} /> <ChangeBadge changeClass={r.revision.changeClass} />
            {r.cancelRequestedAt && live ? <span>cancelling…</span> : null}
            <span>
              {r.trigger} run for {runTargetLabel(r)}, created {formatDateTime(r.createdAt)}
              {r.triggeredBy ? ` by ${r.triggeredBy.name}` : ''}
            </span>
            <Link className="text-primary hover:underline" href={`/models/revisions/${r.revision.id}`}>
              revision
            </Link>
          </span>
        }
        actions={
          canOperate ? (
            <>
              {live && !r.cancelRequestedAt ? (
                <ConfirmDialog
                  title="Cancel this run?"
                  description="Running steps stop within a second. Partial downloads are kept, so a retry resumes them; a quantise step leaves no artifact and a retry starts it clean."
                  confirmLabel="Cancel run"
                  trigger={
                    <Button variant="outline">
                      <Square /> Cancel
                    </Button>
                  }
                  onConfirm={async () => {
                    await cancel.mutateAsync({ id: runId });
                    await run.refetch();
                  }}
                />
              ) : null}
              {r.state === 'failed' || r.state === 'cancelled' ? (
                <Button variant="outline" onClick={() => retry.mutate({ id: runId })} disabled={retry.isPending}>
                  <RotateCcw /> Retry
                </Button>
              ) : null}
            </>
          ) : null
        }
      />
      <Card>
        <CardContent className="space-y-4 pt-6">
          <StageGraph steps={r.steps} />
          <p className="text-sm" data-testid="run-summary">
            {r.summary}
          </p>
          {r.error && r.error !== download?.error ? <p className="text-sm text-destructive">{r.error}</p> : null}
        </CardContent>
      </Card>
      {r.steps
        .filter((step) => step.kind !== 'validate')
        .map((step) => (
          <Card key={step.id} data-testid={`step-card-${step.kind}-${step.targetKey}`}>
            <CardHeader className="flex flex-row items-center justify-between gap-2 space-y-0">
              <CardTitle className="flex items-center gap-2">
                {step.kind === 'download'
                  ? 'Download'
                  : step.kind === 'quantise'
                    ? `Quantise · ${step.targetKey}`
                    : `Validate · ${step.targetKey}`}
                <RunStateBadge state={step.state} />
              </CardTitle>
              <div className="flex items-center gap-2">
                {step.artifactId ? (
                  <Link className="text-sm text-primary hover:underline" href={`/artifacts/${step.artifactId}`}>
                    artifact
                  </Link>
                ) : null}
                {canOperate && !live && (step.state === 'failed' || step.state === 'cancelled') ? (
                  <Button size="sm" variant="outline" onClick={() => retryStep.mutate({ stepId: step.id })} disabled={retryStep.isPending}>
                    <RotateCcw /> Retry step
                  </Button>
                ) : null}
              </div>
            </CardHeader>
            <CardContent className="space-y-4">
              {step.kind === 'download' ? <DownloadProgress step={step} /> : null}
              {step.kind === 'quantise' && step.state !== 'pending' ? <QuantiseProgressView step={step} /> : null}
              {step.spec.recipeName ? (
                <p className="text-sm text-muted-foreground">
                  Recipe {step.spec.recipeName} v{step.spec.recipeVersion}
                  {step.spec.mode === 'copy-tokenizer' ? ' · tokenizer-only: new tokenizer files over the last artifact' : ''}
                </p>
              ) : null}
              {step.kind !== 'download' && step.error ? (
                <p className={cn('text-sm', step.state === 'skipped' ? 'text-muted-foreground' : 'text-destructive')}>
                  {step.state === 'skipped' ? `Skipped: ${step.error}` : step.error}
                </p>
              ) : null}
              {step.state !== 'pending' ? <StepLog step={step} /> : null}
            </CardContent>
          </Card>
        ))}
      <ValidateStages steps={r.steps} />
      {r.artifacts.length ? (
        <Card>
          <CardHeader>
            <CardTitle>Artifacts</CardTitle>
          </CardHeader>
          <CardContent className="space-y-2 text-sm" data-testid="artifacts">
            {r.artifacts.map((a) => (
              <div key={a.id}>
                <p>
                  <Link className="text-primary hover:underline" href={`/artifacts/${a.id}`}>
                    {a.format} · {a.quantisation}
                  </Link>{' '}
                  · {formatBytes(a.sizeBytes)} · {a.status}
                  {a.quantRecipe ? ` · recipe ${a.quantRecipe.name} v${a.quantRecipe.version}` : ' · upstream download'}
                </p>
                <p className="font-mono text-xs text-muted-foreground">digest {a.digest}</p>
                <p className="font-mono text-xs text-muted-foreground">{a.storageUri}</p>
              </div>
            ))}
          </CardContent>
        </Card>
      ) : null}
    </div>
  );
}

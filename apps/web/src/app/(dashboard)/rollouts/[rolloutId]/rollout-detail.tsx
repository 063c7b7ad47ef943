'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import { FastForward, Pause, Play, Square } from 'lucide-react';
import Link from 'next/link';
import { toast } from 'sonner';
import { TERMINAL_ROLLOUT_STATES } from '@fleetplane/contracts';
import type { RouterOutputs } from '@fleetplane/api';
import { ConfirmDialog } from '~/components/confirm-dialog';
import { RolloutNodeStateBadge, RolloutStateBadge, shortDigest } from '~/components/rollouts/rollout-badges';
import { useCan } from '~/components/session-context';
import { EmptyState, PageHeader, QueryView } from '~/components/states';
import { Alert, AlertDescription } from '~/components/ui/alert';
import { Badge } from '~/components/ui/badge';
import { Button } from '~/components/ui/button';
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from '~/components/ui/card';
import { Skeleton } from '~/components/ui/skeleton';
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '~/components/ui/table';
import { rolloutPlanText } from '~/lib/rollout-plan-text';
import { formatDateTime } from '~/lib/utils';
import { useInvalidateRollouts } from '~/trpc/invalidate';
import { useTRPC } from '~/trpc/react';
import { AnalysisCharts } from './analysis-charts';
import { countOf } from '@fleetplane/domain';

type Rollout = RouterOutputs['rollouts']['get'];
type Node = Rollout['nodes'][number];

/** Nodes per step as the rollout planned them: the canary first, then each wave. */
const stepSizes = (r: Rollout): number[] => Array.from({ length: r.stepCount }, (_, step) => r.nodes.filter((n) => n.step === step).length);

const stepName = (step: number) => (step === 0 ? 'Canary' : `Wave ${step}`);

function commandText(n: Node): string {
  const c = n.rollback ?? n.load ?? n.prefetch;
  if (!c) return '—';
  const what = n.rollback ? 'rollback' : n.load ? 'load' : 'prefetch';
  return `${what}: ${c.state}${c.error ? ` (${c.error})` : ''}`;
}

/** Nodes grouped by step, each with its state and latest command: the live stage view. */
function StageView({ r }: { r: Rollout }) {
  const steps = [...new Set(r.nodes.map((n) => n.step))].sort((a, b) => a - b);
  return (
    <div className="grid gap-3 md:grid-cols-2 xl:grid-cols-3" data-testid="stage-view">
      {steps.map((step) => {
        const current = step === r.currentStep && !TERMINAL_ROLLOUT_STATES.includes(r.state);
        return (
          <section
            key={step}
            className={`rounded-md border p-3 ${current ? 'border-primary ring-1 ring-primary' : ''}`}
            aria-label={stepName(step)}
          >
            <h3 className="mb-2 flex items-center justify-between text-sm font-medium">
              {stepName(step)}
              {current ? <span className="text-xs text-primary">current</span> : null}
            </h3>
            <ul className="space-y-2">
              {r.nodes
                .filter((n) => n.step === step)
                .map((n) => (
                  <li
                    key={n.nodeId}
                    className="flex flex-wrap items-center justify-between gap-2 text-sm"
                    data-testid={`rollout-node-${n.hostname}`}
                  >
                    <Link href={`/nodes/${n.nodeId}`} className="font-medium hover:underline">
                      {n.hostname}
                    </Link>
                    <RolloutNodeStateBadge state={n.state} />
                    {/* What the node served before and what this rollout puts on it, by digest. */}
                    <p className="w-full font-mono text-xs" data-testid="rollout-node-digests">
                      {n.previousArtifact ? shortDigest(n.previousArtifact.digest) : 'nothing'} → {shortDigest(r.artifact.digest)}
                    </p>
                    <p className="w-full text-xs text-muted-foreground">
                      {commandText(n)}
                      {n.error ? ` · ${n.error}` : ''}
                      {n.previousArtifact ? ` · was ${n.previousArtifact.label}` : ' · nothing served before'}
                    </p>
                  </li>
                ))}
            </ul>
          </section>
        );
      })}
    </div>
  );
}

function Actions({ r }: { r: Rollout }) {
  const trpc = useTRPC();
  const invalidate = useInvalidateRollouts();
  const pause = useMutation(trpc.rollouts.pause.mutationOptions());
  const resume = useMutation(trpc.rollouts.resume.mutationOptions());
  const promote = useMutation(trpc.rollouts.promote.mutationOptions());
  const abort = useMutation(trpc.rollouts.abort.mutationOptions());
  if (TERMINAL_ROLLOUT_STATES.includes(r.state) || r.state === 'rolling_back') return null;
  const run = async (label: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
      toast.success(label);
    } catch (e) {
      toast.error((e as Error).message);
    }
    await invalidate();
  };
  const canPromote = r.state === 'analysing' || (r.state === 'paused' && r.pausedFrom === 'analysing');
  return (
    <div className="flex flex-wrap gap-2">
      {r.state === 'paused' ? (
        <Button
          variant="outline"
          onClick={() => run('Rollout resumed', () => resume.mutateAsync({ id: r.id }))}
          disabled={resume.isPending}
        >
          <Play /> Resume
        </Button>
      ) : (
        <Button variant="outline" onClick={() => run('Rollout paused', () => pause.mutateAsync({ id: r.id }))} disabled={pause.isPending}>
          <Pause /> Pause
        </Button>
      )}
      {canPromote ? (
        <ConfirmDialog
          title="Promote this step?"
          description="Ends the current analysis window as passed and moves on to the next wave (or completes the rollout). Audited."
          confirmLabel="Promote"
          trigger={
            <Button variant="outline">
              <FastForward /> Promote
            </Button>
          }
          onConfirm={() => promote.mutateAsync({ id: r.id }).then(() => invalidate())}
        />
      ) : null}
      <ConfirmDialog
        title="Abort this rollout?"
        description="Every node the rollout touched goes back to the artifact it served before. Audited."
        confirmLabel="Abort and roll back"
        trigger={
          <Button variant="destructive">
            <Square /> Abort
          </Button>
        }
        onConfirm={() => abort.mutateAsync({ id: r.id }).then(() => invalidate())}
      />
    </div>
  );
}

export function RolloutDetail({ rolloutId }: { rolloutId: string }) {
  const trpc = useTRPC();
  const canAct = useCan('operator');
  const query = useQuery({
    ...trpc.rollouts.get.queryOptions({ id: rolloutId }),
    // The stage view is live: poll while the rollout moves.
    refetchInterval: (q) => (q.state.data && TERMINAL_ROLLOUT_STATES.includes(q.state.data.state) ? false : 2000),
  });
  return (
    <QueryView query={query} skeleton={<Skeleton className="h-64 w-full" />}>
      {(r) => {
        const failedChecks = r.analyses.filter((a) => a.passed === false);
        return (
          <div className="space-y-6">
            <PageHeader
              title={`${r.kind === 'rollback' ? 'Rollback' : 'Rollout'} of ${r.artifact.label}`}
              description={
                <>
                  to{' '}
                  <Link href={`/clusters/${r.cluster.id}`} className="text-primary hover:underline">
                    {r.cluster.name}
                  </Link>{' '}
                  · started {formatDateTime(r.createdAt)} by {r.requestedBy ?? 'unknown'}
                  {r.finishedAt ? ` · ended ${formatDateTime(r.finishedAt)}` : ''}
                </>
              }
              actions={canAct ? <Actions r={r} /> : null}
            />
            <Card>
              <CardHeader>
                <CardTitle className="flex items-center gap-2">
                  <RolloutStateBadge state={r.state} />
                  <span className="text-sm font-normal text-muted-foreground">
                    step {Math.min(r.currentStep + 1, r.stepCount)} of {r.stepCount}
                    {r.state === 'paused' && r.pausedFrom ? ` · paused while ${r.pausedFrom.replace(/_/g, ' ')}` : ''}
                  </span>
                </CardTitle>
                <CardDescription data-testid="rollout-reason">{r.reason}</CardDescription>
              </CardHeader>
              <CardContent className="space-y-2 text-sm text-muted-foreground">
                <p>
                  Artifact <span className="font-mono">{shortDigest(r.artifact.digest)}</span>
                  {r.proposal ? (
                    <>
                      {' '}
                      · proposal{' '}
                      <Link href={`/proposals/${r.proposal.id}`} className="font-mono text-primary underline">
                        {r.proposal.id}
                      </Link>{' '}
                      ({r.proposal.state.replace(/_/g, ' ')})
                    </>
                  ) : null}
                </p>
                <p data-testid="rollout-plan">
                  Plan: {rolloutPlanText(stepSizes(r), r.policy.waves)} Each step is followed by {countOf(r.policy.analysisChecks, 'check')}{' '}
                  every {r.policy.analysisIntervalSeconds} s, failure limit {r.policy.failureLimit}.
                </p>
              </CardContent>
            </Card>
            {failedChecks.length && (r.state === 'rolled_back' || r.state === 'rolling_back' || r.state === 'failed') ? (
              <Alert variant="destructive">
                <AlertDescription>
                  Analysis failed: {failedChecks.map((a) => `${stepName(a.step)} check ${a.checkNo}: ${a.failures.join('; ')}`).join(' · ')}
                </AlertDescription>
              </Alert>
            ) : null}
            <Card>
              <CardHeader>
                <CardTitle>Stages</CardTitle>
                <CardDescription>
                  Every node prefetches first; then the canary, then each wave, each followed by an analysis window.
                </CardDescription>
              </CardHeader>
              <CardContent>
                <StageView r={r} />
              </CardContent>
            </Card>
            <Card>
              <CardHeader>
                <CardTitle>Analysis</CardTitle>
                <CardDescription>
                  The step&apos;s nodes against the nodes still on the previous artifact, from the engines&apos; own metrics.
                </CardDescription>
              </CardHeader>
              <CardContent className="space-y-4">
                {r.analyses.length === 0 ? (
                  <EmptyState title="No checks yet" description="Checks start once the canary serves the new artifact." />
                ) : (
                  <>
                    <AnalysisCharts analyses={r.analyses} />
                    <Table>
                      <TableHeader>
                        <TableRow>
                          <TableHead>Check</TableHead>
                          <TableHead>Result</TableHead>
                          <TableHead>TTFT p99 (s)</TableHead>
                          <TableHead>Error rate</TableHead>
                          <TableHead>Tokens/s per node</TableHead>
                          <TableHead>Why</TableHead>
                        </TableRow>
                      </TableHeader>
                      <TableBody>
                        {r.analyses.map((a) => {
                          const m = a.metrics as Record<string, number | null>;
                          const f = (v: number | null | undefined, d = 3) =>
                            typeof v === 'number' ? Number(v.toPrecision(d)).toString() : '—';
                          return (
                            <TableRow key={`${a.step}-${a.checkNo}`} data-testid={`analysis-${a.step}-${a.checkNo}`}>
                              <TableCell>
                                {stepName(a.step)} #{a.checkNo}
                                <p className="text-xs text-muted-foreground">{formatDateTime(a.measuredAt)}</p>
                              </TableCell>
                              <TableCell>
                                {a.passed === null ? (
                                  <Badge variant="warning">inconclusive</Badge>
                                ) : (
                                  <>
                                    <RolloutNodeStateBadge state={a.passed ? 'serving' : 'failed'} />
                                    <span className="sr-only">{a.passed ? 'passed' : 'failed'}</span>
                                  </>
                                )}
                              </TableCell>
                              <TableCell className="tabular-nums">
                                {f(m.canaryTtftP99Seconds)} <span className="text-muted-foreground">vs {f(m.baselineTtftP99Seconds)}</span>
                              </TableCell>
                              <TableCell className="tabular-nums">
                                {typeof m.canaryErrorRatePct === 'number' ? `${f(m.canaryErrorRatePct)} %` : '—'}
                              </TableCell>
                              <TableCell className="tabular-nums">
                                {f(m.canaryTokensPerSecondPerNode)}{' '}
                                <span className="text-muted-foreground">vs {f(m.baselineTokensPerSecondPerNode)}</span>
                              </TableCell>
                              <TableCell className="max-w-md text-xs text-muted-foreground">
                                {[...a.failures, ...a.notes].join('; ') || 'within thresholds'}
                              </TableCell>
                            </TableRow>
                          );
                        })}
                      </TableBody>
                    </Table>
                  </>
                )}
              </CardContent>
            </Card>
          </div>
        );
      }}
    </QueryView>
  );
}

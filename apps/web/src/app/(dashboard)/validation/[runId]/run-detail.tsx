'use client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Download, ShieldCheck, Square } from 'lucide-react';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { useState } from 'react';
import { toast } from 'sonner';
import type { RouterOutputs } from '@fleetplane/api';
import { ConfirmDialog } from '~/components/confirm-dialog';
import { ProposeUpgradeDialog } from '~/components/proposals/propose-upgrade-dialog';
import { useCan } from '~/components/session-context';
import { ErrorState, PageHeader } from '~/components/states';
import { Button } from '~/components/ui/button';
import { Card, CardContent, CardHeader, CardTitle } from '~/components/ui/card';
import { Skeleton } from '~/components/ui/skeleton';
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '~/components/ui/table';
import { formatDateTime } from '~/lib/utils';
import { useTRPC } from '~/trpc/react';
import { LatencyPercentileChart, perfLevels, RetrievalHeatmap, ThroughputChart } from '../validation-charts';
import { StateBadge, VerdictBadge } from '../verdict-badge';

type Run = RouterOutputs['validationRuns']['get'];
type Check = Run['checks'][number];

function Info({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div>
      <dt className="text-xs uppercase tracking-wide text-muted-foreground">{label}</dt>
      <dd className="mt-0.5 text-sm">{children}</dd>
    </div>
  );
}

function progressOf(c: Check): string | null {
  const p = (c.metrics as { progress?: { done: number; total: number } }).progress;
  return c.state === 'running' && p ? `${p.done}/${p.total} requests` : null;
}

function CheckRow({ c }: { c: Check }) {
  const [open, setOpen] = useState(c.verdict === 'fail' || c.verdict === 'error');
  return (
    <>
      <TableRow data-testid={`check-${c.key}`}>
        <TableCell>
          <p className="font-medium">{c.title}</p>
          <p className="font-mono text-xs text-muted-foreground">
            {c.key} · {c.kind}
            {c.required ? '' : ' · optional'}
          </p>
        </TableCell>
        <TableCell>
          <span className="inline-flex items-center gap-2">
            {c.verdict ? <VerdictBadge verdict={c.verdict} /> : <StateBadge state={c.state} />}
            {progressOf(c) ? <span className="text-xs tabular-nums text-muted-foreground">{progressOf(c)}</span> : null}
          </span>
        </TableCell>
        <TableCell className="tabular-nums">{c.score === null ? '—' : `${(c.score * 100).toFixed(1)}%`}</TableCell>
        <TableCell className="tabular-nums text-muted-foreground">{c.verdict ? `${(c.durationMs / 1000).toFixed(1)} s` : '—'}</TableCell>
        <TableCell className="text-right">
          {c.explanation ? (
            <Button variant="ghost" size="sm" onClick={() => setOpen(!open)} aria-expanded={open}>
              {open ? 'Hide' : 'Why'}
            </Button>
          ) : null}
        </TableCell>
      </TableRow>
      {open && c.explanation ? (
        <TableRow className="hover:bg-transparent">
          <TableCell colSpan={5}>
            <pre className="whitespace-pre-wrap font-sans text-sm text-muted-foreground" data-testid={`explanation-${c.key}`}>
              {c.explanation}
            </pre>
            <p className="mt-1 text-xs text-muted-foreground">
              Thresholds: <span className="font-mono">{JSON.stringify(c.thresholds)}</span> · {c.samples.length} raw samples in the evidence
              bundle
            </p>
          </TableCell>
        </TableRow>
      ) : null}
    </>
  );
}

function Comparison({ runId }: { runId: string }) {
  const trpc = useTRPC();
  // Mounted once the run is sealed: refetch so a comparison computed while it was running is replaced.
  const q = useQuery({ ...trpc.validationRuns.compare.queryOptions({ id: runId }), refetchOnMount: 'always' });
  if (q.isPending) return <Skeleton className="h-24" />;
  if (q.isError) return <ErrorState error={q.error} onRetry={() => void q.refetch()} />;
  if (!q.data.comparison) return <p className="text-sm text-muted-foreground">This run has no baseline, so nothing was compared.</p>;
  const cmp = q.data.comparison;
  const fmt = (v: number | null) => (v === null ? '—' : Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3));
  return (
    <div className="space-y-3" data-testid="baseline-comparison">
      <p className="text-sm">
        Against{' '}
        <Link className="text-primary hover:underline" href={`/validation/${q.data.baselineRunId}`}>
          baseline run
        </Link>
        : <VerdictBadge verdict={cmp.verdict} /> {cmp.summary}
      </p>
      <Table>
        <TableHeader>
          <TableRow>
            <TableHead>Metric</TableHead>
            <TableHead className="text-right">Baseline</TableHead>
            <TableHead className="text-right">This run</TableHead>
            <TableHead className="text-right">Change</TableHead>
            <TableHead>Gate</TableHead>
          </TableRow>
        </TableHeader>
        <TableBody>
          {cmp.gates.map((g) => (
            <TableRow key={`${g.checkKey}:${g.metric}`}>
              <TableCell>
                <p>{g.label}</p>
                <p className="font-mono text-xs text-muted-foreground">
                  {g.checkKey}.{g.metric}
                </p>
              </TableCell>
              <TableCell className="text-right tabular-nums">{fmt(g.baseline)}</TableCell>
              <TableCell className="text-right tabular-nums">{fmt(g.candidate)}</TableCell>
              <TableCell className="text-right tabular-nums">
                {g.deltaPct !== null ? `${g.deltaPct >= 0 ? '+' : ''}${g.deltaPct.toFixed(1)}%` : fmt(g.delta)}
              </TableCell>
              <TableCell title={g.explanation}>
                <VerdictBadge verdict={g.verdict} />
              </TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </div>
  );
}

export function RunDetail({ runId }: { runId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const canCancel = useCan('operator');
  const run = useQuery({
    ...trpc.validationRuns.get.queryOptions({ id: runId }),
    // Live progress while the run is queued or running.
    refetchInterval: (q) => (q.state.data && !q.state.data.finishedAt ? 1500 : false),
  });
  const cancel = useMutation(trpc.validationRuns.cancel.mutationOptions());
  const [downloading, setDownloading] = useState(false);

  if (run.isError && run.error.data?.code === 'NOT_FOUND') notFound();
  if (run.isPending) return <Skeleton className="h-40" />;
  if (run.isError) return <ErrorState error={run.error} onRetry={() => void run.refetch()} />;
  const r = run.data;
  const live = !r.finishedAt;
  const perf = r.checks.find((c) => c.kind === 'performance');
  // Levels where nothing completed (e.g. the endpoint was down) have nothing to draw.
  const levels = perfLevels(perf?.metrics).filter((l) => l.dist.e2elMs.p50 !== null);
  const top = levels.at(-1);
  const retrieval = r.checks.find((c) => c.kind === 'long_context');
  const ctx = r.context as {
    engine?: string;
    engineVersion?: string;
    servedModelName?: string;
    gpuUuids?: string[];
    artifactDigest?: string | null;
  };

  const download = async () => {
    setDownloading(true);
    try {
      const ev = await queryClient.fetchQuery(trpc.validationRuns.evidence.queryOptions({ id: runId }));
      const blob = new Blob([JSON.stringify({ digest: ev.digest, bundle: ev.bundle }, null, 2)], { type: 'application/json' });
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = `validation-${runId}-evidence.json`;
      a.click();
      URL.revokeObjectURL(url);
      if (!ev.matches) toast.error('The stored digest does not match the recomputed bundle.');
    } catch (e) {
      toast.error((e as Error).message);
    } finally {
      setDownloading(false);
    }
  };

  return (
    <div className="space-y-6">
      <PageHeader
        title={`${r.suite.name} v${r.suite.version} on ${r.cluster.name}`}
        description={
          <span className="inline-flex flex-wrap items-center gap-2" data-testid="run-status">
            <StateBadge state={r.state} /> <VerdictBadge verdict={r.verdict} />
            {r.cancelRequestedAt && live ? <span>cancelling…</span> : null}
            <span>
              requested {formatDateTime(r.createdAt)}
              {r.requestedBy ? ` by ${r.requestedBy}` : ''}
            </span>
          </span>
        }
        actions={
          <>
            {canCancel && live && !r.cancelRequestedAt ? (
              <ConfirmDialog
                title="Cancel this run?"
                description="In-flight requests are aborted and the remaining checks are skipped. The run gets no pass verdict."
                confirmLabel="Cancel run"
                trigger={
                  <Button variant="outline">
                    <Square /> Cancel run
                  </Button>
                }
                onConfirm={async () => {
                  await cancel.mutateAsync({ id: runId });
                  await run.refetch();
                }}
              />
            ) : null}
            {/* A passing run of an artifact is the evidence an upgrade proposal is made on. */}
            {canCancel && r.verdict === 'pass' && r.artifact ? (
              <ProposeUpgradeDialog
                artifactId={r.artifact.id}
                clusterId={r.cluster.id}
                validationRunId={r.id}
                what={`upgrading ${r.cluster.name} to the ${r.artifact.quantisation} artifact this run validated`}
                trigger={
                  <Button>
                    <ShieldCheck /> Propose upgrade
                  </Button>
                }
              />
            ) : null}
            {r.evidenceDigest ? (
              <Button variant="outline" onClick={() => void download()} disabled={downloading}>
                <Download /> Download evidence bundle
              </Button>
            ) : null}
          </>
        }
      />
      <Card>
        <CardContent className="space-y-4 pt-5">
          <p className="text-sm" data-testid="run-summary">
            {r.summary || (live ? `Running: ${r.checks.filter((c) => c.verdict).length} of ${r.checks.length} checks finished.` : '')}
          </p>
          <dl className="grid grid-cols-2 gap-4 md:grid-cols-4">
            <Info label="Engine">{ctx.engine ? `${ctx.engine} ${ctx.engineVersion}` : '—'}</Info>
            <Info label="Served model">{ctx.servedModelName ?? '—'}</Info>
            <Info label="Artifact">
              {ctx.artifactDigest ? <span className="font-mono text-xs">{ctx.artifactDigest.slice(0, 19)}…</span> : 'not recorded'}
            </Info>
            <Info label="GPUs">{ctx.gpuUuids?.length ?? 0}</Info>
            {r.node ? (
              <Info label="Staging node">
                <Link className="text-primary hover:underline" href={`/nodes/${r.node.id}`} data-testid="run-node">
                  {r.node.hostname}
                </Link>
              </Info>
            ) : null}
            {r.pipelineRun ? (
              <Info label="Pipeline run">
                <Link className="text-primary hover:underline" href={`/pipelines/${r.pipelineRun.id}`} data-testid="run-pipeline">
                  {r.pipelineRun.id.slice(0, 10)}… ({r.pipelineRun.state})
                </Link>
              </Info>
            ) : null}
            {r.proposal ? (
              <Info label="Proposal">
                <Link className="text-primary hover:underline" href={`/proposals/${r.proposal.id}`} data-testid="run-proposal">
                  {r.proposal.id.slice(0, 10)}… ({r.proposal.state.replace(/_/g, ' ')})
                </Link>
              </Info>
            ) : null}
            <Info label="Started">{r.startedAt ? formatDateTime(r.startedAt) : 'queued'}</Info>
            <Info label="Finished">{r.finishedAt ? formatDateTime(r.finishedAt) : '—'}</Info>
            <Info label="Baseline">
              {r.baselineRun ? (
                <Link className="text-primary hover:underline" href={`/validation/${r.baselineRun.id}`}>
                  {r.baselineRun.id.slice(0, 10)}…
                </Link>
              ) : (
                'none'
              )}
            </Info>
            <Info label="Evidence digest">
              {r.evidenceDigest ? (
                <span className="break-all font-mono text-xs" data-testid="evidence-digest">
                  {r.evidenceDigest}
                </span>
              ) : (
                'sealed when the run finishes'
              )}
            </Info>
          </dl>
        </CardContent>
      </Card>
      <Card>
        <CardHeader>
          <CardTitle>Checks</CardTitle>
        </CardHeader>
        <CardContent>
          <Table>
            <TableHeader>
              <TableRow>
                <TableHead>Check</TableHead>
                <TableHead>Verdict</TableHead>
                <TableHead>Score</TableHead>
                <TableHead>Time</TableHead>
                <TableHead />
              </TableRow>
            </TableHeader>
            <TableBody>
              {r.checks.map((c) => (
                <CheckRow key={c.key} c={c} />
              ))}
            </TableBody>
          </Table>
        </CardContent>
      </Card>
      {top ? (
        <div className="grid gap-6 lg:grid-cols-2">
          <Card>
            <CardHeader>
              <CardTitle>Latency</CardTitle>
            </CardHeader>
            <CardContent>
              <LatencyPercentileChart level={top} />
            </CardContent>
          </Card>
          <Card>
            <CardHeader>
              <CardTitle>Throughput</CardTitle>
            </CardHeader>
            <CardContent>
              <ThroughputChart levels={levels} />
            </CardContent>
          </Card>
        </div>
      ) : null}
      {retrieval?.verdict ? (
        <Card>
          <CardHeader>
            <CardTitle>Needle retrieval</CardTitle>
          </CardHeader>
          <CardContent>
            <RetrievalHeatmap metrics={retrieval.metrics} />
          </CardContent>
        </Card>
      ) : null}
      <Card>
        <CardHeader>
          <CardTitle>Compared with the baseline</CardTitle>
        </CardHeader>
        <CardContent>
          {live ? <p className="text-sm text-muted-foreground">Compared when the run finishes.</p> : <Comparison runId={runId} />}
        </CardContent>
      </Card>
    </div>
  );
}

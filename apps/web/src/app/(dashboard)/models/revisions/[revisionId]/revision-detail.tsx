'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import { Play } from 'lucide-react';
import Link from 'next/link';
import { notFound, useRouter } from 'next/navigation';
import { useState } from 'react';
import { toast } from 'sonner';
import { useCan } from '~/components/session-context';
import { ErrorState, PageHeader } from '~/components/states';
import { Button } from '~/components/ui/button';
import { Card, CardContent, CardHeader, CardTitle } from '~/components/ui/card';
import { NativeSelect } from '~/components/ui/input';
import { Skeleton } from '~/components/ui/skeleton';
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '~/components/ui/table';
import { formatBytes, formatDateTime } from '~/lib/utils';
import { useTRPC } from '~/trpc/react';
import { ChangeBadge, DiffCounts, HistoryRewrittenBadge, RunStateBadge } from '~/components/upstream/upstream-badges';
import { RevisionCompatibilityCard } from '~/components/capacity/compatibility-panels';

export function RevisionDetail({ revisionId }: { revisionId: string }) {
  const trpc = useTRPC();
  const router = useRouter();
  const canStart = useCan('operator');
  const rev = useQuery(trpc.models.revision.queryOptions({ id: revisionId }));
  // A run per target: "default", or a cluster (its download limits then apply; docs/pipelines.md).
  // Until the operator picks one: the target of the revision's first run (an auto-started one, say).
  const [chosenTarget, setTarget] = useState<string | null>(null);
  const clusters = useQuery({ ...trpc.clusters.options.queryOptions(), enabled: canStart });
  const start = useMutation(
    trpc.pipelines.start.mutationOptions({
      onSuccess: (r) => {
        toast.success(r.created ? 'Pipeline run started' : 'This revision already has a run');
        router.push(`/pipelines/${r.id}`);
      },
      onError: (e) => toast.error(e.message),
    }),
  );
  if (rev.isError && rev.error.data?.code === 'NOT_FOUND') notFound();
  if (rev.isPending) return <Skeleton className="h-40" />;
  if (rev.isError) return <ErrorState error={rev.error} onRetry={() => void rev.refetch()} />;
  const r = rev.data;
  const status = (path: string) => (r.diff.added.includes(path) ? 'added' : r.diff.changed.includes(path) ? 'changed' : '');
  const target = chosenTarget ?? r.runs[0]?.targetKey ?? 'default';
  const existing = r.runs.find((run) => run.targetKey === target);
  const clusterName = new Map((clusters.data ?? []).map((c) => [c.id, c.name]));
  return (
    <div className="space-y-6">
      <PageHeader
        title={r.commitTitle || r.commitSha.slice(0, 12)}
        description={
          <span className="inline-flex flex-wrap items-center gap-2">
            <ChangeBadge changeClass={r.changeClass} />
            {r.diff.previousNotInHistory ? <HistoryRewrittenBadge /> : null}
            <span className="font-mono text-xs">
              {r.trackedRepo.hubRepoId}@{r.trackedRepo.branch} · {r.commitSha}
            </span>
            {r.committedAt ? <span>committed {formatDateTime(r.committedAt)}</span> : null}
          </span>
        }
        actions={
          <span className="inline-flex flex-wrap items-center gap-2">
            {canStart && clusters.data?.length ? (
              <NativeSelect aria-label="Pipeline target" className="w-56" value={target} onChange={(e) => setTarget(e.target.value)}>
                <option value="default">default target</option>
                {clusters.data.map((c) => (
                  <option key={c.id} value={c.id}>
                    cluster {c.name}
                  </option>
                ))}
              </NativeSelect>
            ) : null}
            {existing ? (
              <Button asChild variant="outline">
                <Link href={`/pipelines/${existing.id}`}>View pipeline run</Link>
              </Button>
            ) : canStart ? (
              <Button onClick={() => start.mutate({ revisionId, targetKey: target })} disabled={start.isPending}>
                <Play /> Start pipeline
              </Button>
            ) : null}
          </span>
        }
      />
      <div className="grid gap-4 md:grid-cols-3">
        <Card>
          <CardHeader className="pb-2">
            <CardTitle className="text-sm">Changes</CardTitle>
          </CardHeader>
          <CardContent className="space-y-1 text-sm">
            <DiffCounts counts={{ added: r.diff.added.length, removed: r.diff.removed.length, changed: r.diff.changed.length }} />
            <p className="text-muted-foreground">
              {r.previousRevision ? (
                <>
                  against{' '}
                  <Link className="hover:underline" href={`/models/revisions/${r.previousRevision.id}`}>
                    {r.previousRevision.commitSha.slice(0, 12)}
                  </Link>
                </>
              ) : (
                'first revision seen'
              )}
            </p>
          </CardContent>
        </Card>
        <Card>
          <CardHeader className="pb-2">
            <CardTitle className="text-sm">Bytes to fetch</CardTitle>
          </CardHeader>
          <CardContent className="text-2xl font-semibold tabular-nums">{formatBytes(r.bytesToFetch)}</CardContent>
        </Card>
        <Card>
          <CardHeader className="pb-2">
            <CardTitle className="text-sm">Total size</CardTitle>
          </CardHeader>
          <CardContent className="text-2xl font-semibold tabular-nums">{formatBytes(r.totalBytes)}</CardContent>
        </Card>
      </div>
      <RevisionCompatibilityCard revisionId={revisionId} />
      {r.diff.removed.length ? (
        <p className="text-sm text-muted-foreground">
          Removed: <span className="font-mono">{r.diff.removed.join(', ')}</span>
        </p>
      ) : null}
      <Card>
        <CardHeader>
          <CardTitle>Manifest ({r.files.length} files)</CardTitle>
        </CardHeader>
        <CardContent>
          <Table data-testid="manifest">
            <TableHeader>
              <TableRow>
                <TableHead>Path</TableHead>
                <TableHead className="text-right">Size</TableHead>
                <TableHead>Content hash</TableHead>
                <TableHead />
              </TableRow>
            </TableHeader>
            <TableBody>
              {r.files.map((f) => (
                <TableRow key={f.path}>
                  <TableCell className="font-mono text-xs">{f.path}</TableCell>
                  <TableCell className="text-right tabular-nums">{formatBytes(f.sizeBytes)}</TableCell>
                  <TableCell className="font-mono text-xs text-muted-foreground">
                    {f.sha256 ? `sha256 ${f.sha256.slice(0, 16)}…` : `git ${f.gitOid?.slice(0, 12) ?? '—'}`}
                  </TableCell>
                  <TableCell className="text-xs text-muted-foreground">{status(f.path)}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </CardContent>
      </Card>
      {r.runs.length ? (
        <Card>
          <CardHeader>
            <CardTitle>Pipeline runs</CardTitle>
          </CardHeader>
          <CardContent className="flex flex-wrap gap-3" data-testid="revision-runs">
            {r.runs.map((run) => (
              <Link key={run.id} href={`/pipelines/${run.id}`} className="inline-flex items-center gap-2 hover:underline">
                <RunStateBadge state={run.state} /> target{' '}
                {clusterName.has(run.targetKey) ? `cluster ${clusterName.get(run.targetKey)}` : run.targetKey}
              </Link>
            ))}
          </CardContent>
        </Card>
      ) : null}
    </div>
  );
}

'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { Pencil, Plus, RefreshCw } from 'lucide-react';
import Link from 'next/link';
import { useState } from 'react';
import { toast } from 'sonner';
import type { RouterOutputs } from '@fleetplane/api';
import { QueryDataTable, type TableQueryState } from '~/components/data-table';
import { useCan } from '~/components/session-context';
import { EmptyState, PageHeader, QueryView, TableSkeleton } from '~/components/states';
import { Button } from '~/components/ui/button';
import { Card, CardContent, CardHeader, CardTitle } from '~/components/ui/card';
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '~/components/ui/table';
import { formatBytes } from '~/lib/utils';
import { useInvalidateModels } from '~/trpc/invalidate';
import { useTRPC } from '~/trpc/react';
import { RelativeTime } from '~/components/relative-time';
import { BuildTargetsPanel } from './build-targets-panel';
import { DevPanel } from './dev-panel';
import { RepoFormDialog } from './repo-form-dialog';
import { DEFAULT_REVISION_TABLE_STATE, type RevisionSort } from './table-state';
import { ChangeBadge, DiffCounts, HistoryRewrittenBadge, RepoStatusBadge, RunStateBadge } from '~/components/upstream/upstream-badges';

type Revision = RouterOutputs['models']['revisions']['items'][number];
const col = createColumnHelper<Revision>();

function Families() {
  const trpc = useTRPC();
  const families = useQuery(trpc.models.families.queryOptions());
  return (
    <QueryView
      query={families}
      skeleton={<TableSkeleton rows={2} columns={4} />}
      isEmpty={(rows) => rows.length === 0}
      empty={
        <EmptyState
          title="No model families yet"
          description="Model families are seeded with the catalogue (npm start seeds the DeepSeek V4 family)."
        />
      }
    >
      {(rows) => (
        <div className="grid gap-3 sm:grid-cols-2 lg:grid-cols-3" data-testid="model-families">
          {rows.map((f) => (
            <Card key={f.id}>
              <CardHeader className="pb-2">
                <CardTitle className="text-base">{f.name}</CardTitle>
              </CardHeader>
              <CardContent className="text-sm text-muted-foreground">
                {f.totalParamsB}B total · {f.activeParamsB}B active · {Math.round(f.contextLength / 1024)}K context · {f.licence}
                <p className="mt-1">{f.trackedRepoCount} tracked repo(s)</p>
              </CardContent>
            </Card>
          ))}
        </div>
      )}
    </QueryView>
  );
}

function TrackedRepos() {
  const trpc = useTRPC();
  const invalidateModels = useInvalidateModels();
  const canEdit = useCan('operator');
  const repos = useQuery({ ...trpc.models.listRepos.queryOptions(), refetchInterval: 5000 });
  const checkNow = useMutation(
    trpc.models.checkNow.mutationOptions({
      onSuccess: async () => {
        toast.success('Check queued');
        await invalidateModels();
      },
      onError: (e) => toast.error(e.message),
    }),
  );
  return (
    <QueryView
      query={repos}
      skeleton={<TableSkeleton rows={3} columns={6} />}
      isEmpty={(rows) => rows.length === 0}
      empty={<EmptyState title="No tracked repos" description="Track a Hub repo to be told about new upstream revisions." />}
    >
      {(rows) => (
        <Table data-testid="tracked-repos">
          <TableHeader>
            <TableRow>
              <TableHead>Repo</TableHead>
              <TableHead>Family</TableHead>
              <TableHead>Status</TableHead>
              <TableHead>Last check</TableHead>
              <TableHead className="text-right">Revisions</TableHead>
              <TableHead>Auto-start</TableHead>
              <TableHead className="text-right">Actions</TableHead>
            </TableRow>
          </TableHeader>
          <TableBody>
            {rows.map((r) => (
              <TableRow key={r.id} data-testid={`repo-${r.hubRepoId}`}>
                <TableCell>
                  <p className="font-medium">{r.hubRepoId}</p>
                  <p className="font-mono text-xs text-muted-foreground">
                    {r.branch}
                    {r.lastSeenSha ? ` @ ${r.lastSeenSha.slice(0, 12)}` : ''}
                    {r.hubEndpoint ? ` · ${r.hubEndpoint}` : ''}
                  </p>
                </TableCell>
                <TableCell>{r.family?.name ?? '—'}</TableCell>
                <TableCell>
                  <RepoStatusBadge status={r.status} message={r.statusMessage} />
                  {r.statusMessage ? <p className="mt-1 max-w-xs text-xs text-muted-foreground">{r.statusMessage}</p> : null}
                  {r.nextCheckAfter && new Date(r.nextCheckAfter) > new Date() ? (
                    <p className="text-xs text-muted-foreground" suppressHydrationWarning>
                      next check after {new Date(r.nextCheckAfter).toLocaleTimeString()}
                    </p>
                  ) : null}
                </TableCell>
                <TableCell className="text-muted-foreground">
                  <RelativeTime date={r.lastCheckedAt} />
                </TableCell>
                <TableCell className="text-right tabular-nums">{r.revisionCount}</TableCell>
                <TableCell>
                  {r.autoStartPipelines ? (
                    <span title="New weight or tokenizer revisions start a pipeline run without a click">
                      yes
                      <span className="block text-xs text-muted-foreground">
                        {r.autoStartClusters.length ? `for ${r.autoStartClusters.map((c) => c.name).join(', ')}` : 'default target'}
                      </span>
                    </span>
                  ) : (
                    'no'
                  )}
                </TableCell>
                <TableCell className="text-right">
                  {canEdit ? (
                    <span className="inline-flex gap-1">
                      <Button variant="outline" size="sm" onClick={() => checkNow.mutate({ id: r.id })} disabled={checkNow.isPending}>
                        <RefreshCw /> Check now
                      </Button>
                      <RepoFormDialog
                        repo={r}
                        trigger={
                          <Button variant="ghost" size="sm" aria-label={`Edit ${r.hubRepoId}`}>
                            <Pencil />
                          </Button>
                        }
                      />
                    </span>
                  ) : null}
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
    </QueryView>
  );
}

/** The build targets of the tracked repos (the same list query as the repos table, so one request). */
function BuildTargets() {
  const trpc = useTRPC();
  const repos = useQuery({ ...trpc.models.listRepos.queryOptions(), refetchInterval: 5000 });
  return (
    <QueryView query={repos} skeleton={<TableSkeleton rows={2} columns={4} />}>
      {(rows) => <BuildTargetsPanel repos={rows} />}
    </QueryView>
  );
}

function Revisions() {
  const trpc = useTRPC();
  const [state, setState] = useState<TableQueryState<RevisionSort>>(DEFAULT_REVISION_TABLE_STATE);
  const revisions = useQuery({ ...trpc.models.revisions.queryOptions(state), refetchInterval: 5000, placeholderData: (prev) => prev });
  const columns = [
    col.accessor('detectedAt', {
      header: 'Detected',
      enableSorting: true,
      cell: (c) => (
        <span className="text-muted-foreground">
          <RelativeTime date={c.getValue()} />
        </span>
      ),
    }),
    col.display({
      id: 'commit',
      header: 'Commit',
      cell: (c) => (
        <Link href={`/models/revisions/${c.row.original.id}`} className="hover:underline">
          <p className="font-medium">{c.row.original.commitTitle || '(no title)'}</p>
          <p className="font-mono text-xs text-muted-foreground">
            {c.row.original.trackedRepo.hubRepoId} @ {c.row.original.commitSha.slice(0, 12)}
          </p>
        </Link>
      ),
    }),
    col.accessor('changeClass', {
      header: 'Change',
      enableSorting: false,
      cell: (c) => (
        <span className="inline-flex flex-wrap gap-1">
          <ChangeBadge changeClass={c.getValue()} />
          {c.row.original.diff.previousNotInHistory ? <HistoryRewrittenBadge /> : null}
        </span>
      ),
    }),
    col.display({ id: 'diff', header: 'Files', cell: (c) => <DiffCounts counts={c.row.original.counts} /> }),
    col.accessor('bytesToFetch', {
      header: 'To fetch',
      enableSorting: true,
      cell: (c) => <span className="tabular-nums">{formatBytes(c.getValue())}</span>,
    }),
    col.display({
      id: 'runs',
      header: 'Pipeline',
      cell: (c) =>
        c.row.original.runs[0] ? (
          <Link href={`/pipelines/${c.row.original.runs[0].id}`}>
            <RunStateBadge state={c.row.original.runs[0].state} />
          </Link>
        ) : (
          <span className="text-muted-foreground">—</span>
        ),
    }),
  ];
  return (
    <QueryDataTable
      query={revisions}
      skeleton={<TableSkeleton rows={4} columns={6} />}
      testId="revisions"
      columns={columns}
      state={state}
      onStateChange={setState}
      getRowId={(r) => r.id}
      empty={<EmptyState title="No revisions yet" description="Revisions appear after the first check of a tracked repo." />}
    />
  );
}

export function ModelsPage() {
  const canEdit = useCan('operator');
  return (
    <div className="space-y-8">
      <PageHeader
        title="Models"
        description="Model families, the upstream Hub repos Fleetplane watches, and every revision it has seen."
        actions={
          canEdit ? (
            <RepoFormDialog
              trigger={
                <Button>
                  <Plus /> Track repo
                </Button>
              }
            />
          ) : null
        }
      />
      <DevPanel />
      <section className="space-y-3">
        <h2 className="text-lg font-semibold">Families</h2>
        <Families />
      </section>
      <section className="space-y-3">
        <h2 className="text-lg font-semibold">Tracked repos</h2>
        <TrackedRepos />
      </section>
      <section className="space-y-3" data-testid="build-targets-section">
        <div>
          <h2 className="text-lg font-semibold">Build targets</h2>
          <p className="text-sm text-muted-foreground">
            Which recipes each new revision is quantised with, per tracked repo and target cluster.
          </p>
        </div>
        <BuildTargets />
      </section>
      <section className="space-y-3">
        <h2 className="text-lg font-semibold">Revisions</h2>
        <Revisions />
      </section>
    </div>
  );
}

'use client';
import { useQuery } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import Link from 'next/link';
import { useState } from 'react';
import type { RouterOutputs } from '@fleetplane/api';
import { QueryDataTable, type TableQueryState } from '~/components/data-table';
import { EmptyState, PageHeader, TableSkeleton } from '~/components/states';
import { NativeSelect } from '~/components/ui/input';
import { formatBytes } from '~/lib/utils';
import { useTRPC } from '~/trpc/react';
import { RelativeTime } from '~/components/relative-time';
import { ChangeBadge, RunStateBadge, runTargetLabel } from '~/components/upstream/upstream-badges';
import { DEFAULT_PIPELINE_TABLE_STATE, type PipelineRunSort } from './table-state';

type Run = RouterOutputs['pipelines']['list']['items'][number];
const col = createColumnHelper<Run>();
const STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;

function downloadProgress(run: Run): string {
  const p = run.steps.find((s) => s.kind === 'download')?.progress as { bytesDone?: number; bytesTotal?: number } | undefined;
  if (!p?.bytesTotal) return '—';
  return `${formatBytes(p.bytesDone ?? 0)} / ${formatBytes(p.bytesTotal)}`;
}

const columns = [
  col.accessor('createdAt', {
    header: 'Created',
    enableSorting: true,
    cell: (c) => (
      <span className="text-muted-foreground">
        <RelativeTime date={c.getValue()} />
      </span>
    ),
  }),
  col.display({
    id: 'revision',
    header: 'Revision',
    cell: (c) => (
      <Link href={`/pipelines/${c.row.original.id}`} className="hover:underline" data-testid="run-link">
        <p className="font-medium">{c.row.original.revision.trackedRepo.hubRepoId}</p>
        <p className="font-mono text-xs text-muted-foreground">
          {c.row.original.revision.commitSha.slice(0, 12)} · {c.row.original.revision.commitTitle}
        </p>
      </Link>
    ),
  }),
  col.display({ id: 'change', header: 'Change', cell: (c) => <ChangeBadge changeClass={c.row.original.revision.changeClass} /> }),
  col.accessor('state', { header: 'State', enableSorting: true, cell: (c) => <RunStateBadge state={c.getValue()} /> }),
  col.display({
    id: 'download',
    header: 'Download',
    cell: (c) => <span className="tabular-nums text-xs">{downloadProgress(c.row.original)}</span>,
  }),
  col.display({ id: 'target', header: 'Target', cell: (c) => runTargetLabel(c.row.original) }),
  col.display({ id: 'trigger', header: 'Trigger', cell: (c) => c.row.original.trigger }),
  col.accessor('finishedAt', {
    header: 'Finished',
    enableSorting: true,
    cell: (c) => <span className="text-muted-foreground">{c.getValue() ? <RelativeTime date={c.getValue()} /> : '—'}</span>,
  }),
];

export function PipelinesPage() {
  const trpc = useTRPC();
  const [state, setState] = useState<TableQueryState<PipelineRunSort>>(DEFAULT_PIPELINE_TABLE_STATE);
  const [runState, setRunState] = useState<(typeof STATES)[number] | ''>('');
  const input = { ...state, ...(runState ? { state: runState } : {}) };
  const runs = useQuery({
    ...trpc.pipelines.list.queryOptions(input),
    placeholderData: (prev) => prev,
    refetchInterval: (q) => (q.state.data?.items.some((r) => r.state === 'queued' || r.state === 'running') ? 1500 : 5000),
  });
  return (
    <div className="space-y-6">
      <PageHeader
        title="Pipelines"
        description="Runs that turn an upstream revision into a verified artifact: download → quantise → validate."
      />
      <div className="flex items-center gap-2">
        <label htmlFor="run-state" className="text-sm text-muted-foreground">
          State
        </label>
        <NativeSelect
          id="run-state"
          className="w-40"
          value={runState}
          onChange={(e) => {
            setRunState(e.target.value as typeof runState);
            setState({ ...state, page: 1 });
          }}
        >
          <option value="">All</option>
          {STATES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </NativeSelect>
      </div>
      <QueryDataTable
        query={runs}
        skeleton={<TableSkeleton rows={5} columns={7} />}
        testId="pipeline-runs"
        columns={columns}
        state={state}
        onStateChange={setState}
        getRowId={(r) => r.id}
        empty={
          <EmptyState title="No pipeline runs" description="Start one from a revision, or let a tracked repo start them automatically." />
        }
      />
    </div>
  );
}

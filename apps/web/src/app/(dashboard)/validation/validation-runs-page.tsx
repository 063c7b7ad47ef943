'use client';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { Play } from 'lucide-react';
import Link from 'next/link';
import { useState } from 'react';
import { RUN_STATES, VERDICTS, type TRunState, type TVerdict } from '@fleetplane/contracts';
import type { RouterOutputs } from '@fleetplane/api';
import { QueryDataTable } from '~/components/data-table';
import { ClusterFilter, FilterSelect } from '~/components/filters';
import { useCan } from '~/components/session-context';
import { EmptyState, PageHeader, TableSkeleton } from '~/components/states';
import { Button } from '~/components/ui/button';
import { formatDateTime } from '~/lib/utils';
import { useTRPC } from '~/trpc/react';
import { DEFAULT_RUN_TABLE_STATE, type RunSort } from './run-table-state';
import { StartRunDialog } from '~/components/validation/start-run-dialog';
import { StateBadge, VerdictBadge } from './verdict-badge';

type Row = RouterOutputs['validationRuns']['list']['items'][number];
const col = createColumnHelper<Row>();

export function ValidationRunsPage() {
  const trpc = useTRPC();
  const canStart = useCan('operator');
  const [state, setState] = useState(DEFAULT_RUN_TABLE_STATE);
  const [clusterId, setClusterId] = useState('');
  const [suiteName, setSuiteName] = useState('');
  const [runState, setRunState] = useState<TRunState | ''>('');
  const [verdict, setVerdict] = useState<TVerdict | ''>('');
  const input = {
    ...state,
    clusterId: clusterId || undefined,
    suiteName: suiteName || undefined,
    state: runState || undefined,
    verdict: verdict || undefined,
  };
  const query = useQuery({
    ...trpc.validationRuns.list.queryOptions(input),
    placeholderData: keepPreviousData,
    // Keep queued/running rows moving without a reload.
    refetchInterval: (q) => (q.state.data?.items.some((r) => r.state === 'queued' || r.state === 'running') ? 2000 : false),
  });
  const suites = useQuery(trpc.validationSuites.list.queryOptions());
  const filtered = !!(clusterId || suiteName || runState || verdict);
  const reset = (fn: () => void) => {
    fn();
    setState({ ...state, page: 1 });
  };

  const columns = [
    col.accessor('createdAt', {
      header: 'Started',
      cell: (c) => (
        <Link href={`/validation/${c.row.original.id}`} className="font-medium text-primary hover:underline">
          {/* Absolute time: a relative one would differ between the server render and hydration. */}
          {formatDateTime(c.getValue())}
        </Link>
      ),
    }),
    col.display({
      id: 'cluster',
      header: 'Cluster',
      cell: (c) => (
        <Link href={`/clusters/${c.row.original.cluster.id}`} className="hover:underline">
          {c.row.original.cluster.name}
        </Link>
      ),
    }),
    col.display({ id: 'suite', header: 'Suite', cell: (c) => `${c.row.original.suite.name} v${c.row.original.suite.version}` }),
    col.accessor('state', {
      header: 'State',
      cell: (c) => (
        <span className="inline-flex items-center gap-2">
          <StateBadge state={c.getValue()} />
          {c.getValue() === 'running' || c.getValue() === 'queued' ? (
            <span className="text-xs tabular-nums text-muted-foreground">
              {c.row.original.progress.done}/{c.row.original.progress.total} checks
            </span>
          ) : null}
        </span>
      ),
    }),
    col.accessor('verdict', { header: 'Verdict', cell: (c) => <VerdictBadge verdict={c.getValue()} /> }),
    col.display({
      id: 'summary',
      header: 'Summary',
      cell: (c) => <p className="line-clamp-2 max-w-xl text-xs text-muted-foreground">{c.row.original.summary || '—'}</p>,
    }),
    col.display({
      id: 'by',
      header: 'By',
      cell: (c) => c.row.original.requestedBy ?? <span className="text-muted-foreground">system</span>,
    }),
  ];

  return (
    <div>
      <PageHeader
        title="Validation"
        description="Suites of checks run against a cluster's endpoint: answers, long context, tool calls, reasoning modes and load, gated against a baseline."
        actions={
          canStart ? (
            <StartRunDialog
              trigger={
                <Button>
                  <Play /> Start validation run
                </Button>
              }
            />
          ) : null
        }
      />
      <div className="space-y-3">
        <div className="flex flex-wrap gap-2">
          <ClusterFilter value={clusterId} onChange={(v) => reset(() => setClusterId(v))} />
          <FilterSelect
            name="suite"
            anyLabel="All suites"
            value={suiteName}
            onChange={(v) => reset(() => setSuiteName(v))}
            options={suites.data?.map((s) => ({ value: s.name, label: s.name }))}
          />
          <FilterSelect
            name="state"
            anyLabel="Any state"
            className="w-36"
            value={runState}
            onChange={(v) => reset(() => setRunState(v))}
            options={RUN_STATES}
          />
          <FilterSelect
            name="verdict"
            anyLabel="Any verdict"
            className="w-36"
            value={verdict}
            onChange={(v) => reset(() => setVerdict(v))}
            options={VERDICTS}
          />
        </div>
        <QueryDataTable<Row, RunSort>
          query={query}
          skeleton={<TableSkeleton columns={7} />}
          testId="validation-runs-table"
          columns={columns}
          state={state}
          getRowId={(r) => r.id}
          onStateChange={(next) => setState({ ...state, ...next })}
          empty={
            filtered ? (
              <EmptyState title="No run matches these filters" description="Clear a filter to see more runs." />
            ) : (
              <EmptyState
                title="No validation runs yet"
                description="Start a run to check a cluster's answers, long-context retrieval, tool calls and latency."
              />
            )
          }
        />
      </div>
    </div>
  );
}

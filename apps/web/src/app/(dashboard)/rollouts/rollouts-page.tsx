'use client';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import Link from 'next/link';
import { useState } from 'react';
import { ROLLOUT_STATES, TERMINAL_ROLLOUT_STATES, type TRolloutState } from '@fleetplane/contracts';
import type { RouterOutputs } from '@fleetplane/api';
import { QueryDataTable } from '~/components/data-table';
import { ClusterFilter, FilterSelect } from '~/components/filters';
import { RolloutStateBadge } from '~/components/rollouts/rollout-badges';
import { StartRolloutDialog } from '~/components/rollouts/start-rollout';
import { useCan } from '~/components/session-context';
import { EmptyState, PageHeader, TableSkeleton } from '~/components/states';
import { formatDateTime } from '~/lib/utils';
import { useTRPC } from '~/trpc/react';
import { DEFAULT_ROLLOUT_TABLE_STATE, type RolloutSort } from './rollout-table-state';

type Row = RouterOutputs['rollouts']['list']['items'][number];
const col = createColumnHelper<Row>();

export function RolloutsPage() {
  const trpc = useTRPC();
  const canStart = useCan('operator');
  const [state, setState] = useState(DEFAULT_ROLLOUT_TABLE_STATE);
  const [clusterId, setClusterId] = useState('');
  const [rolloutState, setRolloutState] = useState<TRolloutState | ''>('');
  const input = { ...state, clusterId: clusterId || undefined, state: rolloutState || undefined };
  const query = useQuery({
    ...trpc.rollouts.list.queryOptions(input),
    placeholderData: keepPreviousData,
    // Live rollouts move every few seconds; keep their rows current.
    refetchInterval: (q) => (q.state.data?.items.some((r) => !TERMINAL_ROLLOUT_STATES.includes(r.state)) ? 3000 : false),
  });
  const reset = (fn: () => void) => {
    fn();
    setState({ ...state, page: 1 });
  };
  const columns = [
    col.accessor('createdAt', {
      header: 'Started',
      cell: (c) => (
        <Link href={`/rollouts/${c.row.original.id}`} className="font-medium text-primary hover:underline">
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
    col.display({
      id: 'artifact',
      header: 'Artifact',
      cell: (c) => (
        <span>
          {c.row.original.artifact.label}
          {c.row.original.kind === 'rollback' ? <span className="ml-1 text-xs text-muted-foreground">(rollback)</span> : null}
        </span>
      ),
    }),
    col.accessor('state', {
      header: 'State',
      cell: (c) => (
        <span className="inline-flex items-center gap-2">
          <RolloutStateBadge state={c.getValue()} />
          <span className="text-xs tabular-nums text-muted-foreground">
            step {Math.min(c.row.original.currentStep + 1, c.row.original.stepCount)}/{c.row.original.stepCount}
          </span>
        </span>
      ),
    }),
    col.display({
      id: 'reason',
      header: 'Latest',
      cell: (c) => <p className="line-clamp-2 max-w-xl text-xs text-muted-foreground">{c.row.original.reason || '—'}</p>,
    }),
    col.display({ id: 'by', header: 'By', cell: (c) => c.row.original.requestedBy ?? '—' }),
  ];
  return (
    <div>
      <PageHeader
        title="Rollouts"
        description="Approved upgrades reaching clusters: prefetch everywhere, a canary, then waves, each checked against the previous artifact and rolled back automatically when it is worse."
        actions={canStart ? <StartRolloutDialog /> : null}
      />
      <div className="space-y-3">
        <div className="flex flex-wrap gap-2">
          <ClusterFilter value={clusterId} onChange={(v) => reset(() => setClusterId(v))} />
          <FilterSelect
            name="state"
            anyLabel="Any state"
            value={rolloutState}
            onChange={(v) => reset(() => setRolloutState(v))}
            options={ROLLOUT_STATES}
          />
        </div>
        <QueryDataTable<Row, RolloutSort>
          query={query}
          skeleton={<TableSkeleton columns={6} />}
          testId="rollouts-table"
          columns={columns}
          state={state}
          getRowId={(r) => r.id}
          onStateChange={(next) => setState({ ...state, ...next })}
          empty={
            clusterId || rolloutState ? (
              <EmptyState title="No rollout matches these filters" description="Clear a filter to see more rollouts." />
            ) : (
              <EmptyState
                title="No rollouts yet"
                description="Start one from an approved proposal, or roll a cluster back from its deployment history."
              />
            )
          }
        />
      </div>
    </div>
  );
}

'use client';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { AlertTriangle } from 'lucide-react';
import Link from 'next/link';
import { useState } from 'react';
import { PROPOSAL_STATES, type TProposalState } from '@fleetplane/contracts';
import type { RouterOutputs } from '@fleetplane/api';
import { QueryDataTable } from '~/components/data-table';
import { ClusterFilter, FilterSelect, type FilterOption } from '~/components/filters';
import { ProposalStateBadge } from '~/components/proposals/proposal-badges';
import { EmptyState, PageHeader, TableSkeleton } from '~/components/states';
import { Alert, AlertDescription } from '~/components/ui/alert';
import { formatDateTime } from '~/lib/utils';
import { useTRPC } from '~/trpc/react';
import { DEFAULT_PROPOSAL_TABLE_STATE, type ProposalSort } from './table-state';

type Row = RouterOutputs['proposals']['list']['items'][number];
const col = createColumnHelper<Row>();
const OPEN = '__open__';
const STATE_OPTIONS: FilterOption<TProposalState | typeof OPEN>[] = [
  { value: OPEN, label: 'Open (undecided or approved)' },
  ...PROPOSAL_STATES,
];

export function ProposalsPage() {
  const trpc = useTRPC();
  const [state, setState] = useState(DEFAULT_PROPOSAL_TABLE_STATE);
  const [clusterId, setClusterId] = useState('');
  const [proposalState, setProposalState] = useState<TProposalState | typeof OPEN | ''>('');
  const input = {
    ...state,
    clusterId: clusterId || undefined,
    ...(proposalState === OPEN ? { openOnly: true } : proposalState ? { state: proposalState } : {}),
  };
  const query = useQuery({ ...trpc.proposals.list.queryOptions(input), placeholderData: keepPreviousData });
  const filtered = !!(clusterId || proposalState);
  const reset = (fn: () => void) => {
    fn();
    setState({ ...state, page: 1 });
  };

  const columns = [
    col.display({
      id: 'upgrade',
      header: 'Upgrade',
      cell: (c) => (
        <Link href={`/proposals/${c.row.original.id}`} className="font-medium text-primary hover:underline">
          {c.row.original.artifact.label}
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
    col.accessor('state', {
      header: 'State',
      cell: (c) => (
        <span className="inline-flex items-center gap-2">
          <ProposalStateBadge state={c.getValue()} />
          {c.row.original.expiresSoon ? (
            <span className="inline-flex items-center gap-1 text-xs text-warning-foreground" data-testid="expires-soon">
              <AlertTriangle className="size-3" aria-hidden /> expires soon
            </span>
          ) : null}
        </span>
      ),
    }),
    col.display({
      id: 'approvals',
      header: 'Approvals',
      cell: (c) => (
        <span className="tabular-nums">
          {c.row.original.approvals.valid} / {c.row.original.approvals.required}
        </span>
      ),
    }),
    col.display({
      id: 'by',
      header: 'Requested by',
      cell: (c) => c.row.original.requestedBy ?? <span className="text-muted-foreground">—</span>,
    }),
    col.accessor('createdAt', { header: 'Proposed', cell: (c) => formatDateTime(c.getValue()) }),
    col.accessor('expiresAt', { header: 'Expires', cell: (c) => formatDateTime(c.getValue()) }),
  ];

  return (
    <div>
      <PageHeader
        title="Proposals"
        description="Upgrades proposed by the pipeline or an operator. Each needs approval from someone other than its requester, on the exact artifact and evidence shown."
      />
      <div className="space-y-3">
        {query.data && query.data.expiringSoon > 0 ? (
          <Alert variant="warning" data-testid="expiring-warning">
            <AlertDescription>
              {query.data.expiringSoon} open proposal{query.data.expiringSoon === 1 ? '' : 's'} expire
              {query.data.expiringSoon === 1 ? 's' : ''} within a day.
            </AlertDescription>
          </Alert>
        ) : null}
        <div className="flex flex-wrap gap-2">
          <ClusterFilter value={clusterId} onChange={(v) => reset(() => setClusterId(v))} />
          <FilterSelect
            name="state"
            anyLabel="Any state"
            className="w-48"
            value={proposalState}
            onChange={(v) => reset(() => setProposalState(v))}
            options={STATE_OPTIONS}
          />
        </div>
        <QueryDataTable<Row, ProposalSort>
          query={query}
          skeleton={<TableSkeleton columns={7} />}
          testId="proposals-table"
          columns={columns}
          state={state}
          getRowId={(r) => r.id}
          onStateChange={(next) => setState({ ...state, ...next })}
          empty={
            filtered ? (
              <EmptyState title="No proposal matches these filters" description="Clear a filter to see more proposals." />
            ) : (
              <EmptyState
                title="No upgrade proposals yet"
                description="The pipeline proposes an upgrade after its validate stage passes; an operator can propose one from a passing validation run."
              />
            )
          }
        />
      </div>
    </div>
  );
}

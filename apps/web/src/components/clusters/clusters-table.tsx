'use client';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import Link from 'next/link';
import { useState } from 'react';
import { SERVING_ENGINE_LABELS, SERVING_ENGINES, type TServingEngine } from '@fleetplane/contracts';
import type { RouterOutputs } from '@fleetplane/api';
import { QueryDataTable } from '~/components/data-table';
import { FilterSelect } from '~/components/filters';
import { HealthBadge } from '~/components/health-badge';
import { EmptyState, TableSkeleton } from '~/components/states';
import { Badge } from '~/components/ui/badge';
import { Input } from '~/components/ui/input';
import { formatMib } from '~/lib/utils';
import { useTRPC } from '~/trpc/react';
import { DEFAULT_CLUSTER_TABLE_STATE, type ClusterSort } from './cluster-table-state';

type Row = RouterOutputs['clusters']['list']['items'][number];
const col = createColumnHelper<Row>();

export function ClustersTable({ actions }: { actions?: (row: Row) => React.ReactNode }) {
  const trpc = useTRPC();
  const [state, setState] = useState(DEFAULT_CLUSTER_TABLE_STATE);
  const [engine, setEngine] = useState<TServingEngine | ''>('');
  const input = { ...state, search: state.search || undefined, servingEngine: engine || undefined };
  const query = useQuery({ ...trpc.clusters.list.queryOptions(input), placeholderData: keepPreviousData });

  const columns = [
    col.accessor('name', {
      header: 'Cluster',
      cell: (c) => (
        <div>
          <Link href={`/clusters/${c.row.original.id}`} className="font-medium text-primary hover:underline">
            {c.getValue()}
          </Link>
          <p className="text-xs text-muted-foreground">
            {c.row.original.siteName} · {c.row.original.region} · <span title="Data residency">{c.row.original.dataResidency}</span>
          </p>
        </div>
      ),
    }),
    col.accessor('servingEngine', {
      header: 'Engine',
      cell: (c) => (
        <span className="whitespace-nowrap">
          {SERVING_ENGINE_LABELS[c.getValue()]} <span className="text-muted-foreground">{c.row.original.engineVersion}</span>
        </span>
      ),
    }),
    col.accessor('nodeCount', { header: 'Nodes', cell: (c) => <span className="tabular-nums">{c.getValue()}</span> }),
    col.accessor('gpuCount', {
      header: 'GPUs',
      cell: (c) => (
        <div>
          <span className="tabular-nums">{c.getValue()}</span>
          {c.row.original.totalGpuMemoryMib ? (
            <span className="ml-1 text-xs text-muted-foreground">({formatMib(c.row.original.totalGpuMemoryMib)})</span>
          ) : null}
        </div>
      ),
    }),
    col.display({
      id: 'gpuModels',
      header: 'GPU models',
      cell: (c) => (
        <div className="flex flex-wrap gap-1">
          {c.row.original.gpuModels.length ? (
            c.row.original.gpuModels.map((m) => (
              <Badge key={m} variant="secondary">
                {m.replace(/^NVIDIA /, '')}
              </Badge>
            ))
          ) : (
            <span className="text-muted-foreground">—</span>
          )}
        </div>
      ),
    }),
    col.display({
      id: 'artifact',
      header: 'Serving',
      cell: (c) => {
        const a = c.row.original.activeArtifact;
        if (!a) return <span className="text-muted-foreground">nothing deployed</span>;
        return (
          <div className="leading-tight">
            <p className="font-medium">{a.hubRepoId.split('/')[1]}</p>
            <p className="text-xs text-muted-foreground">
              {a.quantisation} · <span className="font-mono">{a.commitSha.slice(0, 7)}</span>
            </p>
          </div>
        );
      },
    }),
    col.accessor('health', { header: 'Health', cell: (c) => <HealthBadge status={c.getValue()} /> }),
    ...(actions
      ? [col.display({ id: 'actions', header: '', cell: (c) => <div className="flex justify-end gap-1">{actions(c.row.original)}</div> })]
      : []),
  ];

  return (
    <div className="space-y-3">
      <div className="flex flex-wrap gap-2">
        <Input
          aria-label="Search clusters"
          placeholder="Search by cluster, site or region…"
          className="max-w-xs"
          value={state.search ?? ''}
          onChange={(e) => setState({ ...state, page: 1, search: e.target.value })}
        />
        <FilterSelect
          name="engine"
          anyLabel="All engines"
          className="w-44"
          value={engine}
          onChange={(v) => {
            setEngine(v);
            setState({ ...state, page: 1 });
          }}
          options={SERVING_ENGINES.map((e) => ({ value: e, label: SERVING_ENGINE_LABELS[e] }))}
        />
      </div>
      <QueryDataTable<Row, ClusterSort>
        query={query}
        skeleton={<TableSkeleton columns={7} />}
        testId="clusters-table"
        columns={columns}
        state={state}
        getRowId={(r) => r.id}
        onStateChange={(next) => setState({ ...state, ...next })}
        empty={
          state.search || engine ? (
            <EmptyState title="No cluster matches these filters" description="Clear the search or pick another engine." />
          ) : (
            <EmptyState title="No clusters yet" description="Add a cluster to start tracking what runs where." />
          )
        }
      />
    </div>
  );
}

'use client';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { useState } from 'react';
import type { RouterOutputs } from '@fleetplane/api';
import { QueryDataTable } from '~/components/data-table';
import { EmptyState, PageHeader, TableSkeleton } from '~/components/states';
import { Badge } from '~/components/ui/badge';
import { Input, Label, NativeSelect } from '~/components/ui/input';
import { formatDateTime } from '~/lib/utils';
import { useTRPC } from '~/trpc/react';

type Row = RouterOutputs['audit']['list']['items'][number];
type Sort = 'occurredAt' | 'action' | 'actorLabel' | 'targetType';
const col = createColumnHelper<Row>();

function Diff({ before, after }: { before: unknown; after: unknown }) {
  if (before == null && after == null) return <span className="text-muted-foreground">—</span>;
  const b = (before ?? {}) as Record<string, unknown>;
  const a = (after ?? {}) as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(b), ...Object.keys(a)])].filter(
    (k) => !['createdAt', 'updatedAt'].includes(k) && JSON.stringify(b[k]) !== JSON.stringify(a[k]),
  );
  if (keys.length === 0) return <span className="text-muted-foreground">no field changed</span>;
  return (
    <details>
      <summary className="cursor-pointer text-xs text-primary">{keys.length} field(s)</summary>
      <dl className="mt-1 space-y-0.5 font-mono text-xs">
        {keys.slice(0, 12).map((k) => (
          <div key={k}>
            <dt className="inline font-semibold">{k}: </dt>
            <dd className="inline">
              {before != null ? <span className="text-critical-foreground line-through">{JSON.stringify(b[k]) ?? '∅'}</span> : null}{' '}
              {after != null ? <span className="text-healthy-foreground">{JSON.stringify(a[k]) ?? '∅'}</span> : null}
            </dd>
          </div>
        ))}
      </dl>
    </details>
  );
}

export function AuditPage() {
  const trpc = useTRPC();
  const facets = useQuery(trpc.audit.facets.queryOptions());
  const [state, setState] = useState<{ page: number; pageSize: number; sortBy: Sort; sortDir: 'asc' | 'desc' }>({
    page: 1,
    pageSize: 50,
    sortBy: 'occurredAt',
    sortDir: 'desc',
  });
  const [filters, setFilters] = useState<{ search: string; action: string; targetType: string; from: string; to: string }>({
    search: '',
    action: '',
    targetType: '',
    from: '',
    to: '',
  });
  const input = {
    ...state,
    search: filters.search || undefined,
    action: filters.action || undefined,
    targetType: filters.targetType || undefined,
    from: filters.from ? new Date(filters.from) : undefined,
    to: filters.to ? new Date(`${filters.to}T23:59:59.999`) : undefined,
  };
  const events = useQuery({ ...trpc.audit.list.queryOptions(input), placeholderData: keepPreviousData });
  const set = (k: keyof typeof filters, v: string) => {
    setFilters({ ...filters, [k]: v });
    setState({ ...state, page: 1 });
  };

  const columns = [
    col.accessor('occurredAt', {
      header: 'Time',
      cell: (c) => <span className="whitespace-nowrap text-xs tabular-nums">{formatDateTime(c.getValue())}</span>,
    }),
    col.accessor('actorLabel', {
      header: 'Actor',
      cell: (c) => (
        <span>
          <Badge variant="outline" className="mr-1">
            {c.row.original.actorType}
          </Badge>
          {c.getValue()}
        </span>
      ),
    }),
    col.accessor('action', { header: 'Action', cell: (c) => <span className="font-mono text-xs">{c.getValue()}</span> }),
    col.accessor('targetType', {
      header: 'Target',
      cell: (c) => (
        <span className="text-xs">
          {c.getValue()} <span className="font-mono text-muted-foreground">{c.row.original.targetId?.slice(0, 12)}</span>
        </span>
      ),
    }),
    col.display({ id: 'change', header: 'Change', cell: (c) => <Diff before={c.row.original.before} after={c.row.original.after} /> }),
  ];

  return (
    <div>
      <PageHeader title="Audit log" description="Every change made through Fleetplane: who, what, when, and the before/after." />
      <div className="mb-3 grid gap-3 sm:grid-cols-2 lg:grid-cols-5">
        <div className="grid gap-1">
          <Label htmlFor="audit-search">Search</Label>
          <Input
            id="audit-search"
            placeholder="actor, action or id"
            value={filters.search}
            onChange={(e) => set('search', e.target.value)}
          />
        </div>
        <div className="grid gap-1">
          <Label htmlFor="audit-action">Action</Label>
          <NativeSelect id="audit-action" value={filters.action} onChange={(e) => set('action', e.target.value)}>
            <option value="">All actions</option>
            {facets.data?.actions.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </NativeSelect>
        </div>
        <div className="grid gap-1">
          <Label htmlFor="audit-target">Target type</Label>
          <NativeSelect id="audit-target" value={filters.targetType} onChange={(e) => set('targetType', e.target.value)}>
            <option value="">All targets</option>
            {facets.data?.targetTypes.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </NativeSelect>
        </div>
        <div className="grid gap-1">
          <Label htmlFor="audit-from">From</Label>
          <Input id="audit-from" type="date" value={filters.from} onChange={(e) => set('from', e.target.value)} />
        </div>
        <div className="grid gap-1">
          <Label htmlFor="audit-to">To</Label>
          <Input id="audit-to" type="date" value={filters.to} onChange={(e) => set('to', e.target.value)} />
        </div>
      </div>
      <QueryDataTable<Row, Sort>
        query={events}
        skeleton={<TableSkeleton columns={5} rows={8} />}
        testId="audit-table"
        columns={columns}
        state={state}
        onStateChange={setState}
        getRowId={(r) => r.id}
        empty={<EmptyState title="No audit events match these filters" />}
      />
    </div>
  );
}

'use client';
import { keepPreviousData, useMutation, useQuery } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import Link from 'next/link';
import { useState } from 'react';
import { toast } from 'sonner';
import { ALERT_SEVERITIES, type TAlertSeverity, type TAlertSort, type TAlertState } from '@fleetplane/contracts';
import type { RouterOutputs } from '@fleetplane/api';
import { DataTable } from '~/components/data-table';
import { useCan } from '~/components/session-context';
import { EmptyState, ErrorState, PageHeader, TableSkeleton } from '~/components/states';
import { Badge } from '~/components/ui/badge';
import { Button } from '~/components/ui/button';
import { Input, Label, NativeSelect } from '~/components/ui/input';
import { formatDateTime } from '~/lib/utils';
import { useInvalidateAlerts } from '~/trpc/invalidate';
import { useTRPC } from '~/trpc/react';
import { LIVE_REFRESH_MS } from '~/lib/live-refresh';
import { RelativeTime } from '~/components/relative-time';

type Row = RouterOutputs['alerts']['list']['items'][number];
const col = createColumnHelper<Row>();

const STATE_FILTERS: { value: string; label: string; states?: TAlertState[] }[] = [
  { value: 'live', label: 'Open and acknowledged', states: ['open', 'acknowledged'] },
  { value: 'open', label: 'Open', states: ['open'] },
  { value: 'acknowledged', label: 'Acknowledged', states: ['acknowledged'] },
  { value: 'resolved', label: 'Resolved', states: ['resolved'] },
  { value: 'all', label: 'All states' },
];

export const DEFAULT_ALERT_QUERY = {
  page: 1,
  pageSize: 25,
  sortBy: 'openedAt' as TAlertSort,
  sortDir: 'desc' as const,
  states: ['open', 'acknowledged'] as TAlertState[],
};

const STATE_VARIANT: Record<TAlertState, 'critical' | 'secondary' | 'healthy'> = {
  open: 'critical',
  acknowledged: 'secondary',
  resolved: 'healthy',
};

function AcknowledgeButton({ alert }: { alert: Row }) {
  const trpc = useTRPC();
  const invalidateAlerts = useInvalidateAlerts();
  const ack = useMutation(
    trpc.alerts.acknowledge.mutationOptions({
      onSuccess: async () => {
        toast.success('Alert acknowledged');
        await invalidateAlerts();
      },
      onError: (e) => toast.error(e.message),
    }),
  );
  return (
    <Button
      size="sm"
      variant="outline"
      disabled={ack.isPending}
      onClick={() => ack.mutate({ id: alert.id })}
      aria-label={`Acknowledge ${alert.title}`}
    >
      {ack.isPending ? 'Acknowledging…' : 'Acknowledge'}
    </Button>
  );
}

/** Alerts with server-side filters, paging and sorting; operators acknowledge from here. */
export function AlertsPage({ scope }: { scope: { gpuId?: string; clusterId?: string } }) {
  const trpc = useTRPC();
  const canAck = useCan('operator');
  const [table, setTable] = useState<{ page: number; pageSize: number; sortBy: TAlertSort; sortDir: 'asc' | 'desc' }>({
    page: DEFAULT_ALERT_QUERY.page,
    pageSize: DEFAULT_ALERT_QUERY.pageSize,
    sortBy: DEFAULT_ALERT_QUERY.sortBy,
    sortDir: DEFAULT_ALERT_QUERY.sortDir,
  });
  const [stateFilter, setStateFilter] = useState('live');
  const [severity, setSeverity] = useState<TAlertSeverity | ''>('');
  const [search, setSearch] = useState('');
  const states = STATE_FILTERS.find((f) => f.value === stateFilter)?.states;
  const input = { ...table, ...scope, states, severity: severity || undefined, search: search.trim() || undefined };
  const alerts = useQuery({ ...trpc.alerts.list.queryOptions(input), placeholderData: keepPreviousData, refetchInterval: LIVE_REFRESH_MS });
  const counts = useQuery({ ...trpc.alerts.counts.queryOptions(), refetchInterval: LIVE_REFRESH_MS });
  const reset = () => setTable({ ...table, page: 1 });

  const columns = [
    col.accessor('severity', { header: 'Severity', cell: (c) => <Badge variant={c.getValue()}>{c.getValue()}</Badge> }),
    col.accessor('title', {
      header: 'Alert',
      cell: (c) => {
        const a = c.row.original;
        const message = (a.details as { message?: string } | null)?.message;
        return (
          <div className="max-w-xl">
            <p className="font-medium">{a.title}</p>
            {message ? <p className="text-xs text-muted-foreground">{message}</p> : null}
            <p className="mt-0.5 text-xs">
              {a.cluster ? (
                <Link className="text-primary hover:underline" href={`/clusters/${a.cluster.id}`}>
                  {a.cluster.name}
                </Link>
              ) : null}
              {a.node ? (
                <>
                  {' / '}
                  <Link className="text-primary hover:underline" href={`/nodes/${a.node.id}`}>
                    {a.node.hostname}
                  </Link>
                </>
              ) : null}
              {a.gpu ? (
                <>
                  {' / '}
                  <Link className="text-primary hover:underline" href={`/gpus/${a.gpu.id}`}>
                    GPU {a.gpu.index}
                  </Link>
                </>
              ) : null}
            </p>
          </div>
        );
      },
    }),
    col.accessor('state', {
      header: 'State',
      cell: (c) => (
        <div>
          <Badge variant={STATE_VARIANT[c.getValue()]}>{c.getValue()}</Badge>
          {c.row.original.acknowledgedBy ? (
            <p className="mt-0.5 text-xs text-muted-foreground">by {c.row.original.acknowledgedBy}</p>
          ) : null}
        </div>
      ),
    }),
    col.accessor('openedAt', {
      header: 'Opened',
      cell: (c) => (
        <span className="whitespace-nowrap text-xs tabular-nums">
          <RelativeTime date={c.getValue()} />
        </span>
      ),
    }),
    col.accessor('lastSeenAt', {
      header: 'Last seen',
      cell: (c) => (
        <span className="whitespace-nowrap text-xs tabular-nums" title={formatDateTime(c.getValue())}>
          {c.row.original.state === 'resolved' && c.row.original.resolvedAt ? (
            <RelativeTime prefix="resolved " date={c.row.original.resolvedAt} />
          ) : (
            <RelativeTime date={c.getValue()} />
          )}
        </span>
      ),
    }),
    ...(canAck
      ? [
          col.display({
            id: 'actions',
            header: '',
            cell: (c) =>
              c.row.original.state === 'open' ? (
                <div className="text-right">
                  <AcknowledgeButton alert={c.row.original} />
                </div>
              ) : null,
          }),
        ]
      : []),
  ];

  const c = counts.data;
  return (
    <div>
      <PageHeader
        title="Alerts"
        description={
          c ? (
            <span data-testid="alert-counts">
              {c.open.critical} critical and {c.open.warning} warning open · {c.acknowledged.critical + c.acknowledged.warning} acknowledged
            </span>
          ) : (
            'GPU and node problems found by the health evaluation.'
          )
        }
      />
      {scope.gpuId || scope.clusterId ? (
        <p className="mb-3 text-sm text-muted-foreground">
          Showing alerts of one {scope.gpuId ? 'GPU' : 'cluster'} only.{' '}
          <Link className="text-primary hover:underline" href="/alerts">
            Show all
          </Link>
        </p>
      ) : null}
      <div className="mb-3 grid gap-3 sm:grid-cols-3">
        <div className="grid gap-1">
          <Label htmlFor="alert-state">State</Label>
          <NativeSelect id="alert-state" value={stateFilter} onChange={(e) => (setStateFilter(e.target.value), reset())}>
            {STATE_FILTERS.map((f) => (
              <option key={f.value} value={f.value}>
                {f.label}
              </option>
            ))}
          </NativeSelect>
        </div>
        <div className="grid gap-1">
          <Label htmlFor="alert-severity">Severity</Label>
          <NativeSelect
            id="alert-severity"
            value={severity}
            onChange={(e) => (setSeverity(e.target.value as TAlertSeverity | ''), reset())}
          >
            <option value="">All severities</option>
            {ALERT_SEVERITIES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </NativeSelect>
        </div>
        <div className="grid gap-1">
          <Label htmlFor="alert-search">Search</Label>
          <Input
            id="alert-search"
            placeholder="host, rule or GPU UUID"
            value={search}
            onChange={(e) => (setSearch(e.target.value), reset())}
          />
        </div>
      </div>
      {alerts.data === undefined ? (
        alerts.isError ? (
          <ErrorState error={alerts.error} onRetry={() => void alerts.refetch()} />
        ) : (
          <TableSkeleton columns={6} rows={6} />
        )
      ) : (
        <DataTable<Row, TAlertSort>
          testId="alerts-table"
          columns={columns}
          rows={alerts.data.items}
          total={alerts.data.total}
          state={table}
          onStateChange={setTable}
          isFetching={alerts.isFetching}
          getRowId={(r) => r.id}
          empty={
            <EmptyState
              title={stateFilter === 'live' && !severity && !search ? 'No open alerts' : 'No alerts match these filters'}
              description={
                stateFilter === 'live' ? 'The health evaluation runs every 10 seconds; problems it finds show up here.' : undefined
              }
            />
          }
        />
      )}
    </div>
  );
}

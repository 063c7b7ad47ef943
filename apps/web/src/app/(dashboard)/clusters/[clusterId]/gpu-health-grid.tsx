'use client';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import Link from 'next/link';
import { Tooltip } from 'radix-ui';
import { type THealthStatus } from '@fleetplane/contracts';
import type { RouterOutputs } from '@fleetplane/api';
import { HealthBadge } from '~/components/health-badge';
import { EmptyState, ErrorState } from '~/components/states';
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from '~/components/ui/card';
import { Skeleton } from '~/components/ui/skeleton';
import { cn } from '~/lib/utils';
import { useTRPC } from '~/trpc/react';
import { LIVE_REFRESH_MS } from '~/lib/live-refresh';
import { fmtGiB, fmtPercent, fmtWatts } from '~/lib/telemetry-format';
import { RelativeTime } from '~/components/relative-time';
import { Pager } from '~/components/data-table';
import { Input } from '~/components/ui/input';
import { GRID_PAGE_SIZE, firstGridPage } from './grid-input';

type Grid = RouterOutputs['fleetHealth']['clusterGrid'];
type GridNode = Grid['nodes'][number];
type GridGpu = GridNode['gpus'][number];

const CELL: Record<THealthStatus, string> = {
  healthy: 'bg-healthy/15 border-healthy/50 text-healthy-foreground',
  warning: 'bg-warning/25 border-warning text-warning-foreground',
  critical: 'bg-critical/20 border-critical text-critical-foreground',
  offline: 'bg-offline/20 border-offline text-offline-foreground',
  unknown: 'bg-unknown/25 border-unknown text-muted-foreground',
};
const DOT: Record<THealthStatus, string> = {
  healthy: 'bg-healthy',
  warning: 'bg-warning',
  critical: 'bg-critical',
  offline: 'bg-offline',
  unknown: 'bg-unknown',
};
const LABEL: Record<THealthStatus, string> = {
  healthy: 'healthy',
  warning: 'warning',
  critical: 'critical',
  offline: 'offline',
  unknown: 'no data',
};

function GpuCell({ gpu, node }: { gpu: GridGpu; node: GridNode }) {
  // A GPU on an offline node is shown as offline: its own last verdict is stale.
  const shown: THealthStatus = node.health === 'offline' ? 'offline' : gpu.health;
  const reasons = gpu.healthReasons;
  return (
    <Tooltip.Root>
      <Tooltip.Trigger asChild>
        <Link
          href={`/gpus/${gpu.id}`}
          data-testid={`gpu-cell-${node.hostname}-${gpu.index}`}
          data-health={shown}
          aria-label={`GPU ${gpu.index} on ${node.hostname}: ${LABEL[shown]}${reasons[0] ? `. ${reasons[0].message}` : ''}`}
          className={cn(
            'flex h-14 w-16 flex-col items-center justify-center rounded-md border text-xs transition-transform hover:scale-105 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring',
            CELL[shown],
          )}
        >
          <span className="font-semibold">GPU {gpu.index}</span>
          <span className="tabular-nums">{gpu.latest ? fmtPercent(gpu.latest.utilizationGpuPct) : '—'}</span>
        </Link>
      </Tooltip.Trigger>
      <Tooltip.Portal>
        <Tooltip.Content
          side="top"
          sideOffset={6}
          className="z-50 max-w-sm rounded-md border bg-card p-3 text-xs shadow-lg"
          data-testid="gpu-tooltip"
        >
          <div className="mb-1 flex items-center justify-between gap-3">
            <span className="font-semibold">
              {node.hostname} · GPU {gpu.index}
            </span>
            <HealthBadge status={shown} />
          </div>
          <p className="text-muted-foreground">{gpu.model}</p>
          <p className="font-mono text-[10px] text-muted-foreground">{gpu.uuid}</p>
          {reasons.length > 0 ? (
            <ul className="mt-2 space-y-1">
              {reasons.map((r) => (
                <li key={r.code} className="flex gap-1.5">
                  <span className={cn('mt-1 size-1.5 shrink-0 rounded-full', r.severity === 'critical' ? 'bg-critical' : 'bg-warning')} />
                  <span>{r.message}</span>
                </li>
              ))}
            </ul>
          ) : (
            <p className="mt-2">{shown === 'healthy' ? 'No problems found.' : 'No verdict yet.'}</p>
          )}
          {gpu.latest ? (
            <p className="mt-2 tabular-nums text-muted-foreground">
              {fmtPercent(gpu.latest.utilizationGpuPct)} util · {gpu.latest.temperatureC ?? '—'} °C · {fmtGiB(gpu.latest.memoryUsedMib)} ·{' '}
              {fmtWatts(gpu.latest.powerDrawW)} · sampled <RelativeTime date={gpu.latest.sampledAt} />
            </p>
          ) : (
            <p className="mt-2 text-muted-foreground">No sample received yet.</p>
          )}
          <Tooltip.Arrow className="fill-card" />
        </Tooltip.Content>
      </Tooltip.Portal>
    </Tooltip.Root>
  );
}

// Worst first, as the server orders the nodes.
const SEVERITY_ORDER: THealthStatus[] = ['critical', 'warning', 'offline', 'unknown', 'healthy'];

/**
 * The whole cluster's GPUs as one bar split by verdict, each part a filter: at 8,000 GPUs this is the
 * picture; the grid below shows one page of nodes.
 */
function HealthBar({
  counts,
  selected,
  onToggle,
}: {
  counts: Record<THealthStatus, number>;
  selected: THealthStatus[];
  onToggle: (s: THealthStatus) => void;
}) {
  const total = SEVERITY_ORDER.reduce((n, s) => n + counts[s], 0);
  if (total === 0) return null;
  return (
    <div className="space-y-2" data-testid="gpu-health-bar">
      <div className="flex h-3 w-full overflow-hidden rounded-full bg-muted" aria-hidden="true">
        {SEVERITY_ORDER.filter((s) => counts[s] > 0).map((s) => (
          <div key={s} className={cn('h-full', DOT[s])} style={{ width: `${(counts[s] / total) * 100}%` }} />
        ))}
      </div>
      <div className="flex flex-wrap gap-2" role="group" aria-label="Show nodes with GPUs in these states">
        {SEVERITY_ORDER.map((s) => {
          const on = selected.includes(s);
          return (
            <button
              key={s}
              type="button"
              aria-pressed={on}
              disabled={counts[s] === 0 && !on}
              onClick={() => onToggle(s)}
              data-testid={`grid-filter-${s}`}
              className={cn(
                'inline-flex items-center gap-1.5 rounded-full border px-2.5 py-0.5 text-xs tabular-nums transition-colors disabled:opacity-50',
                on ? 'border-primary bg-primary/10 text-foreground' : 'hover:bg-muted',
              )}
            >
              <span className={cn('size-2 rounded-full', DOT[s])} />
              {counts[s].toLocaleString()} {LABEL[s]}
            </button>
          );
        })}
      </div>
    </div>
  );
}

/**
 * Node × GPU grid coloured by health, refreshed in place; each cell links to the GPU's page. The server
 * pages it worst first, so the nodes that need attention are on page one whatever the cluster's size.
 */
export function GpuHealthGrid({ clusterId }: { clusterId: string }) {
  const trpc = useTRPC();
  const [page, setPage] = useState({ page: 1, pageSize: GRID_PAGE_SIZE });
  const [health, setHealth] = useState<THealthStatus[]>([]);
  const [hostname, setHostname] = useState('');
  const filtered = health.length > 0 || hostname.trim() !== '';
  const input =
    !filtered && page.page === 1 && page.pageSize === GRID_PAGE_SIZE
      ? firstGridPage(clusterId)
      : { clusterId, ...page, ...(health.length > 0 ? { health } : {}), ...(hostname.trim() ? { hostname: hostname.trim() } : {}) };
  const grid = useQuery({
    ...trpc.fleetHealth.clusterGrid.queryOptions(input),
    refetchInterval: LIVE_REFRESH_MS,
    placeholderData: keepPreviousData,
  });
  const toggle = (s: THealthStatus) => {
    setHealth((h) => (h.includes(s) ? h.filter((x) => x !== s) : [...h, s]));
    setPage((p) => ({ ...p, page: 1 }));
  };

  return (
    <Card>
      <CardHeader>
        <CardTitle>GPU health</CardTitle>
        <CardDescription className="flex flex-wrap items-center gap-x-3 gap-y-1">
          <span>
            Every GPU by node, from the latest health evaluation, nodes that need attention first. Hover for the reasons; click for charts.
          </span>
        </CardDescription>
      </CardHeader>
      <CardContent className="space-y-4">
        {grid.data === undefined ? (
          grid.isError ? (
            <ErrorState error={grid.error} onRetry={() => void grid.refetch()} />
          ) : (
            <div className="space-y-2" role="status" aria-busy="true" aria-label="Loading">
              <Skeleton className="h-16" />
              <Skeleton className="h-16" />
            </div>
          )
        ) : grid.data.total === 0 && !filtered ? (
          <EmptyState
            title="No nodes yet"
            description="Create a join token below and run the enroll command on a GPU node; its GPUs appear here on the first report."
          />
        ) : (
          <>
            <div className="flex flex-wrap items-end justify-between gap-3">
              <HealthBar counts={grid.data.summary.gpus} selected={health} onToggle={toggle} />
              <Input
                type="search"
                aria-label="Find a node by hostname"
                placeholder="Find a node…"
                className="h-8 w-56"
                value={hostname}
                onChange={(e) => {
                  setHostname(e.target.value);
                  setPage((p) => ({ ...p, page: 1 }));
                }}
              />
            </div>
            {grid.data.nodes.length === 0 ? (
              <EmptyState title="No node matches" description="Clear the filters to see every node." />
            ) : (
              <Tooltip.Provider delayDuration={150}>
                <div className="divide-y" data-testid="gpu-grid" aria-busy={grid.isFetching}>
                  {grid.data.nodes.map((node) => (
                    <div key={node.id} className="flex flex-wrap items-center gap-4 py-3 first:pt-0 last:pb-0">
                      <div className="w-48 shrink-0">
                        <Link href={`/nodes/${node.id}`} className="font-medium text-primary hover:underline">
                          {node.hostname}
                        </Link>
                        <div className="mt-1 flex items-center gap-2 text-xs text-muted-foreground">
                          <HealthBadge status={node.health} />
                          <RelativeTime date={node.lastSeenAt} />
                        </div>
                        {node.health === 'offline' || node.health === 'unknown' ? (
                          <p className="mt-1 text-xs text-muted-foreground">{node.healthReasons[0]?.message}</p>
                        ) : null}
                      </div>
                      {node.gpus.length === 0 ? (
                        <span className="text-sm text-muted-foreground">No GPUs reported by this node.</span>
                      ) : (
                        <div className="flex flex-wrap gap-2">
                          {node.gpus.map((g) => (
                            <GpuCell key={g.id} gpu={g} node={node} />
                          ))}
                        </div>
                      )}
                    </div>
                  ))}
                </div>
              </Tooltip.Provider>
            )}
            {grid.data.total > page.pageSize || page.page > 1 || page.pageSize !== GRID_PAGE_SIZE ? (
              <Pager total={grid.data.total} page={page.page} pageSize={page.pageSize} pageSizes={[12, 24, 48, 96]} onChange={setPage} />
            ) : null}
          </>
        )}
      </CardContent>
    </Card>
  );
}

'use client';
import { useQuery } from '@tanstack/react-query';
import { Activity, Gauge, Zap } from 'lucide-react';
import Link from 'next/link';
import { Area, AreaChart, ResponsiveContainer, YAxis } from 'recharts';
import { HEALTH_STATUSES, SERVING_ENGINE_LABELS, type THealthStatus } from '@fleetplane/contracts';
import type { RouterOutputs } from '@fleetplane/api';
import { HealthBadge } from '~/components/health-badge';
import { EmptyState, ErrorState } from '~/components/states';
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from '~/components/ui/card';
import { Skeleton } from '~/components/ui/skeleton';
import { cn } from '~/lib/utils';
import { useTRPC } from '~/trpc/react';
import { LIVE_REFRESH_MS } from '~/lib/live-refresh';
import { barWidth, fmtFraction, fmtGiB, fmtPercent, fmtRate, fmtTime, fmtWatts } from '~/lib/telemetry-format';

type ClusterLive = RouterOutputs['fleetHealth']['utilisation']['clusters'][number];

const DOT: Record<THealthStatus, string> = {
  healthy: 'bg-healthy',
  warning: 'bg-warning',
  critical: 'bg-critical',
  offline: 'bg-offline',
  unknown: 'bg-unknown',
};

function Metric({ label, value, bar, hint, sub }: { label: string; value: string; bar?: string; hint?: string; sub?: string }) {
  return (
    <div className="min-w-0">
      <p className="text-[11px] font-medium uppercase tracking-wide text-muted-foreground">{label}</p>
      <p className="truncate text-sm font-semibold tabular-nums" title={hint}>
        {value}
        {sub ? <span className="ml-1 text-xs font-normal text-muted-foreground">{sub}</span> : null}
      </p>
      {bar !== undefined ? (
        <div className="mt-1 h-1.5 w-full overflow-hidden rounded-full bg-muted">
          <div className="h-full rounded-full bg-primary/70 transition-[width] duration-700" style={{ width: bar }} />
        </div>
      ) : null}
    </div>
  );
}

function Sparkline({ data }: { data: ClusterLive['history'] }) {
  if (data.length < 2) return <p className="flex h-12 items-center text-xs text-muted-foreground">No history yet</p>;
  const points = data.map((p) => ({ t: new Date(p.t).getTime(), u: p.utilizationGpuAvg }));
  return (
    <div className="h-12 w-full" aria-label="GPU utilisation over the last hour" role="img">
      <ResponsiveContainer width="100%" height="100%">
        <AreaChart data={points} margin={{ top: 2, right: 0, bottom: 0, left: 0 }}>
          <YAxis hide domain={[0, 100]} />
          <Area
            type="monotone"
            dataKey="u"
            stroke="var(--primary)"
            fill="var(--primary)"
            fillOpacity={0.15}
            strokeWidth={1.5}
            isAnimationActive={false}
            connectNulls
          />
        </AreaChart>
      </ResponsiveContainer>
    </div>
  );
}

function ClusterCard({ c }: { c: ClusterLive }) {
  const silent = c.reportingGpus === 0;
  return (
    <Card data-testid={`live-${c.name}`}>
      <CardContent className="space-y-3 pt-4">
        <div className="flex items-start justify-between gap-2">
          <div className="min-w-0">
            <Link href={`/clusters/${c.clusterId}`} className="block truncate font-medium text-primary hover:underline">
              {c.name}
            </Link>
            <p className="text-xs text-muted-foreground">
              {SERVING_ENGINE_LABELS[c.servingEngine]} · {c.site} · {c.reportingGpus}/{c.gpuCount} GPUs reporting
            </p>
          </div>
          <HealthBadge status={c.health} />
        </div>
        {silent ? (
          <p className="rounded-md bg-muted px-3 py-2 text-xs text-muted-foreground">
            No GPU of this cluster reported in the last 2 minutes. Enroll an agent on its nodes from the cluster page.
          </p>
        ) : (
          <div className="grid grid-cols-3 gap-3">
            <Metric label="GPU util" value={fmtPercent(c.utilizationGpuAvg)} bar={barWidth(c.utilizationGpuAvg)} />
            <Metric
              label="Memory"
              value={fmtGiB(c.memoryUsedMib)}
              hint={`${c.memoryUsedMib !== null && c.memoryTotalMib ? `${Math.round((c.memoryUsedMib / c.memoryTotalMib) * 100)}% ` : ''}of ${fmtGiB(c.memoryTotalMib)}`}
              bar={barWidth(c.memoryUsedMib, c.memoryTotalMib ?? 0)}
            />
            <Metric
              label="Power"
              value={fmtWatts(c.powerDrawW)}
              bar={barWidth(c.powerDrawW, c.powerLimitW ?? 0)}
              hint={c.powerLimitW ? `of ${fmtWatts(c.powerLimitW)} limit` : undefined}
            />
            <Metric
              label="Tokens/s"
              value={fmtRate(c.generationTokensPerSecond)}
              hint={c.promptTokensPerSecond !== null ? `prompt ${fmtRate(c.promptTokensPerSecond)}` : 'no engine metrics'}
            />
            <Metric
              label="KV cache"
              value={fmtFraction(c.kvCacheUsageFraction)}
              bar={c.kvCacheUsageFraction === null ? undefined : barWidth(c.kvCacheUsageFraction, 1)}
            />
            <Metric
              label="Requests"
              value={c.runningRequests === null ? '—' : String(Math.round(c.runningRequests))}
              sub={c.waitingRequests ? `+${Math.round(c.waitingRequests)} queued` : undefined}
              hint="running (queued)"
            />
          </div>
        )}
        <Sparkline data={c.history} />
        <div className="flex flex-wrap gap-x-3 gap-y-1 text-xs text-muted-foreground" role="group" aria-label="GPUs by health">
          {HEALTH_STATUSES.filter((s) => c.gpusByHealth[s] > 0).map((s) => (
            <span key={s} className="inline-flex items-center gap-1" data-testid={`live-${c.name}-${s}`}>
              <span className={cn('size-2 rounded-full', DOT[s])} />
              {c.gpusByHealth[s]} {s}
            </span>
          ))}
        </div>
      </CardContent>
    </Card>
  );
}

/** The overview's live panel: per-cluster utilisation from the newest samples, refreshed in place every 5 s. */
export function LiveUtilisation() {
  const trpc = useTRPC();
  const live = useQuery({
    ...trpc.fleetHealth.utilisation.queryOptions(),
    refetchInterval: LIVE_REFRESH_MS,
    refetchIntervalInBackground: false,
  });

  return (
    <Card>
      <CardHeader className="flex-row items-start justify-between gap-4 space-y-0">
        <div>
          <CardTitle className="flex items-center gap-2">
            <Activity className="size-4 text-primary" /> Live utilisation
          </CardTitle>
          <CardDescription>From each GPU’s newest sample; refreshed every {LIVE_REFRESH_MS / 1000} s.</CardDescription>
        </div>
        {live.data ? (
          <div className="flex flex-wrap items-center justify-end gap-x-5 gap-y-1 text-sm" data-testid="live-fleet">
            <span className="inline-flex items-center gap-1.5 tabular-nums" title="Average GPU utilisation of reporting GPUs">
              <Gauge className="size-4 text-muted-foreground" /> {fmtPercent(live.data.fleet.utilizationGpuAvg)}
            </span>
            <span className="inline-flex items-center gap-1.5 tabular-nums" title="Total GPU power draw">
              <Zap className="size-4 text-muted-foreground" /> {fmtWatts(live.data.fleet.powerDrawW)}
            </span>
            <span className="tabular-nums text-muted-foreground" title="Generated tokens per second across the fleet">
              {fmtRate(live.data.fleet.generationTokensPerSecond)} tokens
            </span>
            <span className="text-xs text-muted-foreground" data-testid="live-updated">
              {live.data.fleet.reportingGpus}/{live.data.fleet.gpuCount} GPUs · {fmtTime(live.data.at)} UTC
            </span>
          </div>
        ) : null}
      </CardHeader>
      <CardContent>
        {live.data === undefined ? (
          live.isError ? (
            <ErrorState error={live.error} onRetry={() => void live.refetch()} />
          ) : (
            <div className="grid gap-4 md:grid-cols-2 xl:grid-cols-3" role="status" aria-busy="true" aria-label="Loading">
              {Array.from({ length: 3 }, (_, i) => (
                <Skeleton key={i} className="h-56" />
              ))}
            </div>
          )
        ) : live.data.clusters.length === 0 ? (
          <EmptyState
            title="No clusters yet"
            description="Create a cluster, then enroll the agent on its nodes to see live utilisation here."
          />
        ) : (
          <div className="grid gap-4 md:grid-cols-2 xl:grid-cols-3">
            {live.data.clusters.map((c) => (
              <ClusterCard key={c.clusterId} c={c} />
            ))}
          </div>
        )}
        {live.data !== undefined && live.isRefetchError ? (
          <p className="mt-2 text-xs text-destructive" role="status">
            Live refresh failed ({live.error?.message}); showing the data from {fmtTime(live.data.at)} UTC.
          </p>
        ) : null}
      </CardContent>
    </Card>
  );
}

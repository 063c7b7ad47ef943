'use client';
import { useQuery } from '@tanstack/react-query';
import { Boxes, Cpu, HardDrive, Server } from 'lucide-react';
import { HEALTH_STATUSES, type THealthStatus } from '@fleetplane/contracts';
import { ErrorState, PageHeader } from '~/components/states';
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from '~/components/ui/card';
import { Skeleton } from '~/components/ui/skeleton';
import { formatMib } from '~/lib/utils';
import { useTRPC } from '~/trpc/react';
import { ClustersTable } from '~/components/clusters/clusters-table';
import { GpuModelChart } from './gpu-model-chart';
import { LIVE_REFRESH_MS } from '~/lib/live-refresh';
import { LiveUtilisation } from './live-utilisation';

const HEALTH_COLOURS: Record<THealthStatus, string> = {
  healthy: 'bg-healthy',
  warning: 'bg-warning',
  critical: 'bg-critical',
  offline: 'bg-offline',
  unknown: 'bg-unknown',
};

function Stat({
  icon: Icon,
  label,
  value,
  hint,
}: {
  icon: React.ComponentType<{ className?: string }>;
  label: string;
  value: React.ReactNode;
  hint?: string;
}) {
  return (
    <Card data-testid={`stat-${label.toLowerCase().replace(/\s+/g, '-')}`}>
      <CardContent className="flex items-center gap-4 pt-5">
        <div className="flex size-10 items-center justify-center rounded-lg bg-accent text-accent-foreground">
          <Icon className="size-5" />
        </div>
        <div>
          <p className="text-xs font-medium uppercase tracking-wide text-muted-foreground">{label}</p>
          <p className="text-2xl font-semibold tabular-nums">{value}</p>
          {hint ? <p className="text-xs text-muted-foreground">{hint}</p> : null}
        </div>
      </CardContent>
    </Card>
  );
}

export function HealthBar({ counts, label }: { counts: Record<THealthStatus, number>; label: string }) {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return (
    <div className="space-y-2">
      <div className="flex h-3 w-full overflow-hidden rounded-full bg-muted" role="img" aria-label={`${label} by health`}>
        {HEALTH_STATUSES.map((s) =>
          counts[s] ? (
            <div
              key={s}
              className={HEALTH_COLOURS[s]}
              style={{ width: `${(counts[s] / Math.max(total, 1)) * 100}%` }}
              title={`${s}: ${counts[s]}`}
            />
          ) : null,
        )}
      </div>
      <div className="flex flex-wrap gap-x-4 gap-y-1 text-xs text-muted-foreground">
        {HEALTH_STATUSES.map((s) => (
          <span key={s} className="inline-flex items-center gap-1.5" data-testid={`${label.toLowerCase()}-${s}`}>
            <span className={`size-2 rounded-full ${HEALTH_COLOURS[s]}`} />
            {s} <span className="font-medium tabular-nums text-foreground">{counts[s]}</span>
          </span>
        ))}
      </div>
    </div>
  );
}

export function FleetOverview() {
  const trpc = useTRPC();
  // Health counts change as the health job runs: keep them as live as the utilisation panel.
  const summary = useQuery({ ...trpc.fleet.summary.queryOptions(), refetchInterval: LIVE_REFRESH_MS });

  return (
    <div className="space-y-6">
      <PageHeader title="Fleet overview" description="What runs where across your DeepSeek V4 clusters, and whether it is healthy." />
      {summary.isPending ? (
        <div className="grid grid-cols-2 gap-4 lg:grid-cols-4">
          {Array.from({ length: 4 }, (_, i) => (
            <Skeleton key={i} className="h-24" />
          ))}
        </div>
      ) : summary.isError ? (
        <ErrorState error={summary.error} onRetry={() => void summary.refetch()} />
      ) : (
        <>
          <div className="grid grid-cols-2 gap-4 lg:grid-cols-4">
            <Stat
              icon={Boxes}
              label="Clusters"
              value={summary.data.clusters}
              hint={summary.data.engines.map((e) => `${e.count} ${e.engine}`).join(' · ')}
            />
            <Stat icon={Server} label="Nodes" value={summary.data.nodeCount} hint={`${summary.data.nodesByHealth.offline} offline`} />
            <Stat
              icon={Cpu}
              label="GPUs"
              value={summary.data.gpuCount}
              hint={`${summary.data.gpusByHealth.critical} critical · ${summary.data.gpusByHealth.warning} warning`}
            />
            <Stat icon={HardDrive} label="GPU memory" value={formatMib(summary.data.gpuMemoryMib)} />
          </div>
          <div className="grid gap-4 lg:grid-cols-3">
            <Card className="lg:col-span-2">
              <CardHeader>
                <CardTitle>Health</CardTitle>
                <CardDescription>Every GPU and node by its latest health verdict.</CardDescription>
              </CardHeader>
              <CardContent className="space-y-5">
                <div>
                  <p className="mb-2 text-sm font-medium">GPUs</p>
                  <HealthBar counts={summary.data.gpusByHealth} label="GPUs" />
                </div>
                <div>
                  <p className="mb-2 text-sm font-medium">Nodes</p>
                  <HealthBar counts={summary.data.nodesByHealth} label="Nodes" />
                </div>
              </CardContent>
            </Card>
            <Card>
              <CardHeader>
                <CardTitle>GPU models</CardTitle>
                <CardDescription>Accelerators across the fleet.</CardDescription>
              </CardHeader>
              <CardContent>
                <GpuModelChart data={summary.data.gpuModels} />
              </CardContent>
            </Card>
          </div>
        </>
      )}
      <LiveUtilisation />
      <div>
        <h2 className="mb-3 text-lg font-semibold">Clusters</h2>
        <ClustersTable />
      </div>
    </div>
  );
}

'use client';
import { useQuery } from '@tanstack/react-query';
import { AlertTriangle, CheckCircle2 } from 'lucide-react';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { useState } from 'react';
import type { TGpuSeriesRange } from '@fleetplane/contracts';
import { decodeClocksEventReasons } from '@fleetplane/domain/health/clock-event-reasons';
import { describeXidEvent } from '@fleetplane/domain/health/xid-catalogue';
import { HealthBadge } from '~/components/health-badge';
import { EmptyState, ErrorState, PageHeader } from '~/components/states';
import { Badge } from '~/components/ui/badge';
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from '~/components/ui/card';
import { Skeleton } from '~/components/ui/skeleton';
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '~/components/ui/table';
import { cn, formatDateTime, formatMib } from '~/lib/utils';
import { useTRPC } from '~/trpc/react';
import { LIVE_REFRESH_MS } from '~/lib/live-refresh';
import { fmtGiB, fmtPercent, fmtWatts } from '~/lib/telemetry-format';
import { GpuCharts } from './gpu-charts';
import { RelativeTime } from '~/components/relative-time';

function Stat({ label, value, hint }: { label: string; value: React.ReactNode; hint?: React.ReactNode }) {
  return (
    <div>
      <p className="text-xs uppercase tracking-wide text-muted-foreground">{label}</p>
      <p className="text-lg font-semibold tabular-nums">{value}</p>
      {hint ? <p className="text-xs text-muted-foreground">{hint}</p> : null}
    </div>
  );
}

export function GpuDetail({ gpuId }: { gpuId: string }) {
  const trpc = useTRPC();
  const [range, setRange] = useState<TGpuSeriesRange>('1h');
  const gpu = useQuery({ ...trpc.fleetHealth.gpu.queryOptions({ id: gpuId }), refetchInterval: LIVE_REFRESH_MS });
  if (gpu.isError && gpu.error.data?.code === 'NOT_FOUND') notFound();
  if (gpu.data === undefined) {
    return gpu.isError ? (
      <ErrorState error={gpu.error} onRetry={() => void gpu.refetch()} />
    ) : (
      <Skeleton className="h-64" role="status" aria-busy="true" aria-label="Loading" />
    );
  }
  const g = gpu.data;
  const l = g.latest;
  const throttle = l?.clocksEventReasons ? decodeClocksEventReasons(l.clocksEventReasons).filter((r) => r !== 'GpuIdle') : [];
  return (
    <div className="space-y-6">
      <PageHeader
        title={`${g.node.hostname} · GPU ${g.index}`}
        description={
          <span className="inline-flex flex-wrap items-center gap-2">
            <HealthBadge status={g.health} />
            <Link className="text-primary hover:underline" href={`/clusters/${g.node.cluster.id}`}>
              {g.node.cluster.name}
            </Link>
            /
            <Link className="text-primary hover:underline" href={`/nodes/${g.node.id}`}>
              {g.node.hostname}
            </Link>
            · last sample <RelativeTime date={g.lastSampleAt} />
          </span>
        }
      />
      <Card>
        <CardContent className="grid grid-cols-2 gap-4 pt-5 md:grid-cols-4">
          <Stat label="Model" value={<span className="text-sm">{g.model}</span>} hint={<span className="font-mono">{g.uuid}</span>} />
          <Stat
            label="Memory"
            value={<span className="text-sm">{formatMib(g.memoryMib)}</span>}
            hint={`${g.interconnect} · PCI ${g.pciBusId ?? '—'}`}
          />
          <Stat
            label="Driver / CUDA"
            value={
              <span className="text-sm">
                {g.node.driverVersion ?? '—'} / {g.node.cudaVersion ?? '—'}
              </span>
            }
          />
          <Stat
            label="Node"
            value={<HealthBadge status={g.node.health} />}
            hint={<RelativeTime prefix="last report " date={g.node.lastSeenAt} />}
          />
        </CardContent>
      </Card>

      <div className="grid gap-4 lg:grid-cols-3">
        <Card className="lg:col-span-1" data-testid="gpu-reasons">
          <CardHeader>
            <CardTitle>Current verdict</CardTitle>
            <CardDescription>From the latest health evaluation (every 10 s).</CardDescription>
          </CardHeader>
          <CardContent>
            {g.healthReasons.length === 0 ? (
              <p className="flex items-center gap-2 text-sm">
                <CheckCircle2 className="size-4 text-healthy" />
                {g.health === 'healthy' ? 'No problems found.' : 'Not evaluated yet.'}
              </p>
            ) : (
              <ul className="space-y-2">
                {g.healthReasons.map((r) => (
                  <li key={r.code} className="flex gap-2 text-sm">
                    <AlertTriangle className={cn('mt-0.5 size-4 shrink-0', r.severity === 'critical' ? 'text-critical' : 'text-warning')} />
                    <span>
                      <span className="font-medium">{r.code.replace(/_/g, ' ')}</span>: {r.message}
                    </span>
                  </li>
                ))}
              </ul>
            )}
            {g.alerts.length > 0 ? (
              <div className="mt-4 space-y-1 border-t pt-3">
                <p className="text-xs font-medium uppercase text-muted-foreground">Live alerts</p>
                {g.alerts.map((a) => (
                  <Link key={a.id} href={`/alerts?gpuId=${g.id}`} className="flex items-center gap-2 text-sm hover:underline">
                    <Badge variant={a.severity}>{a.severity}</Badge> {a.title}{' '}
                    <span className="text-xs text-muted-foreground">({a.state})</span>
                  </Link>
                ))}
              </div>
            ) : null}
          </CardContent>
        </Card>
        <Card className="lg:col-span-2">
          <CardHeader>
            <CardTitle>Now</CardTitle>
            <CardDescription>
              {l ? (
                <>
                  Sampled <RelativeTime date={l.sampledAt} /> ({formatDateTime(l.sampledAt)})
                </>
              ) : (
                'No sample received yet.'
              )}
            </CardDescription>
          </CardHeader>
          <CardContent className="grid grid-cols-2 gap-4 md:grid-cols-4">
            <Stat label="Utilisation" value={fmtPercent(l?.utilizationGpuPct)} />
            <Stat
              label="Memory used"
              value={fmtGiB(l?.memoryUsedMib)}
              hint={l?.memoryTotalMib ? `of ${fmtGiB(l.memoryTotalMib)}` : undefined}
            />
            <Stat label="Temperature" value={l?.temperatureC === null || l?.temperatureC === undefined ? '—' : `${l.temperatureC} °C`} />
            <Stat label="Power" value={fmtWatts(l?.powerDrawW)} hint={l?.powerLimitW ? `limit ${fmtWatts(l.powerLimitW)}` : undefined} />
            <Stat label="SM clock" value={l?.smClockMhz === null || l?.smClockMhz === undefined ? '—' : `${l.smClockMhz} MHz`} />
            <Stat label="ECC corrected" value={l?.eccCorrectedVolatile ?? '—'} hint="since driver load" />
            <Stat
              label="ECC uncorrected"
              value={
                <span className={cn(l?.eccUncorrectedVolatile ? 'text-critical-foreground' : undefined)}>
                  {l?.eccUncorrectedVolatile ?? '—'}
                </span>
              }
              hint="since driver load"
            />
            <Stat
              label="Clock events"
              value={<span className="text-sm">{throttle.length ? throttle.join(', ') : l ? 'none' : '—'}</span>}
            />
          </CardContent>
        </Card>
      </div>

      <GpuCharts gpuId={gpuId} range={range} onRange={setRange} />

      <div>
        <h2 className="mb-3 text-lg font-semibold">Recent XID errors</h2>
        {g.xids.length === 0 ? (
          <EmptyState
            title="No XID errors recorded for this GPU"
            description="XIDs come from the kernel log the agent tails (--kernel-log)."
          />
        ) : (
          <div className="rounded-lg border bg-card">
            <Table data-testid="gpu-xids">
              <TableHeader>
                <TableRow>
                  <TableHead>Time</TableHead>
                  <TableHead>XID</TableHead>
                  <TableHead>Meaning</TableHead>
                  <TableHead>Process</TableHead>
                  <TableHead>Message</TableHead>
                </TableRow>
              </TableHeader>
              <TableBody>
                {g.xids.map((x) => {
                  const info = describeXidEvent(x.xid, x.message);
                  return (
                    <TableRow key={x.id}>
                      <TableCell className="whitespace-nowrap text-xs tabular-nums">
                        {x.undated ? (
                          // The kernel line carried no time the agent could read: this is when it was read.
                          <span
                            data-testid="xid-undated"
                            title="The kernel log line had no timestamp the agent could read; this is when the agent read it."
                          >
                            undated (read {formatDateTime(x.occurredAt)})
                          </span>
                        ) : (
                          formatDateTime(x.occurredAt)
                        )}
                      </TableCell>
                      <TableCell>
                        <Badge variant={info.severity}>{x.xid}</Badge>
                        {x.gpuInstanceId !== null && <p className="text-muted-foreground text-xs">MIG GI {x.gpuInstanceId}</p>}
                      </TableCell>
                      <TableCell className="text-xs">
                        {info.meaning}
                        {x.kind === 'fallen_off_bus' && <p className="text-xs">kernel message without an Xid line</p>}
                        <p className="text-muted-foreground">{info.action}</p>
                      </TableCell>
                      <TableCell className="text-xs">{x.processName ? `${x.processName} (${x.pid ?? '?'})` : '—'}</TableCell>
                      <TableCell className="max-w-md truncate font-mono text-xs" title={x.message}>
                        {x.message}
                      </TableCell>
                    </TableRow>
                  );
                })}
              </TableBody>
            </Table>
          </div>
        )}
      </div>
    </div>
  );
}

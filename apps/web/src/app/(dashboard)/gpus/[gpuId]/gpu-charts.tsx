'use client';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { GPU_SERIES_RANGES, type TGpuSeriesRange } from '@fleetplane/contracts';
import type { RouterOutputs } from '@fleetplane/api';
import { EmptyState, ErrorState } from '~/components/states';
import { Button } from '~/components/ui/button';
import { Card, CardContent, CardHeader, CardTitle } from '~/components/ui/card';
import { Skeleton } from '~/components/ui/skeleton';
import { useTRPC } from '~/trpc/react';

type Series = RouterOutputs['fleetHealth']['gpuSeries'];
type Point = Series['points'][number];

const RANGE_LABEL: Record<TGpuSeriesRange, string> = { '1h': 'Last hour', '24h': 'Last day', '7d': 'Last week' };
const SOURCE: Record<Series['resolution'], string> = { raw: 'raw samples', minute: '1-minute rollups', hour: '1-hour rollups' };

interface ChartSpec {
  title: string;
  unit: string;
  domain?: [number, number];
  lines: { key: string; name: string; colour: string; dashed?: boolean }[];
  value: (p: Point) => Record<string, number | null>;
}

function chartsFor(memoryTotalMib: number): ChartSpec[] {
  return [
    {
      title: 'GPU utilisation',
      unit: '%',
      domain: [0, 100],
      lines: [
        { key: 'avg', name: 'average', colour: '#3b4cca' },
        { key: 'max', name: 'max', colour: '#94a3b8', dashed: true },
      ],
      value: (p) => ({ avg: p.utilizationGpuAvg, max: p.utilizationGpuMax }),
    },
    {
      title: 'Memory used',
      unit: ' GiB',
      domain: [0, Math.ceil(memoryTotalMib / 1024)],
      lines: [{ key: 'avg', name: 'used', colour: '#0e9f6e' }],
      value: (p) => ({ avg: p.memoryUsedMibAvg === null ? null : Math.round((p.memoryUsedMibAvg / 1024) * 10) / 10 }),
    },
    {
      title: 'Temperature',
      unit: ' °C',
      lines: [
        { key: 'avg', name: 'average', colour: '#d97706' },
        { key: 'max', name: 'max', colour: '#dc2626', dashed: true },
      ],
      value: (p) => ({ avg: p.temperatureCAvg, max: p.temperatureCMax }),
    },
    {
      title: 'Power draw',
      unit: ' W',
      lines: [
        { key: 'avg', name: 'average', colour: '#7c3aed' },
        { key: 'max', name: 'max', colour: '#a78bfa', dashed: true },
      ],
      value: (p) => ({ avg: p.powerDrawWAvg, max: p.powerDrawWMax }),
    },
  ];
}

function tick(range: TGpuSeriesRange) {
  return (ms: number) => {
    const iso = new Date(ms).toISOString();
    if (range === '7d') return `${iso.slice(5, 10)} ${iso.slice(11, 13)}h`;
    return range === '1h' ? iso.slice(11, 19) : iso.slice(11, 16);
  };
}

function Chart({ spec, points, range }: { spec: ChartSpec; points: Point[]; range: TGpuSeriesRange }) {
  const data = points.map((p) => ({ t: new Date(p.t).getTime(), ...spec.value(p) }));
  return (
    <Card>
      <CardHeader className="pb-1">
        <CardTitle className="text-sm">{spec.title}</CardTitle>
      </CardHeader>
      <CardContent className="h-48" role="img" aria-label={`${spec.title}, ${RANGE_LABEL[range].toLowerCase()}`}>
        <ResponsiveContainer width="100%" height="100%">
          <LineChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: -12 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" />
            <XAxis
              dataKey="t"
              type="number"
              scale="time"
              domain={['dataMin', 'dataMax']}
              tickFormatter={tick(range)}
              tick={{ fontSize: 11 }}
              minTickGap={28}
            />
            <YAxis domain={spec.domain ?? ['auto', 'auto']} tick={{ fontSize: 11 }} width={48} />
            <Tooltip
              labelFormatter={(ms) => `${new Date(Number(ms)).toISOString().replace('T', ' ').slice(0, 19)} UTC`}
              formatter={(v, name) => [v === null || v === undefined ? '—' : `${Number(v).toFixed(1)}${spec.unit}`, String(name)]}
            />
            {spec.lines.map((l) => (
              <Line
                key={l.key}
                dataKey={l.key}
                name={l.name}
                stroke={l.colour}
                strokeDasharray={l.dashed ? '4 3' : undefined}
                dot={false}
                strokeWidth={1.6}
                isAnimationActive={false}
                connectNulls={false}
              />
            ))}
          </LineChart>
        </ResponsiveContainer>
      </CardContent>
    </Card>
  );
}

/** Utilisation, memory, temperature and power over the last hour (raw), day (minute) or week (hour rollups). */
export function GpuCharts({ gpuId, range, onRange }: { gpuId: string; range: TGpuSeriesRange; onRange: (r: TGpuSeriesRange) => void }) {
  const trpc = useTRPC();
  const series = useQuery({
    ...trpc.fleetHealth.gpuSeries.queryOptions({ gpuId, range }),
    placeholderData: keepPreviousData,
    // Raw points arrive every few seconds; rollups once a minute.
    refetchInterval: range === '1h' ? 10_000 : 60_000,
  });
  return (
    <div className="space-y-3">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <div>
          <h2 className="text-lg font-semibold">History</h2>
          <p className="text-xs text-muted-foreground">
            {RANGE_LABEL[range]} from {series.data ? SOURCE[series.data.resolution] : '…'}
            {series.data ? ` · ${series.data.points.length} points` : ''}
          </p>
        </div>
        <div className="inline-flex rounded-md border bg-card p-0.5" role="group" aria-label="Time range">
          {GPU_SERIES_RANGES.map((r) => (
            <Button key={r} size="sm" variant={r === range ? 'secondary' : 'ghost'} aria-pressed={r === range} onClick={() => onRange(r)}>
              {RANGE_LABEL[r]}
            </Button>
          ))}
        </div>
      </div>
      {series.data === undefined ? (
        series.isError ? (
          <ErrorState error={series.error} onRetry={() => void series.refetch()} />
        ) : (
          <div className="grid gap-4 md:grid-cols-2" role="status" aria-busy="true" aria-label="Loading">
            {Array.from({ length: 4 }, (_, i) => (
              <Skeleton key={i} className="h-56" />
            ))}
          </div>
        )
      ) : series.data.points.length === 0 ? (
        <EmptyState
          title={`No data for the ${RANGE_LABEL[range].toLowerCase()}`}
          description={
            range === '1h'
              ? 'This GPU has not reported in the last hour.'
              : 'Rollups appear a minute after the first samples; older history builds up over time.'
          }
        />
      ) : (
        <div className="grid gap-4 md:grid-cols-2" data-testid="gpu-charts">
          {chartsFor(series.data.memoryTotalMib).map((spec) => (
            <Chart key={spec.title} spec={spec} points={series.data.points} range={range} />
          ))}
        </div>
      )}
    </div>
  );
}

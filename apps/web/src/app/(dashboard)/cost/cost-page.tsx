'use client';
import { keepPreviousData, skipToken, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { COST_WINDOWS } from '@fleetplane/contracts';
import type { RouterOutputs } from '@fleetplane/api';
import { EmptyState, ErrorState, PageHeader, QueryView } from '~/components/states';
import { Badge } from '~/components/ui/badge';
import { Button } from '~/components/ui/button';
import { Card, CardContent, CardHeader, CardTitle } from '~/components/ui/card';
import { Input, Label, NativeSelect } from '~/components/ui/input';
import { Skeleton } from '~/components/ui/skeleton';
import { useTRPC } from '~/trpc/react';

type Cost = RouterOutputs['capacity']['cost'];
type Window = (typeof COST_WINDOWS)[number];

const WINDOW_LABEL: Record<Window, string> = { '1h': 'Last hour', '24h': 'Last day', '7d': 'Last week', '30d': 'Last 30 days' };

const usd = (v: number | null | undefined, digits = 2) =>
  v === null || v === undefined
    ? '—'
    : `${v < 0 ? '-' : ''}$${Math.abs(v).toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })}`;
const perM = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `$${v < 0.1 ? v.toFixed(4) : v.toFixed(2)}`);
const count = (v: number | null | undefined) =>
  v === null || v === undefined
    ? '—'
    : v >= 1e9
      ? `${(v / 1e9).toFixed(2)} B`
      : v >= 1e6
        ? `${(v / 1e6).toFixed(2)} M`
        : Math.round(v).toLocaleString('en-US');

const versusApi = (savings: number) =>
  savings >= 0 ? `saves ${usd(savings, 0)} a month vs the API` : `costs ${usd(-savings, 0)} a month more than the API`;

function Stat({ label, value, hint, testId }: { label: string; value: React.ReactNode; hint?: React.ReactNode; testId?: string }) {
  return (
    <Card>
      <CardContent className="grid gap-0.5 pt-4">
        <span className="text-xs text-muted-foreground">{label}</span>
        <span className="text-lg font-semibold tabular-nums" data-testid={testId}>
          {value}
        </span>
        {hint ? <span className="text-xs text-muted-foreground">{hint}</span> : null}
      </CardContent>
    </Card>
  );
}

function tick(window: Window) {
  return (ms: number) => {
    const iso = new Date(ms).toISOString();
    if (window === '7d' || window === '30d') return `${iso.slice(5, 10)} ${iso.slice(11, 13)}h`;
    return iso.slice(11, 16);
  };
}

function CostCharts({ cost, window }: { cost: Cost; window: Window }) {
  const data = cost.series.map((p) => ({
    t: new Date(p.at).getTime(),
    selfHosted: p.selfHostedUsd,
    api: cost.api ? p.apiUsd : null,
    prompt: p.promptTokens,
    generation: p.generationTokens,
  }));
  const label = (ms: unknown) => `${new Date(Number(ms)).toISOString().replace('T', ' ').slice(0, 16)} UTC`;
  return (
    <div className="grid gap-4 md:grid-cols-2" data-testid="cost-charts">
      <Card>
        <CardHeader className="pb-1">
          <CardTitle className="text-sm">Cost per interval: self-hosted vs hosted API</CardTitle>
        </CardHeader>
        <CardContent className="h-56" role="img" aria-label="Cost over time">
          <ResponsiveContainer width="100%" height="100%">
            <LineChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: -4 }}>
              <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" />
              <XAxis
                dataKey="t"
                type="number"
                scale="time"
                domain={['dataMin', 'dataMax']}
                tickFormatter={tick(window)}
                tick={{ fontSize: 11 }}
                minTickGap={28}
              />
              <YAxis tick={{ fontSize: 11 }} width={56} tickFormatter={(v: number) => `$${v.toFixed(v < 1 ? 3 : 0)}`} />
              <Tooltip
                labelFormatter={label}
                formatter={(v, name) => [v === null || v === undefined ? '—' : usd(Number(v), 4), String(name)]}
              />
              <Legend wrapperStyle={{ fontSize: 12 }} />
              <Line dataKey="selfHosted" name="self-hosted" stroke="#3b4cca" dot={false} strokeWidth={1.6} isAnimationActive={false} />
              <Line
                dataKey="api"
                name="hosted API"
                stroke="#0e9f6e"
                strokeDasharray="4 3"
                dot={false}
                strokeWidth={1.6}
                isAnimationActive={false}
              />
            </LineChart>
          </ResponsiveContainer>
        </CardContent>
      </Card>
      <Card>
        <CardHeader className="pb-1">
          <CardTitle className="text-sm">Tokens per interval</CardTitle>
        </CardHeader>
        <CardContent className="h-56" role="img" aria-label="Tokens over time">
          <ResponsiveContainer width="100%" height="100%">
            <BarChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: -4 }}>
              <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" />
              <XAxis
                dataKey="t"
                type="number"
                scale="time"
                domain={['dataMin', 'dataMax']}
                tickFormatter={tick(window)}
                tick={{ fontSize: 11 }}
                minTickGap={28}
              />
              <YAxis tick={{ fontSize: 11 }} width={56} tickFormatter={(v: number) => count(v)} />
              <Tooltip labelFormatter={label} formatter={(v, name) => [count(Number(v)), String(name)]} />
              <Legend wrapperStyle={{ fontSize: 12 }} />
              <Bar dataKey="prompt" name="prompt" stackId="t" fill="#94a3b8" isAnimationActive={false} />
              <Bar dataKey="generation" name="generation" stackId="t" fill="#7c3aed" isAnimationActive={false} />
            </BarChart>
          </ResponsiveContainer>
        </CardContent>
      </Card>
    </div>
  );
}

function CostView({ cost, window }: { cost: Cost; window: Window }) {
  const r = cost.report;
  return (
    <div className="grid gap-4">
      {cost.notes.length > 0 ? (
        <ul className="list-disc pl-4 text-sm text-muted-foreground" data-testid="cost-notes">
          {cost.notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      ) : null}
      <div className="grid grid-cols-2 gap-3 md:grid-cols-4">
        <Stat
          label="GPU cost per hour"
          value={usd(cost.cluster.gpuCount * cost.cluster.gpuHourlyUsd)}
          hint={`${cost.cluster.gpuCount} GPUs x ${usd(cost.cluster.gpuHourlyUsd)}`}
          testId="cost-per-hour"
        />
        <Stat
          label={`Cost, ${WINDOW_LABEL[window].toLowerCase()}`}
          value={usd(r?.totalUsd ?? cost.cluster.gpuCount * cost.cluster.gpuHourlyUsd * cost.window.hours)}
          hint={r && r.powerUsd > 0 ? `incl. ${usd(r.powerUsd)} power (${r.energyKwh.toFixed(1)} kWh)` : 'GPU-hours x $/GPU-hour'}
          testId="cost-total"
        />
        <Stat
          label="Tokens (prompt / generation)"
          value={r ? `${count(r.tokens.prompt)} / ${count(r.tokens.generation)}` : '—'}
          testId="cost-tokens"
        />
        <Stat label="Average GPU utilisation" value={cost.utilisation === null ? '—' : `${Math.round(cost.utilisation * 100)} %`} />
        <Stat
          label="Self-hosted $ / 1M input"
          value={perM(r?.effectiveInputPerM)}
          hint={cost.api ? `API ${perM(cost.api.inputPerM)} (cache hit ${perM(cost.api.cacheHitInputPerM)})` : undefined}
          testId="effective-input"
        />
        <Stat
          label="Self-hosted $ / 1M output"
          value={perM(r?.effectiveOutputPerM)}
          hint={cost.api ? `API ${perM(cost.api.outputPerM)}` : undefined}
          testId="effective-output"
        />
        <Stat
          label="Same traffic at the hosted API"
          value={usd(r?.apiUsd, 4)}
          hint={cost.api ? `${cost.apiFamily}, prices as of ${cost.api.asOf}` : undefined}
        />
        <Stat
          label="Savings (API − self-hosted)"
          value={r ? <span className={r.savingsUsd >= 0 ? 'text-healthy' : 'text-critical'}>{usd(r.savingsUsd)}</span> : '—'}
          testId="cost-savings"
        />
        <Stat
          label="Break-even volume"
          value={r?.breakEvenMonthlyTokens ? `${count(r.breakEvenMonthlyTokens)} tokens / month` : '—'}
          hint="where the API would cost what this cluster costs"
          testId="break-even"
        />
        <Stat
          label="Month at current utilisation"
          value={r?.atCurrentUtilisation ? `${count(r.atCurrentUtilisation.monthlyTokens)} tokens` : '—'}
          hint={r?.atCurrentUtilisation ? versusApi(r.atCurrentUtilisation.monthlySavingsUsd) : undefined}
        />
        <Stat
          label="Month at full utilisation"
          value={r?.atFullUtilisation ? `${count(r.atFullUtilisation.monthlyTokens)} tokens` : '—'}
          hint={r?.atFullUtilisation ? versusApi(r.atFullUtilisation.monthlySavingsUsd) : 'needs utilisation telemetry'}
        />
        <Stat
          label="Utilisation needed to break even"
          value={
            r?.breakEvenUtilisation != null ? (
              r.breakEvenUtilisation > 1 ? (
                <Badge variant="critical">not reachable ({Math.round(r.breakEvenUtilisation * 100)} %)</Badge>
              ) : (
                `${Math.round(r.breakEvenUtilisation * 100)} %`
              )
            ) : (
              '—'
            )
          }
        />
      </div>
      {cost.series.every((p) => p.promptTokens + p.generationTokens === 0) ? (
        <EmptyState
          title="No engine traffic in this window"
          description="The charts fill in as the agents report the engines' token counters."
        />
      ) : (
        <CostCharts cost={cost} window={window} />
      )}
    </div>
  );
}

export function CostPage() {
  const trpc = useTRPC();
  const clusters = useQuery(trpc.clusters.options.queryOptions());
  const [clusterId, setClusterId] = useState<string>('');
  const [window, setWindow] = useState<Window>('24h');
  const [power, setPower] = useState('');
  const [cacheShare, setCacheShare] = useState('0');
  const selected = clusterId || clusters.data?.[0]?.id || '';
  const powerValue = power.trim() === '' ? null : Number(power);
  const cacheValue = Number(cacheShare) / 100;
  const validInputs =
    (powerValue === null || (Number.isFinite(powerValue) && powerValue >= 0 && powerValue <= 10)) &&
    Number.isFinite(cacheValue) &&
    cacheValue >= 0 &&
    cacheValue <= 1;
  const cost = useQuery({
    ...trpc.capacity.cost.queryOptions(
      selected && validInputs ? { clusterId: selected, window, powerUsdPerKwh: powerValue, assumedCacheHitShare: cacheValue } : skipToken,
    ),
    placeholderData: keepPreviousData,
    refetchInterval: 60_000,
  });
  return (
    <>
      <PageHeader
        title="Cost"
        description="What each cluster costs per 1M tokens from its own telemetry, against the hosted API for the same traffic."
      />
      <QueryView
        query={clusters}
        skeleton={<Skeleton className="h-10" />}
        isEmpty={(c) => c.length === 0}
        empty={<EmptyState title="No clusters yet" description="Add a cluster to see what it costs." />}
      >
        {(list) => (
          <div className="grid gap-4">
            <div className="flex flex-wrap items-end gap-3">
              <div className="grid gap-1">
                <Label htmlFor="cost-cluster">Cluster</Label>
                <NativeSelect id="cost-cluster" value={selected} onChange={(e) => setClusterId(e.target.value)}>
                  {list.map((c) => (
                    <option key={c.id} value={c.id}>
                      {c.name}
                    </option>
                  ))}
                </NativeSelect>
              </div>
              <div className="grid gap-1">
                <Label htmlFor="cost-power">Power $/kWh (owned GPUs)</Label>
                <Input
                  id="cost-power"
                  className="w-32"
                  inputMode="decimal"
                  placeholder="included"
                  value={power}
                  onChange={(e) => setPower(e.target.value)}
                />
              </div>
              <div className="grid gap-1">
                <Label htmlFor="cost-cache">Cache-hit share %</Label>
                <Input
                  id="cost-cache"
                  className="w-24"
                  inputMode="decimal"
                  value={cacheShare}
                  onChange={(e) => setCacheShare(e.target.value)}
                />
              </div>
              <div className="inline-flex rounded-md border bg-card p-0.5" role="group" aria-label="Time range">
                {COST_WINDOWS.map((w) => (
                  <Button
                    key={w}
                    size="sm"
                    variant={w === window ? 'secondary' : 'ghost'}
                    aria-pressed={w === window}
                    onClick={() => setWindow(w)}
                  >
                    {WINDOW_LABEL[w]}
                  </Button>
                ))}
              </div>
            </div>
            {!validInputs ? (
              <p role="alert" className="text-sm text-destructive">
                Power is $0–10 per kWh and the cache-hit share 0–100 %.
              </p>
            ) : cost.data === undefined ? (
              cost.isError ? (
                <ErrorState error={cost.error} onRetry={() => void cost.refetch()} />
              ) : (
                <Skeleton className="h-64" aria-label="Loading" />
              )
            ) : (
              <CostView cost={cost.data} window={window} />
            )}
          </div>
        )}
      </QueryView>
    </>
  );
}

'use client';
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';

type Json = Record<string, unknown>;
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null ? (v as Json) : {});

export interface PerfLevel {
  concurrency: number;
  outputThroughput: number | null;
  requestThroughput: number | null;
  dist: Record<'ttftMs' | 'tpotMs' | 'itlMs' | 'e2elMs', { p50: number | null; p90: number | null; p99: number | null }>;
}

/** The performance check's metrics.levels as chart rows, sorted by concurrency. */
export function perfLevels(metrics: Json | undefined): PerfLevel[] {
  const levels = obj(metrics?.levels);
  return Object.values(levels)
    .map((raw) => {
      const l = obj(raw);
      const d = (k: string) => ({ p50: num(obj(l[k]).p50), p90: num(obj(l[k]).p90), p99: num(obj(l[k]).p99) });
      return {
        concurrency: num(l.concurrency) ?? 0,
        outputThroughput: num(l.outputThroughput),
        requestThroughput: num(l.requestThroughput),
        dist: { ttftMs: d('ttftMs'), tpotMs: d('tpotMs'), itlMs: d('itlMs'), e2elMs: d('e2elMs') },
      };
    })
    .sort((a, b) => a.concurrency - b.concurrency);
}

const METRICS = [
  ['ttftMs', 'TTFT'],
  ['tpotMs', 'TPOT'],
  ['itlMs', 'ITL'],
  ['e2elMs', 'E2E'],
] as const;
const P_COLORS = { p50: '#3b4cca', p90: '#d97706', p99: '#db2777' };

/** p50/p90/p99 of TTFT, TPOT, ITL and E2E latency at the highest concurrency level that ran. */
export function LatencyPercentileChart({ level }: { level: PerfLevel }) {
  // A log axis cannot show 0 (e.g. TPOT when every token arrived in one chunk): leave those bars out.
  const pos = (v: number | null) => (v !== null && v > 0 ? v : null);
  const data = METRICS.map(([k, label]) => ({
    metric: label,
    p50: pos(level.dist[k].p50),
    p90: pos(level.dist[k].p90),
    p99: pos(level.dist[k].p99),
  }));
  return (
    <div data-testid="latency-chart">
      <p className="mb-2 text-xs text-muted-foreground">Latency percentiles at concurrency {level.concurrency} (ms, log scale)</p>
      <div className="h-64">
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={data} margin={{ left: 8, right: 8 }}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} />
            <XAxis dataKey="metric" />
            <YAxis
              scale="log"
              domain={['auto', 'auto']}
              allowDataOverflow
              tickFormatter={(v: number) => (v >= 100 ? v.toFixed(0) : v.toPrecision(2))}
              width={48}
            />
            <Tooltip formatter={(v) => `${Number(v).toFixed(2)} ms`} />
            <Legend />
            {(['p50', 'p90', 'p99'] as const).map((p) => (
              <Bar key={p} dataKey={p} fill={P_COLORS[p]} isAnimationActive={false} />
            ))}
          </BarChart>
        </ResponsiveContainer>
      </div>
    </div>
  );
}

/** Output tokens/s (left axis) and requests/s (right axis) against concurrency. */
export function ThroughputChart({ levels }: { levels: PerfLevel[] }) {
  return (
    <div data-testid="throughput-chart">
      <p className="mb-2 text-xs text-muted-foreground">Throughput against concurrency</p>
      <div className="h-64">
        <ResponsiveContainer width="100%" height="100%">
          <LineChart data={levels} margin={{ left: 8, right: 8, bottom: 12 }}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="concurrency" label={{ value: 'concurrency', position: 'insideBottom', offset: -8 }} />
            <YAxis yAxisId="tok" width={56} />
            <YAxis yAxisId="req" orientation="right" width={48} />
            <Tooltip formatter={(v) => Number(v).toFixed(1)} />
            <Legend verticalAlign="top" />
            <Line
              yAxisId="tok"
              type="monotone"
              dataKey="outputThroughput"
              name="output tok/s"
              stroke="#0e9f6e"
              dot
              isAnimationActive={false}
            />
            <Line yAxisId="req" type="monotone" dataKey="requestThroughput" name="req/s" stroke="#3b4cca" dot isAnimationActive={false} />
          </LineChart>
        </ResponsiveContainer>
      </div>
    </div>
  );
}

interface Cell {
  contextLength: number;
  depth: number;
  score: number;
  trials: number;
  correct: number;
}

/** Needle retrieval: context length (rows) × needle depth (columns), red (0) to green (1). */
export function RetrievalHeatmap({ metrics }: { metrics: Json | undefined }) {
  const cells = (Array.isArray(metrics?.cells) ? metrics.cells : []).map(obj).map((c) => ({
    contextLength: num(c.contextLength) ?? 0,
    depth: num(c.depth) ?? 0,
    score: num(c.score) ?? 0,
    trials: num(c.trials) ?? 0,
    correct: num(c.correct) ?? 0,
  })) as Cell[];
  if (!cells.length) return <p className="text-sm text-muted-foreground">No retrieval cells yet.</p>;
  const lengths = [...new Set(cells.map((c) => c.contextLength))].sort((a, b) => a - b);
  const depths = [...new Set(cells.map((c) => c.depth))].sort((a, b) => a - b);
  // Red (0) to green (1). At 28% lightness white text keeps >= 4.8:1 on every hue of the scale (the
  // lightest is yellow); at 45% green measured 2.5:1.
  const colour = (s: number) => `hsl(${Math.round(s * 120)} 65% 28%)`;
  const label = (n: number) => (n >= 1024 ? `${Math.round(n / 1024)}K` : String(n));
  return (
    <div data-testid="retrieval-heatmap" className="overflow-x-auto">
      <table className="border-separate border-spacing-1 text-xs">
        <thead>
          <tr>
            <th className="pr-2 text-left font-normal text-muted-foreground">context ↓ / depth →</th>
            {depths.map((d) => (
              <th key={d} className="px-2 font-normal text-muted-foreground">
                {Math.round(d * 100)}%
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {lengths.map((len) => (
            <tr key={len}>
              <th className="pr-2 text-left font-medium">{label(len)}</th>
              {depths.map((d) => {
                const c = cells.find((x) => x.contextLength === len && x.depth === d);
                return (
                  <td
                    key={d}
                    className="h-9 w-16 rounded text-center font-medium text-white"
                    style={{ background: c ? colour(c.score) : 'transparent' }}
                    title={c ? `${c.correct}/${c.trials} found` : 'not run'}
                  >
                    {c ? `${Math.round(c.score * 100)}%` : '—'}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

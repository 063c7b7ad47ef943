'use client';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { RouterOutputs } from '@fleetplane/api';

type Analysis = RouterOutputs['rollouts']['get']['analyses'][number];
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

interface Series {
  title: string;
  unit: string;
  value: (a: Analysis) => number | null;
  limit: (a: Analysis) => number | null;
  valueName: string;
  limitName: string;
}

const SERIES: Series[] = [
  {
    title: 'TTFT p99',
    unit: 's',
    valueName: 'canary p99',
    limitName: 'limit',
    value: (a) => num(a.metrics.canaryTtftP99Seconds),
    limit: (a) => {
      const base = num(a.metrics.baselineTtftP99Seconds);
      const ratio = num(a.thresholds.maxTtftP99Ratio);
      const abs = num(a.thresholds.maxTtftP99Seconds);
      const rel = base !== null && ratio !== null ? base * ratio : null;
      return rel !== null && abs !== null ? Math.min(rel, abs) : (rel ?? abs);
    },
  },
  {
    title: 'Error rate',
    unit: '%',
    valueName: 'canary',
    limitName: 'max',
    value: (a) => num(a.metrics.canaryErrorRatePct),
    limit: (a) => num(a.thresholds.maxErrorRatePct),
  },
  {
    title: 'Output tokens/s per node',
    unit: 'tok/s',
    valueName: 'canary',
    limitName: 'min',
    value: (a) => num(a.metrics.canaryTokensPerSecondPerNode),
    limit: (a) => {
      const base = num(a.metrics.baselineTokensPerSecondPerNode);
      const ratio = num(a.thresholds.minTokensPerSecondRatio);
      return base !== null && ratio !== null ? base * ratio : null;
    },
  },
];

/** Each analysis metric over the checks, against the threshold it was judged by. */
export function AnalysisCharts({ analyses }: { analyses: Analysis[] }) {
  return (
    <div className="grid gap-4 lg:grid-cols-3">
      {SERIES.map((s) => {
        const data = analyses.map((a) => ({
          check: `${a.step === 0 ? 'canary' : `wave ${a.step}`} #${a.checkNo}`,
          value: s.value(a),
          limit: s.limit(a),
        }));
        return (
          <figure key={s.title} className="rounded-md border p-3" aria-label={`${s.title} per check against its threshold`}>
            <figcaption className="mb-2 text-sm font-medium">
              {s.title} <span className="text-muted-foreground">({s.unit})</span>
            </figcaption>
            <div className="h-48">
              <ResponsiveContainer width="100%" height="100%">
                <LineChart data={data} margin={{ top: 4, right: 8, bottom: 4, left: 0 }}>
                  <CartesianGrid strokeDasharray="3 3" />
                  <XAxis dataKey="check" tick={{ fontSize: 11 }} />
                  <YAxis tick={{ fontSize: 11 }} width={48} />
                  <Tooltip />
                  <Legend wrapperStyle={{ fontSize: 12 }} />
                  <Line type="monotone" dataKey="value" name={s.valueName} stroke="#3b4cca" dot isAnimationActive={false} connectNulls />
                  <Line
                    type="stepAfter"
                    dataKey="limit"
                    name={s.limitName}
                    stroke="#c81e1e"
                    strokeDasharray="5 4"
                    // A dot per check: a window's first check has a one-point threshold, which a line alone hides.
                    dot={{ r: 3, fill: '#c81e1e' }}
                    isAnimationActive={false}
                    connectNulls
                  />
                </LineChart>
              </ResponsiveContainer>
            </div>
          </figure>
        );
      })}
    </div>
  );
}

'use client';
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';

export interface TensorQualityRow {
  name: string;
  relRmse: number;
  snrDb: number | null;
  maxAbsError: number;
}

/** Per-tensor relative RMSE of the dequantised output against the source, worst first (at most 40 bars). */
export function TensorQualityChart({ tensors, limit }: { tensors: TensorQualityRow[]; limit: number | null }) {
  const data = tensors.slice(0, 40).map((t) => ({ name: t.name, relRmse: t.relRmse, snrDb: t.snrDb }));
  return (
    <div data-testid="quality-chart">
      <p className="mb-2 text-xs text-muted-foreground">
        Relative RMSE per tensor, worst {data.length} of {tensors.length}
        {limit !== null ? ` (the recipe's limit is ${limit})` : ''}
      </p>
      <div className="h-72">
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={data} margin={{ left: 8, right: 8, bottom: 8 }}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} />
            <XAxis dataKey="name" tick={false} label={{ value: 'tensors (worst first)', position: 'insideBottom', offset: -4 }} />
            <YAxis tickFormatter={(v: number) => v.toPrecision(2)} width={56} />
            <Tooltip formatter={(v) => (typeof v === 'number' ? v.toPrecision(4) : String(v))} labelFormatter={(label) => String(label)} />
            <Bar dataKey="relRmse" name="relative RMSE" fill="#3b4cca" isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      </div>
    </div>
  );
}

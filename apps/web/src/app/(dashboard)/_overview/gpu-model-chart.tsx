'use client';
import { Cell, Pie, PieChart, ResponsiveContainer, Tooltip } from 'recharts';

const PALETTE = ['#3b4cca', '#0e9f6e', '#d97706', '#db2777', '#0891b2', '#7c3aed', '#64748b'];

export function GpuModelChart({ data }: { data: { model: string; count: number }[] }) {
  if (data.length === 0) return <p className="py-10 text-center text-sm text-muted-foreground">No GPUs registered yet.</p>;
  return (
    <div className="flex items-center gap-4">
      <div className="h-40 w-40 shrink-0">
        <ResponsiveContainer width="100%" height="100%">
          <PieChart>
            <Pie data={data} dataKey="count" nameKey="model" innerRadius={42} outerRadius={70} paddingAngle={2} isAnimationActive={false}>
              {data.map((d, i) => (
                <Cell key={d.model} fill={PALETTE[i % PALETTE.length]} />
              ))}
            </Pie>
            <Tooltip />
          </PieChart>
        </ResponsiveContainer>
      </div>
      <ul className="space-y-1.5 text-sm">
        {data.map((d, i) => (
          <li key={d.model} className="flex items-center gap-2">
            <span className="size-2.5 rounded-sm" style={{ background: PALETTE[i % PALETTE.length] }} />
            <span className="text-muted-foreground">{d.model.replace(/^NVIDIA /, '')}</span>
            <span className="font-medium tabular-nums">{d.count}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}

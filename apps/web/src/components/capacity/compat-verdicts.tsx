'use client';
import type { RouterOutputs } from '@fleetplane/api';
import { Badge } from '~/components/ui/badge';

type Verdict = NonNullable<RouterOutputs['capacity']['plan']['compatibility']>['verdicts'][number];

const STATUS_VARIANT = { pass: 'healthy', warn: 'warning', fail: 'critical', unknown: 'unknown', not_applicable: 'outline' } as const;
const STATUS_LABEL = { pass: 'pass', warn: 'check', fail: 'fail', unknown: 'unknown', not_applicable: 'n/a' } as const;
const RULE_LABEL: Record<Verdict['rule'], string> = {
  engine_serves_v4: 'Engine serves V4',
  engine_version_floor: 'Engine version floor',
  artifact_requirements: "Artifact's own minimum",
  engine_serves_format: 'Engine loads the format',
  gguf_engine: 'GGUF engine',
  mlx_apple: 'MLX on Apple silicon',
  fp8_hardware: 'FP8 hardware',
  fp4_experts: 'FP4 experts',
  trust_remote_code: 'trust-remote-code',
  engine_image: 'Engine image',
};

export function VerdictBadge({ compatible }: { compatible: boolean }) {
  return <Badge variant={compatible ? 'healthy' : 'critical'}>{compatible ? 'compatible' : 'incompatible'}</Badge>;
}

/** Each rule's verdict with its reason and source; rules that do not apply are folded away. */
export function CompatVerdicts({ verdicts, showNotApplicable = false }: { verdicts: Verdict[]; showNotApplicable?: boolean }) {
  const shown = showNotApplicable ? verdicts : verdicts.filter((v) => v.status !== 'not_applicable');
  const order = { fail: 0, warn: 1, unknown: 2, pass: 3, not_applicable: 4 } as const;
  return (
    <ul className="divide-y rounded-md border" data-testid="compat-verdicts">
      {[...shown]
        .sort((a, b) => order[a.status] - order[b.status])
        .map((v) => (
          <li key={v.rule} className="grid gap-1 px-3 py-2 text-sm" data-rule={v.rule} data-status={v.status}>
            <div className="flex items-center gap-2">
              <Badge variant={STATUS_VARIANT[v.status]}>{STATUS_LABEL[v.status]}</Badge>
              <span className="font-medium">{RULE_LABEL[v.rule]}</span>
            </div>
            <p>{v.reason}</p>
            {v.source ? <p className="text-xs text-muted-foreground">Source: {v.source}</p> : null}
          </li>
        ))}
    </ul>
  );
}

'use client';
import { Badge } from '~/components/ui/badge';

const VERDICT_VARIANT = { pass: 'healthy', fail: 'critical', error: 'warning', skipped: 'unknown' } as const;
const STATE_VARIANT = {
  queued: 'secondary',
  running: 'default',
  succeeded: 'healthy',
  failed: 'critical',
  cancelled: 'unknown',
  pending: 'secondary',
  skipped: 'unknown',
} as const;

export function VerdictBadge({ verdict }: { verdict: keyof typeof VERDICT_VARIANT | null }) {
  if (!verdict) return <span className="text-muted-foreground">—</span>;
  return (
    <Badge variant={VERDICT_VARIANT[verdict]} data-testid="verdict">
      {verdict}
    </Badge>
  );
}

export function StateBadge({ state }: { state: string }) {
  return <Badge variant={STATE_VARIANT[state as keyof typeof STATE_VARIANT] ?? 'outline'}>{state}</Badge>;
}

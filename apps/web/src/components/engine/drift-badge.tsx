import { Badge } from '~/components/ui/badge';

type Drift = {
  status: 'in_sync' | 'drift' | 'changing' | 'unknown' | 'no_desired';
  message: string | null;
  severity: 'warning' | 'critical' | null;
};

const LABEL: Record<Drift['status'], string> = {
  in_sync: 'serves desired',
  drift: 'drift',
  changing: 'changing',
  unknown: 'unknown',
  no_desired: 'nothing desired',
};

/** Whether a node's engine serves what it should; the title carries "serving X, expected Y". */
export function DriftBadge({ drift }: { drift: Drift }) {
  const variant =
    drift.status === 'in_sync'
      ? 'healthy'
      : drift.status === 'drift'
        ? drift.severity === 'critical'
          ? 'critical'
          : 'warning'
        : 'unknown';
  return (
    <Badge variant={variant} title={drift.message ?? undefined} data-testid="drift-badge">
      {LABEL[drift.status]}
    </Badge>
  );
}

const ENGINE_STATE_VARIANT: Record<string, 'healthy' | 'warning' | 'critical' | 'unknown'> = {
  ready: 'healthy',
  starting: 'warning',
  draining: 'warning',
  stopping: 'warning',
  crashed: 'critical',
  failed: 'critical',
  stopped: 'unknown',
};

export function EngineStateBadge({ state }: { state: string | null }) {
  return <Badge variant={state ? (ENGINE_STATE_VARIANT[state] ?? 'unknown') : 'unknown'}>{state ?? 'no report'}</Badge>;
}

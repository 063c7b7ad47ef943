'use client';
import { Badge } from '~/components/ui/badge';

const ROLLOUT_VARIANT = {
  pending: 'secondary',
  prefetching: 'default',
  canary: 'default',
  analysing: 'default',
  waves: 'default',
  paused: 'warning',
  succeeded: 'healthy',
  rolling_back: 'warning',
  rolled_back: 'critical',
  aborted: 'unknown',
  failed: 'critical',
} as const;

const NODE_VARIANT = {
  pending: 'secondary',
  prefetching: 'default',
  prefetched: 'secondary',
  loading: 'default',
  serving: 'healthy',
  rolling_back: 'warning',
  rolled_back: 'warning',
  failed: 'critical',
} as const;

const DEPLOYMENT_VARIANT = {
  pending: 'secondary',
  rolling_out: 'default',
  active: 'healthy',
  rolled_back: 'critical',
  retired: 'unknown',
  failed: 'critical',
} as const;

const label = (s: string) => s.replace(/_/g, ' ');

export function RolloutStateBadge({ state }: { state: string }) {
  return (
    <Badge variant={ROLLOUT_VARIANT[state as keyof typeof ROLLOUT_VARIANT] ?? 'outline'} data-testid="rollout-state">
      {label(state)}
    </Badge>
  );
}

export function RolloutNodeStateBadge({ state }: { state: string }) {
  return <Badge variant={NODE_VARIANT[state as keyof typeof NODE_VARIANT] ?? 'outline'}>{label(state)}</Badge>;
}

export function DeploymentStateBadge({ state }: { state: string }) {
  return <Badge variant={DEPLOYMENT_VARIANT[state as keyof typeof DEPLOYMENT_VARIANT] ?? 'outline'}>{label(state)}</Badge>;
}

export const shortDigest = (d: string | null | undefined) => (d ? `${d.slice(0, 12)}…` : '—');

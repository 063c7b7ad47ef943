import { Badge } from '~/components/ui/badge';
import type { THealthStatus } from '@fleetplane/contracts';

const LABELS: Record<THealthStatus, string> = {
  healthy: 'Healthy',
  warning: 'Warning',
  critical: 'Critical',
  offline: 'Offline',
  unknown: 'No data',
};

export function HealthBadge({ status }: { status: THealthStatus }) {
  return (
    <Badge variant={status} data-health={status}>
      <span className="size-1.5 rounded-full bg-current" aria-hidden />
      {LABELS[status]}
    </Badge>
  );
}

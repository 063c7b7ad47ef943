'use client';
import { Badge } from '~/components/ui/badge';

const COMMAND_VARIANT = {
  queued: 'secondary',
  delivered: 'default',
  running: 'default',
  succeeded: 'healthy',
  failed: 'critical',
  cancelled: 'unknown',
  expired: 'warning',
} as const;

/** The state of a command to a node (queued → delivered → running → succeeded / failed / cancelled / expired). */
export function NodeCommandStateBadge({ state }: { state: string }) {
  return (
    <Badge variant={COMMAND_VARIANT[state as keyof typeof COMMAND_VARIANT] ?? 'outline'} data-testid="command-state">
      {state}
    </Badge>
  );
}

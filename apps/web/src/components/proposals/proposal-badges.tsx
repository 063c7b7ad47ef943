'use client';
import type { TProposalState } from '@fleetplane/contracts';
import { Badge } from '~/components/ui/badge';

const VARIANT: Record<TProposalState, 'secondary' | 'default' | 'healthy' | 'critical' | 'unknown' | 'warning'> = {
  pending_validation: 'secondary',
  pending_approval: 'warning',
  approved: 'healthy',
  rejected: 'critical',
  expired: 'unknown',
  voided: 'unknown',
  rolled_out: 'default',
};

export function ProposalStateBadge({ state }: { state: TProposalState }) {
  return (
    <Badge variant={VARIANT[state]} data-testid="proposal-state">
      {state.replace('_', ' ')}
    </Badge>
  );
}

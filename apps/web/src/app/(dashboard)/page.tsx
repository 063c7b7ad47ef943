import type { Metadata } from 'next';
import { HydrateClient, prefetch, trpc } from '~/trpc/server';
import { DEFAULT_CLUSTER_TABLE_STATE } from './_components/cluster-table-state';
import { FleetOverview } from './_components/fleet-overview';

export const metadata: Metadata = { title: 'Fleet overview' };

export default function OverviewPage() {
  prefetch(trpc.fleet.summary.queryOptions());
  prefetch(trpc.clusters.list.queryOptions(DEFAULT_CLUSTER_TABLE_STATE));
  return (
    <HydrateClient>
      <FleetOverview />
    </HydrateClient>
  );
}

import type { Metadata } from 'next';
import { HydrateClient, prefetch, trpc } from '~/trpc/server';
import { DEFAULT_CLUSTER_TABLE_STATE } from '~/components/clusters/cluster-table-state';
import { FleetOverview } from './_overview/fleet-overview';

export const metadata: Metadata = { title: 'Fleet overview' };

export default async function OverviewPage() {
  await prefetch(
    trpc.fleet.summary.queryOptions(),
    trpc.clusters.list.queryOptions(DEFAULT_CLUSTER_TABLE_STATE),
    trpc.fleetHealth.utilisation.queryOptions(),
  );
  return (
    <HydrateClient>
      <FleetOverview />
    </HydrateClient>
  );
}

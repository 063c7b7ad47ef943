import type { Metadata } from 'next';
import { HydrateClient, prefetch, trpc } from '~/trpc/server';
import { ClusterDetail } from './cluster-detail';
import { firstGridPage } from './grid-input';

export const metadata: Metadata = { title: 'Cluster' };

export default async function Page({ params }: { params: Promise<{ clusterId: string }> }) {
  const { clusterId } = await params;
  await prefetch(
    trpc.clusters.get.queryOptions({ id: clusterId }),
    trpc.nodes.list.queryOptions({ clusterId, page: 1, pageSize: 50, sortBy: 'hostname', sortDir: 'asc' }),
    trpc.fleetHealth.clusterGrid.queryOptions(firstGridPage(clusterId)),
  );
  return (
    <HydrateClient>
      <ClusterDetail clusterId={clusterId} />
    </HydrateClient>
  );
}

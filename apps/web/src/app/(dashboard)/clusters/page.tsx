import type { Metadata } from 'next';
import { HydrateClient, prefetch, trpc } from '~/trpc/server';
import { DEFAULT_CLUSTER_TABLE_STATE } from '~/components/clusters/cluster-table-state';
import { ClustersPage } from './clusters-page';

export const metadata: Metadata = { title: 'Clusters' };

export default async function Page() {
  await prefetch(trpc.clusters.list.queryOptions(DEFAULT_CLUSTER_TABLE_STATE), trpc.sites.list.queryOptions());
  return (
    <HydrateClient>
      <ClustersPage />
    </HydrateClient>
  );
}

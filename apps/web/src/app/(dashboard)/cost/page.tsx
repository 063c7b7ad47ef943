import type { Metadata } from 'next';
import { HydrateClient, prefetch, trpc } from '~/trpc/server';
import { CostPage } from './cost-page';

export const metadata: Metadata = { title: 'Cost' };

export default async function Page() {
  await prefetch(trpc.clusters.options.queryOptions());
  return (
    <HydrateClient>
      <CostPage />
    </HydrateClient>
  );
}

import type { Metadata } from 'next';
import { HydrateClient, prefetch, trpc } from '~/trpc/server';
import { DEFAULT_ROLLOUT_TABLE_STATE } from './rollout-table-state';
import { RolloutsPage } from './rollouts-page';

export const metadata: Metadata = { title: 'Rollouts' };

export default async function Page() {
  await prefetch(trpc.rollouts.list.queryOptions(DEFAULT_ROLLOUT_TABLE_STATE), trpc.clusters.options.queryOptions());
  return (
    <HydrateClient>
      <RolloutsPage />
    </HydrateClient>
  );
}

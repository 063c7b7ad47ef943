import type { Metadata } from 'next';
import { HydrateClient, prefetch, trpc } from '~/trpc/server';
import { ProposalsPage } from './proposals-page';
import { DEFAULT_PROPOSAL_TABLE_STATE } from './table-state';

export const metadata: Metadata = { title: 'Proposals' };

export default async function Page() {
  await prefetch(trpc.proposals.list.queryOptions(DEFAULT_PROPOSAL_TABLE_STATE), trpc.clusters.options.queryOptions());
  return (
    <HydrateClient>
      <ProposalsPage />
    </HydrateClient>
  );
}

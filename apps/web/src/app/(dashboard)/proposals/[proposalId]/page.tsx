import type { Metadata } from 'next';
import { HydrateClient, prefetch, trpc } from '~/trpc/server';
import { ProposalDetail } from './proposal-detail';

export const metadata: Metadata = { title: 'Upgrade proposal' };

export default async function Page({ params }: { params: Promise<{ proposalId: string }> }) {
  const { proposalId } = await params;
  await prefetch(trpc.proposals.get.queryOptions({ id: proposalId }));
  return (
    <HydrateClient>
      <ProposalDetail proposalId={proposalId} />
    </HydrateClient>
  );
}

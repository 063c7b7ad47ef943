import type { Metadata } from 'next';
import { HydrateClient, prefetch, trpc } from '~/trpc/server';
import { RolloutDetail } from './rollout-detail';

export const metadata: Metadata = { title: 'Rollout' };

export default async function Page({ params }: { params: Promise<{ rolloutId: string }> }) {
  const { rolloutId } = await params;
  await prefetch(trpc.rollouts.get.queryOptions({ id: rolloutId }));
  return (
    <HydrateClient>
      <RolloutDetail rolloutId={rolloutId} />
    </HydrateClient>
  );
}

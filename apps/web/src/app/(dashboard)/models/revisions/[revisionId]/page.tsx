import type { Metadata } from 'next';
import { HydrateClient, prefetch, trpc } from '~/trpc/server';
import { RevisionDetail } from './revision-detail';

export const metadata: Metadata = { title: 'Revision' };

export default async function Page({ params }: { params: Promise<{ revisionId: string }> }) {
  const { revisionId } = await params;
  await prefetch(trpc.models.revision.queryOptions({ id: revisionId }));
  return (
    <HydrateClient>
      <RevisionDetail revisionId={revisionId} />
    </HydrateClient>
  );
}

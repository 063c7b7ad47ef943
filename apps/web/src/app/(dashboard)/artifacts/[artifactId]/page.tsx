import type { Metadata } from 'next';
import { HydrateClient, prefetch, trpc } from '~/trpc/server';
import { ArtifactDetail } from './artifact-detail';

export const metadata: Metadata = { title: 'Artifact' };

export default async function Page({ params }: { params: Promise<{ artifactId: string }> }) {
  const { artifactId } = await params;
  await prefetch(trpc.artifacts.get.queryOptions({ id: artifactId }));
  return (
    <HydrateClient>
      <ArtifactDetail artifactId={artifactId} />
    </HydrateClient>
  );
}

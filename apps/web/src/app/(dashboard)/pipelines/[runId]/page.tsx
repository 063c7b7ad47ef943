import type { Metadata } from 'next';
import { HydrateClient, prefetch, trpc } from '~/trpc/server';
import { RunDetail } from './run-detail';

export const metadata: Metadata = { title: 'Pipeline run' };

export default async function Page({ params }: { params: Promise<{ runId: string }> }) {
  const { runId } = await params;
  await prefetch(trpc.pipelines.get.queryOptions({ id: runId }));
  return (
    <HydrateClient>
      <RunDetail runId={runId} />
    </HydrateClient>
  );
}

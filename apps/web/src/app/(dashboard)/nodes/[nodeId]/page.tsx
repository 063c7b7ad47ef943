import type { Metadata } from 'next';
import { HydrateClient, prefetch, trpc } from '~/trpc/server';
import { NodeDetail } from './node-detail';

export const metadata: Metadata = { title: 'Node' };

export default async function Page({ params }: { params: Promise<{ nodeId: string }> }) {
  const { nodeId } = await params;
  await prefetch(trpc.nodes.get.queryOptions({ id: nodeId }));
  return (
    <HydrateClient>
      <NodeDetail nodeId={nodeId} />
    </HydrateClient>
  );
}

import type { Metadata } from 'next';
import { HydrateClient, prefetch, trpc } from '~/trpc/server';
import { GpuDetail } from './gpu-detail';

export const metadata: Metadata = { title: 'GPU' };

export default async function Page({ params }: { params: Promise<{ gpuId: string }> }) {
  const { gpuId } = await params;
  await prefetch(trpc.fleetHealth.gpu.queryOptions({ id: gpuId }), trpc.fleetHealth.gpuSeries.queryOptions({ gpuId, range: '1h' }));
  return (
    <HydrateClient>
      <GpuDetail gpuId={gpuId} />
    </HydrateClient>
  );
}

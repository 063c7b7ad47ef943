import type { Metadata } from 'next';
import { HydrateClient, prefetch, trpc } from '~/trpc/server';
import { AlertsPage, DEFAULT_ALERT_QUERY } from './alerts-page';

export const metadata: Metadata = { title: 'Alerts' };

export default async function Page({ searchParams }: { searchParams: Promise<{ gpuId?: string; clusterId?: string }> }) {
  const { gpuId, clusterId } = await searchParams;
  const scope = { gpuId: gpuId || undefined, clusterId: clusterId || undefined };
  await prefetch(trpc.alerts.list.queryOptions({ ...DEFAULT_ALERT_QUERY, ...scope }), trpc.alerts.counts.queryOptions());
  return (
    <HydrateClient>
      <AlertsPage scope={scope} />
    </HydrateClient>
  );
}

import type { Metadata } from 'next';
import { HydrateClient, prefetch, trpc } from '~/trpc/server';
import { PlannerPage } from './planner-page';

export const metadata: Metadata = { title: 'Capacity planner' };

export default async function Page() {
  await prefetch(trpc.capacity.plannerOptions.queryOptions());
  return (
    <HydrateClient>
      <PlannerPage />
    </HydrateClient>
  );
}

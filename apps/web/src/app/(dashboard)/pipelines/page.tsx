import type { Metadata } from 'next';
import { HydrateClient, prefetch, trpc } from '~/trpc/server';
import { PipelinesPage } from './pipelines-page';
import { DEFAULT_PIPELINE_TABLE_STATE } from './table-state';

export const metadata: Metadata = { title: 'Pipelines' };

export default async function Page() {
  await prefetch(trpc.pipelines.list.queryOptions(DEFAULT_PIPELINE_TABLE_STATE));
  return (
    <HydrateClient>
      <PipelinesPage />
    </HydrateClient>
  );
}

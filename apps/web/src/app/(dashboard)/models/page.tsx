import type { Metadata } from 'next';
import { HydrateClient, prefetch, trpc } from '~/trpc/server';
import { ModelsPage } from './models-page';
import { DEFAULT_REVISION_TABLE_STATE } from './table-state';

export const metadata: Metadata = { title: 'Models' };

export default async function Page() {
  await prefetch(
    trpc.models.families.queryOptions(),
    trpc.models.listRepos.queryOptions(),
    trpc.models.revisions.queryOptions(DEFAULT_REVISION_TABLE_STATE),
    trpc.demo.status.queryOptions(),
  );
  return (
    <HydrateClient>
      <ModelsPage />
    </HydrateClient>
  );
}

import type { Metadata } from 'next';
import { HydrateClient, prefetch, trpc } from '~/trpc/server';
import { CatalogsPage } from './catalogs-page';

export const metadata: Metadata = { title: 'Catalogs' };

export default async function Page() {
  await prefetch(trpc.catalog.gpus.queryOptions(), trpc.catalog.engines.queryOptions(), trpc.catalog.apiPrices.queryOptions());
  return (
    <HydrateClient>
      <CatalogsPage />
    </HydrateClient>
  );
}

import type { Metadata } from 'next';
import { HydrateClient, prefetch, trpc } from '~/trpc/server';
import { SitesPage } from './sites-page';

export const metadata: Metadata = { title: 'Sites' };

export default async function Page() {
  await prefetch(trpc.sites.list.queryOptions());
  return (
    <HydrateClient>
      <SitesPage />
    </HydrateClient>
  );
}

import type { Metadata } from 'next';
import { HydrateClient, prefetch, trpc } from '~/trpc/server';
import { SettingsPage } from './settings-page';

export const metadata: Metadata = { title: 'Settings' };

export default async function Page() {
  await prefetch(trpc.networkPolicy.get.queryOptions());
  return (
    <HydrateClient>
      <SettingsPage />
    </HydrateClient>
  );
}

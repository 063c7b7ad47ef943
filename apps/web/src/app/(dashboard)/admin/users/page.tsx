import type { Metadata } from 'next';
import { HydrateClient, prefetch, trpc } from '~/trpc/server';
import { UsersPage } from './users-page';

export const metadata: Metadata = { title: 'Users' };

export default async function Page() {
  await prefetch(trpc.users.list.queryOptions({ page: 1, pageSize: 25, sortBy: 'email', sortDir: 'asc' }));
  return (
    <HydrateClient>
      <UsersPage />
    </HydrateClient>
  );
}

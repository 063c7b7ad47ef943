import type { Metadata } from 'next';
import { HydrateClient, prefetch, trpc } from '~/trpc/server';
import { AuditPage } from './audit-page';

export const metadata: Metadata = { title: 'Audit log' };

export default async function Page() {
  await prefetch(
    trpc.audit.list.queryOptions({ page: 1, pageSize: 50, sortBy: 'occurredAt', sortDir: 'desc' }),
    trpc.audit.facets.queryOptions(),
  );
  return (
    <HydrateClient>
      <AuditPage />
    </HydrateClient>
  );
}

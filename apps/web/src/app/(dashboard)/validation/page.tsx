import type { Metadata } from 'next';
import { HydrateClient, prefetch, trpc } from '~/trpc/server';
import { DEFAULT_RUN_TABLE_STATE } from './run-table-state';
import { ValidationRunsPage } from './validation-runs-page';

export const metadata: Metadata = { title: 'Validation' };

export default async function Page() {
  await prefetch(
    trpc.validationRuns.list.queryOptions(DEFAULT_RUN_TABLE_STATE),
    trpc.validationSuites.list.queryOptions(),
    trpc.clusters.options.queryOptions(),
  );
  return (
    <HydrateClient>
      <ValidationRunsPage />
    </HydrateClient>
  );
}

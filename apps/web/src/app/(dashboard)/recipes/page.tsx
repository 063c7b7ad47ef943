import type { Metadata } from 'next';
import { HydrateClient, prefetch, trpc } from '~/trpc/server';
import { RecipesPage } from './recipes-page';
import { DEFAULT_RECIPE_TABLE_STATE } from './table-state';

export const metadata: Metadata = { title: 'Recipes' };

export default async function Page() {
  await prefetch(trpc.recipes.list.queryOptions(DEFAULT_RECIPE_TABLE_STATE));
  return (
    <HydrateClient>
      <RecipesPage />
    </HydrateClient>
  );
}

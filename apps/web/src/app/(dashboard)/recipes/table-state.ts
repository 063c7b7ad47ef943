import type { TableQueryState } from '~/components/data-table';

export type RecipeSort = 'name' | 'createdAt';
export const DEFAULT_RECIPE_TABLE_STATE: TableQueryState<RecipeSort> = { page: 1, pageSize: 25, sortBy: 'name', sortDir: 'asc' };

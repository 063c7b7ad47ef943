import type { TableQueryState } from '~/components/data-table';

export type RunSort = 'createdAt' | 'state' | 'verdict' | 'finishedAt';

export const DEFAULT_RUN_TABLE_STATE: TableQueryState<RunSort> = { page: 1, pageSize: 25, sortBy: 'createdAt', sortDir: 'desc' };

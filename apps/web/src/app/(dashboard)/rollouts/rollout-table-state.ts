import type { TableQueryState } from '~/components/data-table';

export type RolloutSort = 'createdAt' | 'state' | 'finishedAt';

export const DEFAULT_ROLLOUT_TABLE_STATE: TableQueryState<RolloutSort> = { page: 1, pageSize: 25, sortBy: 'createdAt', sortDir: 'desc' };

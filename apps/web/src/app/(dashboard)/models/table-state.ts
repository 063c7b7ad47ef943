import type { TableQueryState } from '~/components/data-table';

export type RevisionSort = 'detectedAt' | 'committedAt' | 'bytesToFetch';
export const DEFAULT_REVISION_TABLE_STATE: TableQueryState<RevisionSort> = { page: 1, pageSize: 10, sortBy: 'detectedAt', sortDir: 'desc' };

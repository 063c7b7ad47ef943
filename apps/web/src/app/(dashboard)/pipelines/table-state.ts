import type { TableQueryState } from '~/components/data-table';

export type PipelineRunSort = 'createdAt' | 'finishedAt' | 'state';
export const DEFAULT_PIPELINE_TABLE_STATE: TableQueryState<PipelineRunSort> = {
  page: 1,
  pageSize: 25,
  sortBy: 'createdAt',
  sortDir: 'desc',
};

import type { TableQueryState } from '~/components/data-table';

export type ClusterSort = 'name' | 'servingEngine' | 'nodeCount' | 'gpuCount' | 'health' | 'createdAt';

export const DEFAULT_CLUSTER_TABLE_STATE: TableQueryState<ClusterSort> & { search?: string } = {
  page: 1,
  pageSize: 25,
  sortBy: 'name',
  sortDir: 'asc',
};

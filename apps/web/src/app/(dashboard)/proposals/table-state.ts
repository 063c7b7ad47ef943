import type { TableQueryState } from '~/components/data-table';

export type ProposalSort = 'createdAt' | 'expiresAt' | 'state';

export const DEFAULT_PROPOSAL_TABLE_STATE: TableQueryState<ProposalSort> = { page: 1, pageSize: 25, sortBy: 'createdAt', sortDir: 'desc' };

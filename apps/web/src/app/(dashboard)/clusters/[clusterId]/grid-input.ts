/** The grid's first request, shared by the server prefetch and the client so the hydrated page is reused. */
export const GRID_PAGE_SIZE = 24;
export const firstGridPage = (clusterId: string) => ({ clusterId, page: 1, pageSize: GRID_PAGE_SIZE });

import { z } from 'zod';

export const ZSortDirection = z.enum(['asc', 'desc']);

/** Server-side paging input shared by every list procedure. */
export function listInput<const TSort extends readonly [string, ...string[]]>(sortFields: TSort, defaultSort: TSort[number]) {
  return z.object({
    page: z.number().int().min(1).default(1),
    pageSize: z.number().int().min(1).max(200).default(25),
    sortBy: z.enum(sortFields).default(defaultSort as never),
    sortDir: ZSortDirection.default('asc'),
    search: z.string().trim().max(200).optional(),
  });
}

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  pageSize: number;
}

export const ZId = z.string().min(1, 'Required').max(64);
export const ZIdInput = z.object({ id: ZId });

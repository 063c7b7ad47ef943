'use client';
import { flexRender, getCoreRowModel, useReactTable, type ColumnDef, type SortingState } from '@tanstack/react-table';
import { ArrowDown, ArrowUp, ArrowUpDown, ChevronLeft, ChevronRight } from 'lucide-react';
import { Button } from '~/components/ui/button';
import { NativeSelect } from '~/components/ui/input';
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '~/components/ui/table';
import { EmptyState, QueryView } from './states';

export interface TableQueryState<TSort extends string> {
  page: number;
  pageSize: number;
  sortBy: TSort;
  sortDir: 'asc' | 'desc';
}

interface DataTableProps<TRow, TSort extends string> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  columns: ColumnDef<TRow, any>[];
  rows: TRow[];
  total: number;
  state: TableQueryState<TSort>;
  onStateChange: (next: TableQueryState<TSort>) => void;
  empty: React.ReactNode;
  isFetching?: boolean;
  getRowId?: (row: TRow) => string;
  testId?: string;
}

/**
 * A table whose sorting and paging happen on the server: it only renders the current page and
 * reports what the user asked for. Columns with `enableSorting` map their id to the API's sortBy.
 */
export function DataTable<TRow, TSort extends string>({
  columns,
  rows,
  total,
  state,
  onStateChange,
  empty,
  isFetching,
  getRowId,
  testId,
}: DataTableProps<TRow, TSort>) {
  const sorting: SortingState = [{ id: state.sortBy, desc: state.sortDir === 'desc' }];
  const table = useReactTable({
    data: rows,
    columns,
    getRowId,
    state: { sorting },
    manualSorting: true,
    manualPagination: true,
    enableSortingRemoval: false,
    rowCount: total,
    getCoreRowModel: getCoreRowModel(),
    onSortingChange: (updater) => {
      const next = typeof updater === 'function' ? updater(sorting) : updater;
      const first = next[0];
      if (first) onStateChange({ ...state, page: 1, sortBy: first.id as TSort, sortDir: first.desc ? 'desc' : 'asc' });
    },
  });

  return (
    <div className="space-y-3" data-testid={testId} aria-busy={isFetching}>
      <div className="rounded-lg border bg-card">
        <Table>
          <TableHeader>
            {table.getHeaderGroups().map((group) => (
              <TableRow key={group.id} className="hover:bg-transparent">
                {group.headers.map((header) => {
                  const sortable = header.column.getCanSort();
                  const sorted = header.column.getIsSorted();
                  return (
                    <TableHead key={header.id} aria-sort={sorted ? (sorted === 'desc' ? 'descending' : 'ascending') : undefined}>
                      {sortable ? (
                        <button
                          type="button"
                          className="inline-flex items-center gap-1 uppercase tracking-wide hover:text-foreground"
                          onClick={header.column.getToggleSortingHandler()}
                        >
                          {flexRender(header.column.columnDef.header, header.getContext())}
                          {sorted === 'asc' ? (
                            <ArrowUp className="size-3" />
                          ) : sorted === 'desc' ? (
                            <ArrowDown className="size-3" />
                          ) : (
                            <ArrowUpDown className="size-3 opacity-40" />
                          )}
                        </button>
                      ) : (
                        flexRender(header.column.columnDef.header, header.getContext())
                      )}
                    </TableHead>
                  );
                })}
              </TableRow>
            ))}
          </TableHeader>
          <TableBody>
            {table.getRowModel().rows.map((row) => (
              <TableRow key={row.id}>
                {row.getVisibleCells().map((cell) => (
                  <TableCell key={cell.id}>{flexRender(cell.column.columnDef.cell, cell.getContext())}</TableCell>
                ))}
              </TableRow>
            ))}
          </TableBody>
        </Table>
        {rows.length === 0 ? <div className="p-4">{typeof empty === 'string' ? <EmptyState title={empty} /> : empty}</div> : null}
      </div>
      <Pager total={total} page={state.page} pageSize={state.pageSize} onChange={(p) => onStateChange({ ...state, ...p })} />
    </div>
  );
}

/**
 * A DataTable fed by one paged list query ({ items, total }): the skeleton while it loads, the error
 * with a retry, then the page (its empty state comes from `empty`, inside the table).
 */
export function QueryDataTable<TRow, TSort extends string>({
  query,
  skeleton,
  ...table
}: Omit<DataTableProps<TRow, TSort>, 'rows' | 'total'> & {
  query: {
    isPending: boolean;
    isError: boolean;
    error: { message: string } | null;
    data: { items: TRow[]; total: number } | undefined;
    /** a refetch (a new page, sort or filter): the table says it is busy while it shows the previous page */
    isFetching?: boolean;
    refetch: () => unknown;
  };
  skeleton: React.ReactNode;
}) {
  return (
    <QueryView query={query} skeleton={skeleton}>
      {(data) => <DataTable<TRow, TSort> isFetching={query.isFetching} {...table} rows={data.items} total={data.total} />}
    </QueryView>
  );
}

/**
 * One page of a list the API returns whole (a node's credentials, a cluster's join tokens: a handful of
 * rows), sorted and sliced like a server-paged list, so it can feed QueryDataTable through `select`.
 * Empty values sort last whichever the direction.
 */
export function pageLocally<TRow, TSort extends string>(
  rows: TRow[],
  state: TableQueryState<TSort>,
  sortValue: Record<TSort, (row: TRow) => string | number | Date | null | undefined>,
): { items: TRow[]; total: number } {
  const value = sortValue[state.sortBy];
  const dir = state.sortDir === 'asc' ? 1 : -1;
  const sorted = [...rows].sort((a, b) => {
    const x = value(a);
    const y = value(b);
    if (x == null || y == null) return x == null ? (y == null ? 0 : 1) : -1;
    return (x < y ? -1 : x > y ? 1 : 0) * dir;
  });
  const start = (state.page - 1) * state.pageSize;
  return { items: sorted.slice(start, start + state.pageSize), total: rows.length };
}

/** "1–25 of 300", rows per page and previous / next: the one paging control of every server-paged list. */
export function Pager({
  total,
  page,
  pageSize,
  onChange,
  pageSizes = [10, 25, 50, 100],
}: {
  total: number;
  page: number;
  pageSize: number;
  onChange: (next: { page: number; pageSize: number }) => void;
  pageSizes?: number[];
}) {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const from = total === 0 ? 0 : (page - 1) * pageSize + 1;
  const to = Math.min(total, page * pageSize);
  return (
    <div className="flex flex-wrap items-center justify-between gap-2 text-sm text-muted-foreground">
      <span>
        {from}–{to} of {total}
      </span>
      <div className="flex items-center gap-2">
        <label className="flex items-center gap-1">
          Rows
          <NativeSelect
            aria-label="Rows per page"
            className="h-8 w-20"
            value={pageSize}
            onChange={(e) => onChange({ page: 1, pageSize: Number(e.target.value) })}
          >
            {pageSizes.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </NativeSelect>
        </label>
        <span>
          Page {page} of {pages}
        </span>
        <Button
          variant="outline"
          size="icon"
          aria-label="Previous page"
          disabled={page <= 1}
          onClick={() => onChange({ page: page - 1, pageSize })}
        >
          <ChevronLeft />
        </Button>
        <Button
          variant="outline"
          size="icon"
          aria-label="Next page"
          disabled={page >= pages}
          onClick={() => onChange({ page: page + 1, pageSize })}
        >
          <ChevronRight />
        </Button>
      </div>
    </div>
  );
}

'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { ShieldCheck } from 'lucide-react';
import { useState } from 'react';
import type { RouterOutputs } from '@fleetplane/api';
import { pageLocally, QueryDataTable, type TableQueryState } from '~/components/data-table';
import { RelativeTime } from '~/components/relative-time';
import { RevokeButton } from '~/components/revoke-button';
import { EmptyState, TableSkeleton } from '~/components/states';
import { Badge } from '~/components/ui/badge';
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from '~/components/ui/card';
import { formatDateTime } from '~/lib/utils';
import { useInvalidateNodeCredentials } from '~/trpc/invalidate';
import { useTRPC } from '~/trpc/react';

type Row = RouterOutputs['nodeCredentials']['list'][number];
type Sort = 'createdAt' | 'lastUsedAt';
const col = createColumnHelper<Row>();
const SORT_VALUE: Record<Sort, (r: Row) => Date | string | null> = { createdAt: (r) => r.createdAt, lastUsedAt: (r) => r.lastUsedAt };

/** The agent credentials of one node: revoking one locks that agent out (401) from its next report. */
export function NodeCredentialsPanel({ nodeId, hostname }: { nodeId: string; hostname: string }) {
  const trpc = useTRPC();
  const invalidateNodeCredentials = useInvalidateNodeCredentials();
  const [state, setState] = useState<TableQueryState<Sort>>({ page: 1, pageSize: 10, sortBy: 'createdAt', sortDir: 'desc' });
  // A node has a few credentials (one per enrollment), so the API returns them all and the table pages here.
  const creds = useQuery({ ...trpc.nodeCredentials.list.queryOptions({ nodeId }), select: (rows) => pageLocally(rows, state, SORT_VALUE) });
  const revoke = useMutation(trpc.nodeCredentials.revoke.mutationOptions());
  const columns = [
    col.accessor('tokenPrefix', {
      header: 'Credential',
      enableSorting: false,
      cell: (c) => <span className="font-mono text-xs">{c.getValue()}…</span>,
    }),
    col.display({
      id: 'status',
      header: 'Status',
      cell: (c) =>
        c.row.original.revokedAt ? (
          <Badge variant="critical">
            <RelativeTime prefix="revoked " date={c.row.original.revokedAt} />
          </Badge>
        ) : (
          <Badge variant="healthy">active</Badge>
        ),
    }),
    col.accessor('createdAt', {
      header: 'Issued',
      enableSorting: true,
      cell: (c) => <span className="text-xs tabular-nums">{formatDateTime(c.getValue())}</span>,
    }),
    col.accessor('lastUsedAt', {
      enableSorting: true,
      header: 'Last used',
      cell: (c) => (
        <span className="text-xs text-muted-foreground">
          <RelativeTime date={c.getValue()} />
        </span>
      ),
    }),
    col.display({
      id: 'actions',
      header: () => <span className="sr-only">Actions</span>,
      cell: (c) =>
        c.row.original.revokedAt ? null : (
          <div className="text-right">
            <RevokeButton
              noun="credential"
              prefix={c.row.original.tokenPrefix}
              title={`Revoke the agent credential of ${hostname}?`}
              description="The agent is refused from its next report and keeps its data queued on disk until the node is enrolled again with a new join token."
              revoke={() => revoke.mutateAsync({ id: c.row.original.id })}
              refresh={invalidateNodeCredentials}
            />
          </div>
        ),
    }),
  ];
  return (
    <Card data-testid="node-credentials">
      <CardHeader>
        <CardTitle className="flex items-center gap-2">
          <ShieldCheck className="size-4 text-primary" /> Agent credentials
        </CardTitle>
        <CardDescription>
          Issued when the agent enrolled; only a hash is stored. Re-enrolling the node revokes the older ones.
        </CardDescription>
      </CardHeader>
      <CardContent>
        <QueryDataTable<Row, Sort>
          query={creds}
          skeleton={<TableSkeleton rows={1} columns={4} />}
          testId="node-credentials-table"
          columns={columns}
          state={state}
          onStateChange={setState}
          getRowId={(r) => r.id}
          empty={
            <EmptyState
              title="No agent enrolled on this node"
              description="Create a join token on the cluster page and run the enroll command on this node."
            />
          }
        />
      </CardContent>
    </Card>
  );
}

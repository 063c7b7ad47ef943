'use client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ShieldCheck } from 'lucide-react';
import { RevokeButton } from '~/components/revoke-button';
import { EmptyState, QueryView, TableSkeleton } from '~/components/states';
import { Badge } from '~/components/ui/badge';
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from '~/components/ui/card';
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '~/components/ui/table';
import { formatDateTime } from '~/lib/utils';
import { useTRPC } from '~/trpc/react';
import { RelativeTime } from '../../_components/relative-time';

/** The agent credentials of one node: revoking one locks that agent out (401) from its next report. */
export function NodeCredentialsPanel({ nodeId, hostname }: { nodeId: string; hostname: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const creds = useQuery(trpc.nodeCredentials.list.queryOptions({ nodeId }));
  const revoke = useMutation(trpc.nodeCredentials.revoke.mutationOptions());
  return (
    <Card data-testid="node-credentials">
      <CardHeader>
        <CardTitle className="flex items-center gap-2">
          <ShieldCheck className="size-4 text-primary" /> Agent credentials
        </CardTitle>
        <CardDescription>Issued when the agent enrolled; only a hash is stored. Re-enrolling the node revokes the older ones.</CardDescription>
      </CardHeader>
      <CardContent>
        <QueryView
          query={creds}
          skeleton={<TableSkeleton rows={1} columns={4} />}
          isEmpty={(rows) => rows.length === 0}
          empty={<EmptyState title="No agent enrolled on this node" description="Create a join token on the cluster page and run the enroll command on this node." />}
        >
          {(rows) => (
            <div className="rounded-lg border">
              <Table data-testid="node-credentials-table">
                <TableHeader>
                  <TableRow>
                    <TableHead>Credential</TableHead>
                    <TableHead>Status</TableHead>
                    <TableHead>Issued</TableHead>
                    <TableHead>Last used</TableHead>
                    <TableHead />
                  </TableRow>
                </TableHeader>
                <TableBody>
                  {rows.map((c) => (
                    <TableRow key={c.id}>
                      <TableCell className="font-mono text-xs">{c.tokenPrefix}…</TableCell>
                      <TableCell>{c.revokedAt ? <Badge variant="critical"><RelativeTime prefix="revoked " date={c.revokedAt} /></Badge> : <Badge variant="healthy">active</Badge>}</TableCell>
                      <TableCell className="text-xs tabular-nums">{formatDateTime(c.createdAt)}</TableCell>
                      <TableCell className="text-xs text-muted-foreground"><RelativeTime date={c.lastUsedAt} /></TableCell>
                      <TableCell className="text-right">
                        {c.revokedAt ? null : (
                          <RevokeButton
                            noun="credential"
                            prefix={c.tokenPrefix}
                            title={`Revoke the agent credential of ${hostname}?`}
                            description="The agent is refused from its next report and keeps its data queued on disk until the node is enrolled again with a new join token."
                            revoke={() => revoke.mutateAsync({ id: c.id })}
                            refresh={() => queryClient.invalidateQueries({ queryKey: trpc.nodeCredentials.pathKey() })}
                          />
                        )}
                      </TableCell>
                    </TableRow>
                  ))}
                </TableBody>
              </Table>
            </div>
          )}
        </QueryView>
      </CardContent>
    </Card>
  );
}

'use client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ShieldCheck } from 'lucide-react';
import { toast } from 'sonner';
import { ConfirmDialog } from '~/components/confirm-dialog';
import { EmptyState, ErrorState, TableSkeleton } from '~/components/states';
import { Badge } from '~/components/ui/badge';
import { Button } from '~/components/ui/button';
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
        {creds.isPending ? (
          <TableSkeleton rows={1} columns={4} />
        ) : creds.isError ? (
          <ErrorState error={creds.error} onRetry={() => void creds.refetch()} />
        ) : creds.data.length === 0 ? (
          <EmptyState title="No agent enrolled on this node" description="Create a join token on the cluster page and run the enroll command on this node." />
        ) : (
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
                {creds.data.map((c) => (
                  <TableRow key={c.id}>
                    <TableCell className="font-mono text-xs">{c.tokenPrefix}…</TableCell>
                    <TableCell>{c.revokedAt ? <Badge variant="critical"><RelativeTime prefix="revoked " date={c.revokedAt} /></Badge> : <Badge variant="healthy">active</Badge>}</TableCell>
                    <TableCell className="text-xs tabular-nums">{formatDateTime(c.createdAt)}</TableCell>
                    <TableCell className="text-xs text-muted-foreground"><RelativeTime date={c.lastUsedAt} /></TableCell>
                    <TableCell className="text-right">
                      {c.revokedAt ? null : (
                        <ConfirmDialog
                          title={`Revoke the agent credential of ${hostname}?`}
                          description="The agent is refused from its next report and keeps its data queued on disk until the node is enrolled again with a new join token."
                          confirmLabel="Revoke credential"
                          trigger={
                            <Button variant="ghost" size="sm" aria-label={`Revoke credential ${c.tokenPrefix}`}>
                              Revoke
                            </Button>
                          }
                          onConfirm={async () => {
                            await revoke.mutateAsync({ id: c.id });
                            toast.success(`Credential ${c.tokenPrefix}… revoked`);
                            await queryClient.invalidateQueries({ queryKey: trpc.nodeCredentials.pathKey() });
                          }}
                        />
                      )}
                    </TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          </div>
        )}
      </CardContent>
    </Card>
  );
}

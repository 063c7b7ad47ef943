'use client';
import { useQuery } from '@tanstack/react-query';
import { Pencil, Plus, Trash2 } from 'lucide-react';
import Link from 'next/link';
import { notFound, useRouter } from 'next/navigation';
import { HealthBadge } from '~/components/health-badge';
import { useCan } from '~/components/session-context';
import { EmptyState, ErrorState, PageHeader } from '~/components/states';
import { Button } from '~/components/ui/button';
import { Card, CardContent } from '~/components/ui/card';
import { Skeleton } from '~/components/ui/skeleton';
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '~/components/ui/table';
import { formatMib } from '~/lib/utils';
import { useTRPC } from '~/trpc/react';
import { DeleteNodeButton, NodeFormDialog } from '~/components/nodes/node-dialogs';
import { DeleteGpuButton, GpuFormDialog } from './gpu-dialogs';
import { NodeCredentialsPanel } from './node-credentials-panel';
import { EnginePanel } from './engine-panel';
import { NodeCommandsPanel } from './node-commands-panel';
import { RelativeTime } from '~/components/relative-time';
import { NodeProvenanceCard } from '~/components/rollouts/node-provenance-card';

export function NodeDetail({ nodeId }: { nodeId: string }) {
  const trpc = useTRPC();
  const router = useRouter();
  const canEdit = useCan('operator');
  const node = useQuery(trpc.nodes.get.queryOptions({ id: nodeId }));
  if (node.isError && node.error.data?.code === 'NOT_FOUND') notFound();
  if (node.isPending) return <Skeleton className="h-64" />;
  if (node.isError) return <ErrorState error={node.error} onRetry={() => void node.refetch()} />;
  const n = node.data;
  const labels = Object.entries((n.labels as Record<string, string>) ?? {});
  return (
    <div className="space-y-6">
      <PageHeader
        title={n.hostname}
        description={
          <span className="inline-flex items-center gap-2">
            <HealthBadge status={n.health} /> in cluster{' '}
            <Link className="text-primary hover:underline" href={`/clusters/${n.cluster.id}`}>
              {n.cluster.name}
            </Link>{' '}
            · last report <RelativeTime date={n.lastSeenAt} />
          </span>
        }
        actions={
          canEdit ? (
            <>
              <NodeFormDialog
                clusterId={n.clusterId}
                node={n}
                trigger={
                  <Button variant="outline">
                    <Pencil /> Edit
                  </Button>
                }
              />
              <DeleteNodeButton node={n} onDeleted={() => router.push(`/clusters/${n.cluster.id}`)}>
                <Button variant="outline">
                  <Trash2 /> Delete
                </Button>
              </DeleteNodeButton>
            </>
          ) : null
        }
      />
      <Card>
        <CardContent className="grid grid-cols-2 gap-4 pt-5 md:grid-cols-4">
          <div>
            <p className="text-xs uppercase text-muted-foreground">Address</p>
            <p className="text-sm font-medium">{n.ipAddress ?? '—'}</p>
          </div>
          <div>
            <p className="text-xs uppercase text-muted-foreground">Driver / CUDA</p>
            <p className="text-sm font-medium">
              {n.driverVersion ?? '—'} / {n.cudaVersion ?? '—'}
            </p>
          </div>
          <div>
            <p className="text-xs uppercase text-muted-foreground">Agent</p>
            <p className="text-sm font-medium">{n.agentVersion ?? 'not enrolled'}</p>
          </div>
          <div>
            <p className="text-xs uppercase text-muted-foreground">Labels</p>
            <p className="text-sm font-medium">{labels.length ? labels.map(([k, v]) => `${k}=${v}`).join(', ') : '—'}</p>
          </div>
        </CardContent>
      </Card>
      <NodeProvenanceCard nodeId={n.id} />
      <div>
        <div className="mb-3 flex items-center justify-between">
          <h2 className="text-lg font-semibold">GPUs</h2>
          {canEdit ? (
            <GpuFormDialog
              nodeId={n.id}
              trigger={
                <Button size="sm">
                  <Plus /> Add GPU
                </Button>
              }
            />
          ) : null}
        </div>
        {n.gpus.length === 0 ? (
          <EmptyState title="No GPUs on this node" description="The agent registers GPUs it sees; you can also add them by hand." />
        ) : (
          <div className="rounded-lg border bg-card">
            <Table data-testid="gpus-table">
              <TableHeader>
                <TableRow>
                  <TableHead>#</TableHead>
                  <TableHead>Model</TableHead>
                  <TableHead>UUID</TableHead>
                  <TableHead>Memory</TableHead>
                  <TableHead>Interconnect</TableHead>
                  <TableHead>PCI</TableHead>
                  <TableHead>Health</TableHead>
                  {canEdit ? <TableHead /> : null}
                </TableRow>
              </TableHeader>
              <TableBody>
                {n.gpus.map((g) => (
                  <TableRow key={g.id}>
                    <TableCell className="tabular-nums">{g.index}</TableCell>
                    <TableCell className="font-medium">
                      <Link className="text-primary hover:underline" href={`/gpus/${g.id}`}>
                        {g.model}
                      </Link>
                    </TableCell>
                    <TableCell className="font-mono text-xs">{g.uuid}</TableCell>
                    <TableCell>{formatMib(g.memoryMib)}</TableCell>
                    <TableCell>{g.interconnect}</TableCell>
                    <TableCell className="font-mono text-xs">{g.pciBusId ?? '—'}</TableCell>
                    <TableCell>
                      <HealthBadge status={g.health} />
                    </TableCell>
                    {canEdit ? (
                      <TableCell className="text-right">
                        <GpuFormDialog
                          nodeId={n.id}
                          gpu={g}
                          trigger={
                            <Button variant="ghost" size="icon" aria-label={`Edit GPU ${g.index}`}>
                              <Pencil />
                            </Button>
                          }
                        />
                        <DeleteGpuButton gpu={g}>
                          <Button variant="ghost" size="icon" aria-label={`Delete GPU ${g.index}`}>
                            <Trash2 />
                          </Button>
                        </DeleteGpuButton>
                      </TableCell>
                    ) : null}
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          </div>
        )}
      </div>
      <EnginePanel nodeId={n.id} />
      <NodeCommandsPanel nodeId={n.id} hostname={n.hostname} />
      {canEdit ? <NodeCredentialsPanel nodeId={n.id} hostname={n.hostname} /> : null}
    </div>
  );
}

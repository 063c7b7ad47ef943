'use client';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { FlaskConical, Pencil, Plus, Rocket, ShieldCheck, Trash2 } from 'lucide-react';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { useState } from 'react';
import { SERVING_ENGINE_LABELS, type THealthStatus } from '@fleetplane/contracts';
import type { RouterOutputs } from '@fleetplane/api';
import { QueryDataTable } from '~/components/data-table';
import { HealthBadge } from '~/components/health-badge';
import { ApprovalPolicyDialog } from '~/components/proposals/approval-policy-dialog';
import { useCan } from '~/components/session-context';
import { EmptyState, ErrorState, PageHeader, TableSkeleton } from '~/components/states';
import { Button } from '~/components/ui/button';
import { Card, CardContent } from '~/components/ui/card';
import { Skeleton } from '~/components/ui/skeleton';
import { cn, formatMib } from '~/lib/utils';
import { useTRPC } from '~/trpc/react';
import { ClusterFormDialog } from '../cluster-form-dialog';
import { DeleteClusterButton } from '../delete-cluster-button';
import { DeleteNodeButton, NodeFormDialog } from '~/components/nodes/node-dialogs';
import { GpuHealthGrid } from './gpu-health-grid';
import { JoinTokensPanel } from './join-tokens-panel';
import { EngineSettingsPanel } from './engine-settings-panel';
import { StartRunDialog } from '~/components/validation/start-run-dialog';
import { RelativeTime } from '~/components/relative-time';
import { ClusterCompatibilityCard } from '~/components/capacity/compatibility-panels';
import { DeploymentHistory } from '~/components/rollouts/deployment-history';
import { RolloutPolicyDialog } from '~/components/rollouts/rollout-policy-dialog';

type NodeRow = RouterOutputs['nodes']['list']['items'][number];
type NodeSort = 'hostname' | 'health' | 'lastSeenAt' | 'gpuCount' | 'createdAt';
const col = createColumnHelper<NodeRow>();

export const HEALTH_CELL: Record<THealthStatus, string> = {
  healthy: 'bg-healthy',
  warning: 'bg-warning',
  critical: 'bg-critical',
  offline: 'bg-offline',
  unknown: 'bg-unknown',
};

function Info({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div>
      <dt className="text-xs uppercase tracking-wide text-muted-foreground">{label}</dt>
      <dd className="mt-0.5 text-sm font-medium">{children}</dd>
    </div>
  );
}

export function ClusterDetail({ clusterId }: { clusterId: string }) {
  const trpc = useTRPC();
  const canEdit = useCan('operator');
  const isAdmin = useCan('admin');
  const cluster = useQuery(trpc.clusters.get.queryOptions({ id: clusterId }));
  const [state, setState] = useState<{ page: number; pageSize: number; sortBy: NodeSort; sortDir: 'asc' | 'desc' }>({
    page: 1,
    pageSize: 50,
    sortBy: 'hostname',
    sortDir: 'asc',
  });
  const nodes = useQuery({ ...trpc.nodes.list.queryOptions({ clusterId, ...state }), placeholderData: keepPreviousData });

  if (cluster.isError && cluster.error.data?.code === 'NOT_FOUND') notFound();
  if (cluster.isPending) return <Skeleton className="h-40" />;
  if (cluster.isError) return <ErrorState error={cluster.error} onRetry={() => void cluster.refetch()} />;
  const c = cluster.data;

  const columns = [
    col.accessor('hostname', {
      header: 'Node',
      cell: (x) => (
        <div>
          <Link className="font-medium text-primary hover:underline" href={`/nodes/${x.row.original.id}`}>
            {x.getValue()}
          </Link>
          <p className="text-xs text-muted-foreground">{x.row.original.ipAddress ?? 'no address'}</p>
        </div>
      ),
    }),
    col.accessor((r) => r.gpus.length, {
      id: 'gpuCount',
      header: 'GPUs',
      cell: (x) => (
        <div className="flex flex-wrap items-center gap-1" aria-label={`${x.getValue()} GPUs`}>
          {x.row.original.gpus.map((g) => (
            <span
              key={g.id}
              title={`GPU ${g.index} · ${g.model} · ${g.health}`}
              data-health={g.health}
              className={cn('size-4 rounded-sm', HEALTH_CELL[g.health])}
            />
          ))}
          <span className="ml-1 text-xs text-muted-foreground">
            {x.getValue()} × {x.row.original.gpus[0]?.model.replace(/^NVIDIA /, '') ?? '—'}
          </span>
        </div>
      ),
    }),
    col.accessor('health', { header: 'Health', cell: (x) => <HealthBadge status={x.getValue()} /> }),
    col.accessor('lastSeenAt', {
      header: 'Last report',
      cell: (x) => (
        <span className="text-muted-foreground">
          <RelativeTime date={x.getValue()} />
        </span>
      ),
    }),
    ...(canEdit
      ? [
          col.display({
            id: 'actions',
            header: '',
            cell: (x) => (
              <div className="flex justify-end gap-1">
                <NodeFormDialog
                  clusterId={clusterId}
                  node={x.row.original}
                  trigger={
                    <Button variant="ghost" size="icon" aria-label={`Edit ${x.row.original.hostname}`}>
                      <Pencil />
                    </Button>
                  }
                />
                <DeleteNodeButton node={x.row.original}>
                  <Button variant="ghost" size="icon" aria-label={`Delete ${x.row.original.hostname}`}>
                    <Trash2 />
                  </Button>
                </DeleteNodeButton>
              </div>
            ),
          }),
        ]
      : []),
  ];

  return (
    <div className="space-y-6">
      <PageHeader
        title={c.name}
        description={
          <span className="inline-flex items-center gap-2">
            <HealthBadge status={c.health} /> {c.site.name} · {c.site.region} · data residency {c.site.dataResidency}
          </span>
        }
        actions={
          canEdit ? (
            <>
              <StartRunDialog
                clusterId={c.id}
                trigger={
                  <Button variant="outline">
                    <FlaskConical /> Validate
                  </Button>
                }
              />
              {isAdmin ? (
                <ApprovalPolicyDialog
                  cluster={c}
                  trigger={
                    <Button variant="outline">
                      <ShieldCheck /> Approval policy
                    </Button>
                  }
                />
              ) : null}
              <RolloutPolicyDialog
                clusterId={c.id}
                trigger={
                  <Button variant="outline">
                    <Rocket /> Rollout policy
                  </Button>
                }
              />
              <ClusterFormDialog
                clusterId={c.id}
                trigger={
                  <Button variant="outline">
                    <Pencil /> Edit
                  </Button>
                }
              />
              <DeleteClusterButton id={c.id} name={c.name} redirectTo="/clusters">
                <Button variant="outline">
                  <Trash2 /> Delete
                </Button>
              </DeleteClusterButton>
            </>
          ) : null
        }
      />
      <Card>
        <CardContent className="pt-5">
          <dl className="grid grid-cols-2 gap-4 md:grid-cols-4">
            <Info label="Engine">
              {SERVING_ENGINE_LABELS[c.servingEngine]} {c.engineVersion}
            </Info>
            <Info label="Endpoint">{c.endpointUrl ? <span className="font-mono text-xs">{c.endpointUrl}</span> : '—'}</Info>
            <Info label="Served model">{c.servedModelName ?? '—'}</Info>
            <Info label="Max context">{c.maxContextTokens.toLocaleString('en-US')} tokens</Info>
            <Info label="GPU cost">${c.gpuHourlyCostUsd.toFixed(2)} / GPU-hour</Info>
            <Info label="GPUs">
              {c.summary.gpuCount} ({formatMib(c.summary.totalGpuMemoryMib)})
            </Info>
            <Info label="Serving">
              {c.summary.activeArtifact
                ? `${c.summary.activeArtifact.hubRepoId} · ${c.summary.activeArtifact.quantisation}`
                : 'nothing deployed'}
            </Info>
            <Info label="Validation cap">{c.validationConcurrencyCap} concurrent requests</Info>
            <Info label="Download limits">
              {c.downloadConcurrency
                ? `${c.downloadConcurrency} file${c.downloadConcurrency === 1 ? '' : 's'} at once`
                : 'any number of files'}
              , {c.downloadBandwidthMbps ? `${c.downloadBandwidthMbps.toLocaleString('en-US')} Mbit/s` : 'no bandwidth cap'}
            </Info>
          </dl>
          {c.description ? <p className="mt-4 text-sm text-muted-foreground">{c.description}</p> : null}
        </CardContent>
      </Card>
      <ClusterCompatibilityCard clusterId={clusterId} />
      <DeploymentHistory clusterId={clusterId} />
      <GpuHealthGrid clusterId={clusterId} />
      <EngineSettingsPanel clusterId={clusterId} />
      <div>
        <div className="mb-3 flex items-center justify-between">
          <h2 className="text-lg font-semibold">Nodes</h2>
          {canEdit ? (
            <NodeFormDialog
              clusterId={clusterId}
              trigger={
                <Button size="sm">
                  <Plus /> Add node
                </Button>
              }
            />
          ) : null}
        </div>
        <QueryDataTable<NodeRow, NodeSort>
          query={nodes}
          skeleton={<TableSkeleton columns={4} />}
          testId="nodes-table"
          columns={columns}
          state={state}
          onStateChange={setState}
          getRowId={(r) => r.id}
          empty={<EmptyState title="No nodes in this cluster" description="Add a node by hand, or enroll one with an agent join token." />}
        />
      </div>
      {canEdit ? <JoinTokensPanel clusterId={clusterId} /> : null}
    </div>
  );
}

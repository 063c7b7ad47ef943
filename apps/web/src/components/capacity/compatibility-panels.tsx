'use client';
import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import type { RouterOutputs } from '@fleetplane/api';
import { EmptyState, QueryView } from '~/components/states';
import { Badge } from '~/components/ui/badge';
import { Card, CardContent, CardHeader, CardTitle } from '~/components/ui/card';
import { Skeleton } from '~/components/ui/skeleton';
import { useTRPC } from '~/trpc/react';
import { CompatVerdicts, VerdictBadge } from './compat-verdicts';

type Pair = RouterOutputs['capacity']['clusterCompatibility']['verdicts'][number];

function PairSummary({ pair, title }: { pair: Pair; title: React.ReactNode }) {
  return (
    <details className="rounded-md border" data-testid="compat-pair">
      <summary className="flex cursor-pointer flex-wrap items-center gap-2 px-3 py-2 text-sm">
        <span className="font-medium">{title}</span>
        {pair.report ? <VerdictBadge compatible={pair.report.compatible} /> : <Badge variant="unknown">no verdict</Badge>}
        {pair.fits === null ? null : <Badge variant={pair.fits ? 'healthy' : 'critical'}>{pair.fits ? 'fits' : 'does not fit'}</Badge>}
        {pair.report && !pair.report.compatible ? (
          <span className="text-muted-foreground">{pair.report.failures.map((f) => f.reason).join(' · ')}</span>
        ) : null}
      </summary>
      <div className="grid gap-2 px-3 pb-3">
        {pair.problem ? <p className="text-sm text-muted-foreground">{pair.problem}</p> : null}
        {pair.fitSummary ? <p className="text-sm">One sequence at the cluster&apos;s max context: {pair.fitSummary}</p> : null}
        {pair.report ? <CompatVerdicts verdicts={pair.report.verdicts} /> : null}
      </div>
    </details>
  );
}

/** Cluster page: is what the cluster serves compatible with its GPUs and engine? */
export function ClusterCompatibilityCard({ clusterId }: { clusterId: string }) {
  const trpc = useTRPC();
  const q = useQuery(trpc.capacity.clusterCompatibility.queryOptions({ clusterId }));
  return (
    <Card data-testid="cluster-compatibility">
      <CardHeader className="flex flex-row items-center justify-between gap-2 pb-2">
        <CardTitle className="text-base">Compatibility of what it serves</CardTitle>
        <Link href="/planner" className="text-sm text-primary underline-offset-4 hover:underline">
          Open the planner
        </Link>
      </CardHeader>
      <CardContent>
        <QueryView
          query={q}
          skeleton={<Skeleton className="h-12" />}
          isEmpty={(d) => d.verdicts.length === 0}
          empty={<EmptyState title="Nothing deployed" description="Verdicts appear once an artifact is deployed on this cluster." />}
        >
          {(d) => (
            <div className="grid gap-2">
              {d.verdicts.map((v) => (
                <PairSummary key={v.artifactId} pair={v} title={v.artifactLabel} />
              ))}
            </div>
          )}
        </QueryView>
      </CardContent>
    </Card>
  );
}

/** Revision page: which of the revision's artifacts can run on which cluster. */
export function RevisionCompatibilityCard({ revisionId }: { revisionId: string }) {
  const trpc = useTRPC();
  const q = useQuery(trpc.capacity.revisionCompatibility.queryOptions({ revisionId }));
  return (
    <Card data-testid="revision-compatibility">
      <CardHeader className="pb-2">
        <CardTitle className="text-base">Where its artifacts can run</CardTitle>
      </CardHeader>
      <CardContent>
        <QueryView
          query={q}
          skeleton={<Skeleton className="h-12" />}
          isEmpty={(d) => d.verdicts.length === 0}
          empty={
            <EmptyState title="No artifacts yet" description="Verdicts appear once a pipeline has produced an artifact of this revision." />
          }
        >
          {(d) => (
            <div className="grid gap-2">
              {d.verdicts.map((v) => (
                <PairSummary key={`${v.artifactId}:${v.clusterId}`} pair={v} title={`${v.artifactLabel} → ${v.clusterName}`} />
              ))}
            </div>
          )}
        </QueryView>
      </CardContent>
    </Card>
  );
}
